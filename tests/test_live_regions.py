"""Declared live regions (intranet/live_regions.py): the routes made from a plugin's declarations, with
every check, through the outside test plugin's regions (tests/outside_plugin/hello_plugin): ``notes``
for anyone of the office, ``count`` for the holders of ``hello.greet`` (members, not a bare admin)."""

import pytest
from flask import Blueprint

from intranet.live_regions import LiveRegions
from intranet.models import User


def _office(data, cell) -> int:
    return data.get(User, cell["member"]).office_id


def _frames(text: str) -> dict[str, str]:
    """A page poll's body (server-sent-event frames) as region -> data."""
    found = {}
    for block in filter(str.strip, text.split("\n\n")):
        lines = block.split("\n")
        name = next(line[7:] for line in lines if line.startswith("event: "))
        found[name] = "\n".join(line[6:] for line in lines if line.startswith("data: "))
    return found


def test_a_declared_region_gets_a_stream_and_a_poll(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    client.post("/hello/")
    office = _office(data, cell)
    polled = client.get(f"/hello/{office}/poll/notes,count")
    assert polled.status_code == 200 and polled.headers["ETag"]
    assert _frames(polled.text) == {"notes": '<ul id="notes"><li>hi</li></ul>', "count": '<p id="count">1</p>'}
    assert (
        client.get(f"/hello/{office}/poll/notes,count", headers={"If-None-Match": polled.headers["ETag"]}).status_code
        == 304
    )
    stream = client.get(f"/hello/{office}/stream?page=all", buffered=False)
    frames = (chunk.decode() for chunk in stream.response)
    assert stream.mimetype == "text/event-stream" and "event: ready" in next(frames)
    assert [f.split("\n")[1] for f in (next(frames), next(frames))] == ["event: notes", "event: count"]
    stream.close()


def test_the_first_page_declared_is_the_streams_default(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    stream = client.get(f"/hello/{_office(data, cell)}/stream", buffered=False)
    frames = (chunk.decode() for chunk in stream.response)
    next(frames)
    assert "event: notes\n" in next(frames)
    stream.close()


@pytest.mark.parametrize(
    "url", ["/hello/{office}/stream?page=all", "/hello/{office}/poll/notes", "/hello/{office}/poll/count"]
)
def test_the_declared_checks_guard_both_routes(app, client, data, cell, login, url):
    data.enable("hello", "DIST")
    data.enable("hello", "OTHER")
    url = url.format(office=_office(data, cell))
    assert client.get(url).status_code == 302  # signed out: the sign-in page
    login("othermember")
    assert client.get(url).status_code == 404  # another office's object
    login("member1")
    assert client.get(url).status_code == 200
    data.enable("hello", "DIST", False)
    assert client.get(url).status_code == 404  # the plugin off for the office


def test_a_region_the_viewer_is_not_allowed_is_refused(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("distadmin")  # an administrator of the office without the member role: no hello.greet
    office = _office(data, cell)
    assert client.get(f"/hello/{office}/poll/notes").status_code == 200
    assert client.get(f"/hello/{office}/poll/count").status_code == 403
    assert client.get(f"/hello/{office}/poll/notes,count").status_code == 403
    assert client.get(f"/hello/{office}/stream?page=all").status_code == 403
    assert client.get(f"/hello/{office}/stream?page=notes").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/hello/{office}/poll/nothing",
        "/hello/{office}/poll/notes,notes",
        "/hello/{office}/poll/notes,",
        "/hello/{office}/stream?page=nothing",
    ],
)
def test_undeclared_regions_and_pages_are_404(app, client, data, cell, login, url):
    data.enable("hello", "DIST")
    login("member1")
    assert client.get(url.format(office=_office(data, cell))).status_code == 404


def test_a_mistaken_declaration_fails_at_start_up():
    regions = LiveRegions(Blueprint("declared", __name__), "/<int:thing_id>", load=lambda thing_id: thing_id)
    regions.region("one", lambda thing_id: f"thing:{thing_id}", lambda thing_id: "")
    for name in ("one", "", "a,b"):
        with pytest.raises(ValueError):
            regions.region(name, lambda thing_id: "", lambda thing_id: "")
    with pytest.raises(ValueError):
        regions.page("renamed", "one", "two")  # a page naming a region that is not (or no longer) declared
    regions.page("page", "one")
    with pytest.raises(ValueError):
        regions.page("page", "one")
