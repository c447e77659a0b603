"""Thin links: static files under content-hashed names, cached for good and pre-compressed; pages
compressed; streams and 304 polls left as they were (intranet/assets.py)."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import UTC
from pathlib import Path

import brotli

from intranet.assets import IMMUTABLE

ASSET = re.compile(r'(?:href|src)="(/[^"]*static/[^"]+)"')
HASHED = re.compile(r"\.([0-9a-f]{12})\.(css|js|svg)$")


def _office_id(data, cell):
    from intranet.models import User

    return data.get(User, cell["member"]).office_id


def _assets_of(page: str) -> list[str]:
    return ASSET.findall(page)


def test_every_static_link_of_a_page_is_hashed_and_cached_for_good(app, client, data, cell, login):
    login("member1")
    page = client.get("/").text
    links = _assets_of(page)
    assert len(links) >= 3  # Pico, intranet.css and the scripts' bundle
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


def test_an_unchanged_compressed_poll_is_still_answered_304_before_the_database(app, client, data, cell, login):
    """The compressor tags the compressed poll "v:br"; sent back, it must still match version v at once,
    not after the region was rendered again."""
    from sqlalchemy import event

    from intranet.extensions import db

    data.enable("hello", "DIST")
    login("member1")
    for _ in range(60):  # a region large enough to be compressed
        client.post("/hello/")
    office = _office_id(data, cell)
    first = client.get(f"/hello/{office}/poll/notes", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    queries = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args, **kwargs: queries.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        again = client.get(f"/hello/{office}/poll/notes", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert again.status_code == 304 and not again.data and queries == []


def test_event_streams_are_never_compressed(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    for _ in range(60):
        client.post("/hello/")
    response = client.get(
        f"/hello/{_office_id(data, cell)}/stream", headers={"Accept-Encoding": "gzip, br"}, buffered=False
    )
    assert response.mimetype == "text/event-stream" and "Content-Encoding" not in response.headers
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    assert "<li>hi</li>" in next(frames)  # readable frame by frame
    response.close()


# --- offline copies (intranet/offline.py) -------------------------------------------------------------


def _meeting(app, report: str = "Bản báo cáo lần thứ nhất") -> int:
    from datetime import datetime, timedelta

    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import Office, User
    from intranet_scheduling import services
    from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus

    with app.test_request_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        secretary = db.session.scalar(select(User).where(User.username == "bithu"))
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Chuyên đề",
            starts_at=datetime.now(UTC) + timedelta(minutes=5),
            duration_minutes=90,
            place="",
            mode=SessionMode.ONLINE,
        )
        _upload(session, report, secretary)
        services.add_question(session, "Khó khăn lớn nhất là gì?", secretary)
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return session.id


def _upload(session, text: str, actor) -> None:
    import io

    import docx

    from intranet_scheduling import documents
    from intranet_scheduling.models import DocumentKind

    report = docx.Document()
    report.add_paragraph(text)
    data = io.BytesIO()
    report.save(data)
    documents.upload(session, DocumentKind.REPORT, "bao-cao.docx", data.getvalue(), actor)


def test_the_service_worker_is_served_at_the_root_of_the_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "caches" in response.text and response.headers["Cache-Control"] == "max-age=3600"


def test_follow_along_and_queue_pages_are_stored_offline_others_not(app, client, data, cell, login):
    sid = _meeting(app)
    login("member1")
    assert client.get(f"/meetings/sessions/{sid}/follow").headers["X-Offline-Copy"] == "shell"
    assert client.get(f"/questions/sessions/{sid}").headers["X-Offline-Copy"] == "shell"
    assert "X-Offline-Copy" not in client.get("/").headers
    assert "X-Offline-Copy" not in client.get(f"/meetings/sessions/{sid}/poll/notes").headers


def test_documents_page_carries_text_versions_and_questions(app, client, data, cell, login):
    sid = _meeting(app)
    login("member1")
    follow = client.get(f"/meetings/sessions/{sid}/follow").text
    page = client.get(f"/meetings/sessions/{sid}/documents")
    assert page.headers["X-Offline-Copy"] == "kept"
    assert "Bản báo cáo lần thứ nhất" in page.text and "Khó khăn lớn nhất là gì?" in page.text
    assert "Phiên bản 1" in page.text
    version = page.headers["X-Offline-Version"]
    assert f'data-keep-version="{version}"' in follow
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import User
    from intranet_scheduling.models import Meeting

    with app.test_request_context():
        _upload(
            db.session.get(Meeting, sid),
            "Bản báo cáo lần thứ hai",
            db.session.scalar(select(User).where(User.username == "bithu")),
        )
        db.session.commit()
    newer = client.get(f"/meetings/sessions/{sid}/documents")
    assert "Bản báo cáo lần thứ hai" in newer.text and "Phiên bản 2" in newer.text
    assert newer.headers["X-Offline-Version"] != version


def test_documents_of_another_office_are_not_shown(app, client, data, cell, login):
    sid = _meeting(app)
    login("othermember")
    assert client.get(f"/meetings/sessions/{sid}/documents").status_code == 404


def test_the_scripts_every_page_runs_come_as_one_bundle_in_their_order(app, client, data, cell, login):
    from intranet.assets import BUNDLES

    login("member1")
    scripts = re.findall(r'<script src="(/static/[^"]+)"', client.get("/").text)
    assert len(scripts) == 1 and "/js/base." in scripts[0]
    bundle = client.get(scripts[0], headers={"Accept-Encoding": "identity"})
    assert bundle.headers["Cache-Control"] == IMMUTABLE
    parts = [Path(app.static_folder, part).read_bytes().rstrip() for part in BUNDLES["static"]["js/base.js"]]
    positions = [bundle.data.index(part) for part in parts]
    assert positions == sorted(positions) and b"var htmx=" in parts[0]


def test_the_follow_along_pages_first_visit_is_at_most_40_kb_in_brotli(app, client, data, cell, login):
    """Issue 14's budget for a weak link: the page and every file it links, as a browser accepting
    brotli receives them (bodies; the favicon and the service worker included)."""
    sid = _meeting(app)
    login("member1")
    br = {"Accept-Encoding": "gzip, deflate, br"}
    page = client.get(f"/meetings/sessions/{sid}/follow", headers=br)
    html = brotli.decompress(page.data).decode()
    links = re.findall(r'(?:href|src)="(/[^"]*static/[^"]+)"', html) + ["/sw.js"]
    total = len(page.data) + sum(len(client.get(link, headers=br).data) for link in links)
    assert any("/js/base." in link for link in links) and any("favicon" in link for link in links)
    assert total <= 40 * 1024, total  # 34.7 KB when written
