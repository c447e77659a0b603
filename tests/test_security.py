"""Redirect targets from the request stay on this site; every response carries the security headers;
no template has inline script or style."""

import re
from pathlib import Path

import pytest
from support import PASSWORD

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    "https://evil.example/",
    "//evil.example/x",
    "///evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/\\/evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/\r\nSet-Cookie: x=1",
    "/\nLocation: https://evil.example",
    "/\tevil",
    "/ /evil.example",
    "\x00/evil",
    "/\u2215evil.example",  # division slash
    "/\uff0fevil.example",  # fullwidth solidus
    "\u3002evil.example",
    "/ａccount",
    "data:text/html,<script>alert(1)</script>",
    " /account",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_never_follows_a_hostile_next(client, cell, target):
    from urllib.parse import quote

    # Percent-encoded, and for CR/LF also as the raw "%0d%0a" of the review's request.
    raw = [target.replace("\r", "%0d").replace("\n", "%0a")] if "\r" in target or "\n" in target else []
    for query in (quote(target, safe=""), *raw):
        response = client.post(f"/login?next={query}", data={"username": "member1", "password": PASSWORD})
        assert response.status_code == 302 and response.location == "/", (target, response.location)
        client.post("/logout")


def test_sign_in_follows_a_local_next(client, cell):
    response = client.post("/login?next=/account%3Fx%3D1", data={"username": "member1", "password": PASSWORD})
    assert response.location == "/account?x=1"


@pytest.mark.parametrize(
    "target",
    HOSTILE
    + [
        "http://localhost//evil.example/x",
        "http://localhost/\\evil.example",
        "http://localhost.evil.example/x",
        "http://evil.example/x",
    ],
)
def test_language_switch_never_follows_a_hostile_referrer(client, cell, target):
    try:
        response = client.post("/lang/en", headers={"Referer": target})
    except ValueError:  # the test client itself refuses a header with CR/LF: nothing to test
        return
    assert response.status_code == 302 and response.location == "/", (target, response.location)


def test_language_switch_returns_to_the_same_page(client, cell):
    response = client.post("/lang/en", headers={"Referer": "http://localhost/login?x=1"})
    assert response.location == "/login?x=1"


def test_read_all_notifications_never_follows_a_hostile_referrer(client, cell, login):
    login("member1")
    response = client.post("/notifications/read-all", headers={"Referer": "http://localhost//evil.example/x"})
    assert response.location == "/notifications/"


# --- headers --------------------------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    policy = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


def test_every_page_has_a_strict_policy(client, cell, login):
    for response in (client.get("/login"), client.get("/does-not-exist")):
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert "unsafe" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_signed_in_pages_are_not_stored_but_static_files_are_cacheable(client, cell, login):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login("member1")
    for path in ("/", "/account", "/notifications/"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    static = client.get("/static/css/intranet.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    assert static.headers["X-Content-Type-Options"] == "nosniff"


def test_a_live_poll_keeps_its_revalidation(client, app, qcell, login):
    from test_questions import _meeting

    sid = _meeting(app)
    login("member1")
    first = client.get(f"/questions/sessions/{sid}/poll/queue")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache, private" and first.headers["ETag"]
    again = client.get(f"/questions/sessions/{sid}/poll/queue", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "no-cache, private"


def test_only_the_room_frames_the_offices_jitsi(client, app, qcell, login):
    from test_meetings import _configure, _online

    _configure(app, backup_domains="backup.meet.test")
    sid = _online(app)
    login("member1")
    policy = _policy(client.get(f"/meetings/sessions/{sid}"))
    assert policy["frame-src"] == ["https://meet.test", "https://backup.meet.test"]
    assert policy["script-src"] == ["'self'", "https://meet.test", "https://backup.meet.test"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert _policy(client.get(f"/meetings/sessions/{sid}/follow"))["frame-src"] == ["'none'"]


# --- templates -----------------------------------------------------------------------------------

TEMPLATES = sorted([*ROOT.glob("intranet/templates/**/*.html"), *ROOT.glob("plugins/*/templates/**/*.html")])


def test_no_template_has_inline_script_handlers_or_style():
    offenders = []
    for path in TEMPLATES:
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                offenders.append(f"{path.relative_to(ROOT)}: inline <script>")
        for match in re.finditer(r"\s(on[a-z]+)\s*=", text):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(1)}= handler")
        if re.search(r"\sstyle\s*=", text) or "<style" in text:
            offenders.append(f"{path.relative_to(ROOT)}: inline style")
        if "javascript:" in text.lower():
            offenders.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert not offenders, offenders
