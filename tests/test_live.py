"""The live bus: publish/subscribe, SSE streaming with coalescing, ETag polling without a database
query, and (with REDIS_URL) fan-out across processes."""

import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import event

from intranet import live
from intranet.extensions import db


def test_in_process_publish_reaches_every_subscriber_in_order():
    bus = live.InProcessBus()
    with bus.subscribe("room") as a, bus.subscribe("room") as b, bus.subscribe("elsewhere") as c:
        assert bus.publish("room", {"n": 1}) == 1
        assert bus.publish("room", {"n": 2}) == 2
        assert [a.get(1).data["n"], a.get(1).data["n"]] == [1, 2]
        assert b.get(1).version == 1
        assert c.get(0.01) is None
    assert bus.subscriber_count() == 0
    assert bus.version("room") == 2 and bus.version("never") == 0


def test_a_stalled_subscriber_keeps_the_newest_event():
    bus = live.InProcessBus()
    with bus.subscribe("room") as sub:
        for n in range(300):
            bus.publish("room", n)
        events = sub.drain()
        assert events[-1].data == 299 and len(events) <= 256


def _count_queries(app):
    counter = {"n": 0}

    def before(*args, **kwargs):
        counter["n"] += 1

    return counter, before


def test_unchanged_poll_is_answered_304_without_a_database_query(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    dist = client.get("/hello/").text  # warm up
    office = data.get(__import__("intranet.models", fromlist=["User"]).User, cell["member"]).office_id
    first = client.get(f"/hello/{office}/poll/notes")
    assert first.status_code == 200 and first.headers["ETag"]
    etag = first.headers["ETag"]
    with app.app_context():
        engine = db.engine
    counter, before = _count_queries(app)
    event.listen(engine, "before_cursor_execute", before)
    try:
        unchanged = client.get(f"/hello/{office}/poll/notes", headers={"If-None-Match": etag})
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert unchanged.status_code == 304 and counter["n"] == 0
    client.post("/hello/")
    changed = client.get(f"/hello/{office}/poll/notes", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "<li>hi</li>" in changed.text and changed.headers["ETag"] != etag
    assert dist


def test_poll_etag_is_bound_to_the_user(app, client, data, cell, login):
    """Another user's (or an anonymous) request with a copied ETag is not answered from it."""
    data.enable("hello", "DIST")
    data.user("member2", "DIST")
    login("member1")
    office = client.get("/hello/").text and _office_id(data, cell)
    etag = client.get(f"/hello/{office}/poll/notes").headers["ETag"]
    anonymous = app.test_client().get(f"/hello/{office}/poll/notes", headers={"If-None-Match": etag})
    assert anonymous.status_code == 302
    other = app.test_client()
    login("member2", c=other)
    assert other.get(f"/hello/{office}/poll/notes", headers={"If-None-Match": etag}).status_code == 200


def _office_id(data, cell):
    from intranet.models import User

    return data.get(User, cell["member"]).office_id


def test_poll_of_another_office_is_404(app, client, data, cell, login):
    data.enable("hello", "DIST")
    data.enable("hello", "OTHER")
    login("othermember")
    assert client.get(f"/hello/{_office_id(data, cell)}/poll/notes").status_code == 404


def test_sse_streams_the_region_then_each_change(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    poster = app.test_client()
    login("member1", c=poster)  # before the stream opens: the test client shares its open context
    office = _office_id(data, cell)
    response = client.get(f"/hello/{office}/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    first = next(frames)
    assert first.startswith("id: ") and "\nevent: notes\n" in first and '<ul id="notes"></ul>' in first
    start = int(first.split("\n")[0].split()[1])

    def burst():
        time.sleep(0.05)
        for _ in range(5):
            poster.post("/hello/")

    threading.Thread(target=burst).start()
    second = next(frames)
    assert "event: notes" in second and "<li>hi</li>" in second
    # The burst is coalesced: far fewer frames than publications, and the last one shows all five.
    seen = second  # a frame is rendered after its version is read: it may show a later change too
    while int(seen.split("\n")[0].split()[1]) < start + 5:
        seen = next(frames)
    assert int(seen.split("\n")[0].split()[1]) == start + 5 and seen.count("<li>hi</li>") == 5
    response.close()


def test_readyz_reports_database_and_bus(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["database"]["status"] == "ok" and body["rate_limits"]["status"] == "ok"
    assert body["live_bus"]["backend"] == ("redis" if os.environ.get("REDIS_URL") else "inprocess")


redis_only = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")

PUBLISHER = """
import sys
from intranet.live import RedisBus
bus = RedisBus(sys.argv[1], sys.argv[2])
print(bus.publish("room:1", {"from": "other process"}))
"""


@redis_only
def test_redis_event_from_another_process_reaches_a_subscriber_here():
    prefix = f"intranet-test-{os.getpid()}-xproc"
    bus = live.RedisBus(os.environ["REDIS_URL"], prefix)
    with bus.subscribe("room:1") as sub:
        out = subprocess.run(
            [sys.executable, "-c", PUBLISHER, os.environ["REDIS_URL"], prefix],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        got = sub.get(timeout=5)
    assert got is not None and got.data == {"from": "other process"}
    assert got.version == int(out.stdout.strip()) == bus.version("room:1")


@redis_only
def test_redis_subscriber_in_a_server_process_gets_events_published_here():
    """Another process holds the subscription (as a worker holding SSE streams would); this one publishes."""
    prefix = f"intranet-test-{os.getpid()}-sse"
    bus = live.RedisBus(os.environ["REDIS_URL"], prefix)
    server = subprocess.Popen(
        [sys.executable, "-c", STREAM_SERVER, os.environ["REDIS_URL"], prefix], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout.readline().strip() == "subscribed"
        bus.publish("room:2", {"n": 1})
        line = server.stdout.readline().strip()
        assert line == 'id: 1 data: {"n": 1}'
    finally:
        server.kill()


STREAM_SERVER = """
import sys, json
from intranet.live import RedisBus
bus = RedisBus(sys.argv[1], sys.argv[2])
with bus.subscribe("room:2") as sub:
    print("subscribed", flush=True)
    got = sub.get(timeout=10)
    print(f"id: {got.version} data: {json.dumps(got.data)}", flush=True)
"""


def test_polls_render_in_full_when_the_bus_is_unreachable(app, client, data, cell, login, monkeypatch):
    data.enable("hello", "DIST")
    login("member1")
    office = _office_id(data, cell)
    etag = client.get(f"/hello/{office}/poll/notes").headers["ETag"]

    def down(channel):
        raise ConnectionError("redis is away")

    monkeypatch.setattr(app.extensions["intranet_live"], "version", down)
    response = client.get(f"/hello/{office}/poll/notes", headers={"If-None-Match": etag})
    assert response.status_code == 200 and '<ul id="notes">' in response.text and "ETag" not in response.headers


def test_a_prompt_change_is_sent_without_waiting_out_the_coalescing(app):
    """A vote waits for the region's interval (here 30 s); a new question published as PROMPT goes at
    once and carries the vote's change with it."""
    channel = f"prompt-{os.getpid()}"
    with app.test_request_context("/"):
        renders = iter(range(100))
        response = live.sse_stream([live.Region("queue", channel, lambda: f"render {next(renders)}")], min_interval=30)
        frames = iter(response.response)
        assert next(frames).startswith("retry:")
        assert "render 0" in next(frames)
        start = live.bus().version(channel)
        live.publish(channel)  # a vote
        live.publish(channel, live.PROMPT)  # a question
        got = []

        def read():
            with app.app_context():  # contexts are per thread; the stream ends its transaction between frames
                got.append(next(frames))

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)  # far less than the 30 s a coalesced change would wait
        assert got and got[0].startswith(f"id: {start + 2}\n") and "render 1" in got[0]
        response.close()
