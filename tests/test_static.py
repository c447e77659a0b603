"""Thin links: static files under content-hashed names, cached for good and pre-compressed; pages
compressed; streams and 304 polls left as they were (intranet/assets.py)."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from intranet.assets import IMMUTABLE

ASSET = re.compile(r'(?:href|src)="(/[^"]*static/[^"]+)"')
HASHED = re.compile(r"\.([0-9a-f]{12})\.(css|js)$")


def _office_id(data, cell):
    from intranet.models import User

    return data.get(User, cell["member"]).office_id


def _assets_of(page: str) -> list[str]:
    return ASSET.findall(page)


def test_every_static_link_of_a_page_is_hashed_and_cached_for_good(app, client, data, cell, login):
    login("member1")
    page = client.get("/").text
    links = _assets_of(page)
    assert len(links) >= 5
    for link in links:
        digest = HASHED.search(link)
        assert digest, f"{link} has no content hash"
        response = client.get(link)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert hashlib.sha256(response.data).hexdigest()[:12] == digest.group(1)  # the name is the content's


def test_a_plugin_static_file_is_hashed_too(app, client, data, cell, login):
    from flask import url_for

    with app.test_request_context():
        link = url_for("questions.static", filename="questions/questions.js")
    assert link.startswith("/questions/static/questions/questions.") and HASHED.search(link)
    response = client.get(link)
    source = Path(app.blueprints["questions"].static_folder, "questions/questions.js").read_bytes()
    assert response.headers["Cache-Control"] == IMMUTABLE and response.data == source


def test_static_files_come_compressed_as_the_browser_accepts(app, client):
    from flask import url_for

    with app.test_request_context():
        link = url_for("static", filename="vendor/pico/pico.red.min.css")
    plain = client.get(link, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    br = client.get(link, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data) == plain.data
    assert len(br.data) < len(plain.data) / 4
    gz = client.get(link, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == plain.data
    assert "Accept-Encoding" in br.headers["Vary"]


def test_a_name_without_its_hash_is_still_served_but_revalidated(client):
    response = client.get("/static/css/intranet.css")
    assert response.status_code == 200 and "immutable" not in response.headers.get("Cache-Control", "")


def test_pages_are_compressed(client, data, cell, login):
    login("member1")
    page = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["Content-Encoding"] == "br"
    assert "<main" in brotli.decompress(page.data).decode()
    assert client.get("/", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"


def test_an_unchanged_compressed_poll_is_still_answered_304(app, client, data, cell, login):
    """The compressor tags the compressed poll "v:br"; sent back, it must still match version v."""
    data.enable("hello", "DIST")
    login("member1")
    for _ in range(60):  # a region large enough to be compressed
        client.post("/hello/")
    office = _office_id(data, cell)
    first = client.get(f"/hello/{office}/poll", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    again = client.get(f"/hello/{office}/poll", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and not again.data


def test_event_streams_are_never_compressed(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    for _ in range(60):
        client.post("/hello/")
    response = client.get(f"/hello/{_office_id(data, cell)}/stream", headers={"Accept-Encoding": "gzip, br"},
                          buffered=False)
    assert response.mimetype == "text/event-stream" and "Content-Encoding" not in response.headers
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    assert "<li>hi</li>" in next(frames)  # readable frame by frame
    response.close()
