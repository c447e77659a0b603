"""Thin links in the browser: a repeat visit asks the server for nothing but the page; a meeting's
documents kept on the device open with no connection, and are refreshed when a new version is sent;
the follow-along and queue pages open offline and say so, the outbox holds a question until the link
returns; the link indicator says connected / offline."""

import io
from datetime import UTC, datetime, timedelta

import docx
from playwright.sync_api import expect
from sqlalchemy import select
from support import sign_in

from intranet.extensions import db
from intranet.models import Office, User
from intranet_questions.models import Question
from intranet_scheduling import documents, services
from intranet_scheduling.models import DocumentKind, Meeting, SessionKind, SessionMode, SessionStatus


def _report(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()


def _meeting_with_documents(app) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        secretary = db.session.scalar(select(User).where(User.username == "bithu"))
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Chuyên đề chuyển đổi số",
            starts_at=datetime.now(UTC) + timedelta(minutes=5),
            duration_minutes=90,
            place="",
            mode=SessionMode.ONLINE,
        )
        documents.upload(session, DocumentKind.REPORT, "bao-cao.docx", _report("Bản báo cáo lần thứ nhất"), secretary)
        services.add_question(session, "Khó khăn lớn nhất khi số hoá hồ sơ là gì?", secretary)
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return session.id


def _new_version(app, sid: int) -> None:
    with app.app_context():
        session = db.session.get(Meeting, sid)
        secretary = db.session.scalar(select(User).where(User.username == "bithu"))
        documents.upload(session, DocumentKind.REPORT, "bao-cao.docx", _report("Bản báo cáo lần thứ hai"), secretary)
        db.session.commit()


def _member_page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, "member1")
    return context, page


def _ready(page) -> None:
    """The service worker controls the page (it was registered on an earlier page)."""
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()


def test_a_repeat_visit_fetches_only_the_page(browser, live_server, app, cell):
    sid = _meeting_with_documents(app)
    context, page = _member_page(browser, live_server)
    page.goto(f"/meetings/sessions/{sid}/follow")
    page.wait_for_load_state("load")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sent, cached, answered = {}, set(), {}
    cdp.on("Network.requestWillBeSent", lambda e: sent.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived", lambda e: answered.__setitem__(e["requestId"], e["response"]))
    page.goto(f"/meetings/sessions/{sid}/follow")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.evaluate("() => getComputedStyle(document.querySelector('.site-header')).position") is not None
    statics = [rid for rid, url in sent.items() if "/static/" in url]
    # Each one comes from the browser's cache: no request, not even a revalidation (a 304).
    reached = [sent[rid] for rid in statics if rid not in cached and not answered.get(rid, {}).get("fromDiskCache")]
    assert reached == []
    assert all(answered[rid]["status"] == 200 for rid in statics if rid in answered)
    context.close()


def test_kept_documents_and_the_page_shells_open_offline(browser, live_server, app, cell):
    sid = _meeting_with_documents(app)
    context, page = _member_page(browser, live_server)
    page.goto(f"/meetings/sessions/{sid}/follow")
    _ready(page)
    indicator = page.locator("[data-link-state]")
    expect(indicator).to_have_attribute("data-state", "connected")
    keep = page.locator("[data-keep]")
    keep.click()
    expect(page.locator("[data-keep-status]")).to_contain_text("Đã lưu trên thiết bị này")
    expect(keep).to_be_hidden()
    page.goto(f"/questions/sessions/{sid}")  # the queue page is stored as it passes
    expect(page.locator("#ask")).to_be_visible()

    context.set_offline(True)
    page.goto(f"/meetings/sessions/{sid}/documents")
    expect(page.locator(".offline-copy-note")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Bản báo cáo lần thứ nhất")
    expect(page.locator("#discussion-questions")).to_contain_text("Khó khăn lớn nhất khi số hoá hồ sơ")
    expect(page.locator("body")).to_contain_text("Phiên bản 1")

    page.goto(f"/meetings/sessions/{sid}/follow")
    expect(page.locator(".offline-copy-note")).to_be_visible()
    expect(page.locator("[data-link-state]")).to_have_attribute("data-state", "offline")

    page.goto(f"/questions/sessions/{sid}")
    expect(page.locator(".offline-copy-note")).to_be_visible()
    page.fill("#ask textarea[name=text]", "Câu hỏi gửi khi mất kết nối")
    page.locator("#ask button[type=submit]").click()
    expect(page.locator("[data-outbox-for=question]")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Question).where(Question.text == "Câu hỏi gửi khi mất kết nối")) is None

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-outbox-for=question]")).to_be_hidden(timeout=20_000)
    with app.app_context():
        assert db.session.scalar(select(Question).where(Question.text == "Câu hỏi gửi khi mất kết nối"))

    # A new version is sent: the follow-along page sees its copy is out of date and fetches the new one.
    _new_version(app, sid)
    page.goto(f"/meetings/sessions/{sid}/follow")
    expect(page.locator("[data-keep-status]")).to_contain_text("phiên bản mới")
    context.set_offline(True)
    page.goto(f"/meetings/sessions/{sid}/documents")
    expect(page.locator("body")).to_contain_text("Bản báo cáo lần thứ hai")
    expect(page.locator("body")).to_contain_text("Phiên bản 2")
    context.set_offline(False)

    # Signing out forgets what was kept.
    page.locator("form[data-forget-offline] button").click()
    page.wait_for_url("**/login**")
    assert page.evaluate("() => caches.has('intranet-offline-v1')") is False
    context.close()
