"""Closing a meeting in the browser: the secretary closes it, records the conclusion and a task, edits
and signs the minutes and downloads the .docx; three members rate it; the review shows the figures."""

import re
from datetime import UTC, datetime, timedelta

import docx
from playwright.sync_api import expect
from sqlalchemy import select
from support import shot, sign_in

from intranet.extensions import db
from intranet.models import Office
from intranet_scheduling import services
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus


def _meeting_in_progress(app) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Chuyên đề quý IV",
            starts_at=datetime.now(UTC) - timedelta(hours=2),
            duration_minutes=120,
            place="Hội trường",
            mode=SessionMode.IN_PERSON,
            record_past=True,
        )
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        services.take_attendance(session, {u.id for u in services.members(dist.id)}, None)
        db.session.commit()
        return session.id


def test_secretary_closes_signs_and_members_rate(page, browser, live_server, app, data, cell, tmp_path):
    data.user("member2", "DIST", full_name="Võ Thị Hà")
    data.user("chiuy", "DIST", roles=("committee", "member"), full_name="Lê Minh Tâm")
    sid = _meeting_in_progress(app)

    sign_in(page, "bithu")
    page.goto(f"/scheduling/sessions/{sid}")
    page.get_by_role("button", name="Chuyển sang: Đã kết thúc").click()
    page.get_by_role("button", name="Kết luận, biên bản và chấm điểm").click()

    page.get_by_label("Thư ký").select_option(label="Lê Minh Tâm")
    page.get_by_label("Kết luận").fill("Buổi sinh hoạt chất lượng; đề nghị thực hiện nghiêm các nhiệm vụ.")
    page.get_by_role("button", name="Ban hành kết luận").click()
    expect(page.locator(".flash-success")).to_have_text("Đã ban hành kết luận.")
    page.get_by_label("Nhiệm vụ", exact=True).fill("Xây dựng kế hoạch cá nhân")
    page.get_by_label("Người thực hiện").select_option(label="Member1")
    page.get_by_label("Thời hạn").fill((datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Thêm nhiệm vụ").click()
    expect(page.locator("#tasks")).to_contain_text("Xây dựng kế hoạch cá nhân")

    page.locator("#doc-minutes").get_by_role("button", name="Soạn từ diễn biến buổi họp").click()
    expect(page.get_by_role("heading", name=re.compile("BIÊN BẢN"))).to_contain_text("chuyên đề “Chuyên đề quý IV”")
    conclusion = page.get_by_label("3. Kết luận của đồng chí chủ trì")
    expect(conclusion).to_have_value("Buổi sinh hoạt chất lượng; đề nghị thực hiện nghiêm các nhiệm vụ.")
    conclusion.fill("Buổi sinh hoạt chất lượng. Chi bộ thống nhất các nhiệm vụ dưới đây.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Ký", exact=True).click()
    expect(page.locator("#document-state")).to_have_text("Đã ký")
    shot(page, "evaluations-minutes")
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải .docx").click()
    path = tmp_path / "bien-ban.docx"
    download.value.save_as(path)
    opened = docx.Document(str(path))
    paragraphs = [p.text for p in opened.paragraphs]
    assert "BIÊN BẢN" in paragraphs
    assert "Buổi sinh hoạt chất lượng. Chi bộ thống nhất các nhiệm vụ dưới đây." in paragraphs
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in opened.tables[0].rows[0].cells[1].text

    for username, scores in (("member1", "5"), ("member2", "4"), ("chiuy", "4")):
        member = browser.new_context(base_url=live_server).new_page()
        sign_in(member, username)
        member.goto(f"/evaluations/sessions/{sid}")
        for legend in ("Chuẩn bị", "Nội dung", "Thảo luận"):
            member.locator("fieldset", has=member.get_by_text(legend, exact=True)).get_by_label(scores).check()
        member.get_by_label("Góp ý (ẩn danh)").fill(f"Góp ý của {username}")
        member.get_by_role("button", name="Gửi điểm của tôi").click()
        expect(member.locator(".flash-success")).to_contain_text("không kèm tên")
        member.context.close()

    page.goto(f"/evaluations/sessions/{sid}")
    expect(page.locator("#ratings")).to_contain_text("3 người đã chấm điểm")
    expect(page.locator("#ratings")).to_contain_text("4,3")  # (5 + 4 + 4) / 3, with a Vietnamese comma
    page.goto(f"/evaluations/review?year={datetime.now().year}")
    expect(page.locator("#attendance-rate")).to_have_text("100\u00a0%")
    expect(page.locator("#tasks-figure")).to_have_text("0/0/1")
    expect(page.locator("#review-sessions")).to_contain_text("Chuyên đề quý IV")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-attendance')")
    shot(page, "evaluations-review")


def _quarter_of_meetings(app) -> None:
    """Three meetings held last month with the queue used: the secretary chaired, member2 spoke in the
    hall, member1 attended each in silence."""
    from intranet.models import User
    from intranet_evaluations import services as evaluations
    from intranet_questions import services as queue

    when = datetime.now(UTC).replace(day=1) - timedelta(days=1)
    with app.test_request_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        secretary, speaker = (db.session.scalar(select(User).where(User.username == u)) for u in ("bithu", "member2"))
        for ago in (5, 3, 1):
            session = services.create_session(
                dist,
                kind=SessionKind.REGULAR,
                title=f"Sinh hoạt ngày {ago}",
                starts_at=when - timedelta(days=ago),
                duration_minutes=90,
                place="Hội trường",
                mode=SessionMode.IN_PERSON,
                record_past=True,
            )
            services.advance(session, SessionStatus.IN_PROGRESS, None)
            services.take_attendance(session, {u.id for u in services.members(dist.id)}, None)
            evaluations.save_record(session, secretary, chair=secretary, taker=None, conclusion="Kết luận", final=True)
            turn = queue.add_hall_speaker(session, speaker, secretary)
            queue.give_floor(turn, secretary)
            services.advance(session, SessionStatus.CLOSED, None)
        db.session.commit()
    return when


def test_the_passive_list_is_fair_and_a_reminder_is_confirmed_and_listed(page, app, data, cell):
    data.user("member2", "DIST", full_name="Võ Thị Hà")
    when = _quarter_of_meetings(app)
    sign_in(page, "bithu")
    page.goto(f"/evaluations/participation?year={(when - timedelta(days=5)).year}")
    silent = page.locator(f"#member-{cell['member']}")
    expect(silent).to_contain_text("Thụ động")
    expect(page.locator(f"#member-{cell['secretary']}")).not_to_contain_text("Thụ động")  # chaired
    expect(page.locator("tr", has_text="Võ Thị Hà")).not_to_contain_text("Thụ động")  # spoke in the hall

    silent.locator("summary", has_text="Nhắc nhở").click()
    silent.get_by_label("Lý do nhắc nhở").fill("Ba buổi liền chưa phát biểu; đề nghị đồng chí chuẩn bị ý kiến")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    silent.get_by_role("button", name="Gửi nhắc nhở").click()
    assert asked and "Member1" in asked[0]
    expect(page.locator(".flash-success")).to_have_count(0)  # dismissed: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    silent.get_by_role("button", name="Gửi nhắc nhở").click()
    expect(page.locator(".flash-success")).to_have_text("Đã gửi nhắc nhở.")
    expect(page.locator("body")).to_contain_text("Member1: Ba buổi liền chưa phát biểu")
    shot(page, "evaluations-participation")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "evaluations-participation-phone")


def test_the_secretary_weighs_a_criterion_and_the_meeting_is_classified_again(page, browser, live_server, app, cell):
    """All present for two hours, but no document sent and no conclusion yet: 4 of 8 weighted points,
    "Trung bình"; once the cell no longer weighs documents, 4 of 6: "Khá"."""
    sid = _meeting_in_progress(app)
    with app.app_context():
        from intranet_scheduling.models import Meeting

        services.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    sign_in(page, "bithu")
    page.goto(f"/evaluations/sessions/{sid}")
    grade = page.locator("#classification h2")
    expect(grade).to_have_text("Xếp loại: Trung bình")
    expect(page.locator("#criterion-documents")).to_contain_text("chưa gửi")
    page.get_by_role("link", name="Điều chỉnh tiêu chí và trọng số").click()
    page.locator("#classification summary").click()
    page.get_by_label("Gửi tài liệu trước: Trọng số").fill("0")
    page.locator("#classification").get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash-success")).to_have_text("Đã lưu cách xếp loại buổi sinh hoạt.")
    page.goto(f"/evaluations/sessions/{sid}")
    expect(grade).to_have_text("Xếp loại: Khá")
    expect(page.locator("#criterion-documents")).to_contain_text("không tính")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, "evaluations-classification")
    page.goto(f"/evaluations/review?year={datetime.now().year}")
    expect(page.locator("#review-sessions")).to_contain_text("Khá")
    phone = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, "bithu")
    for url in (f"/evaluations/sessions/{sid}", "/evaluations/participation"):
        phone.goto(url)
        phone.locator("#classification summary, #classification h2").first.click()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, url
    shot(phone, "evaluations-classification-phone")
    phone.context.close()


def test_a_secret_ballots_tally_report_is_edited_signed_and_downloaded(page, browser, live_server, app, cell, tmp_path):
    """The counting committee's report, drafted when the votes plugin reports the count (the hook, as
    it calls it), goes through the minutes' flow: open from the meeting, edit, sign, download."""
    from test_evaluations_votes import PASSED, _result

    from intranet.plugins import manager
    from intranet_scheduling.models import Meeting

    sid = _meeting_in_progress(app)
    with app.app_context():
        meeting = db.session.get(Meeting, sid)
        result = _result(counting_committee=("Lê Minh Tâm", "Member1"), closed_at=datetime.now(UTC))
        manager().for_office(meeting.office_id).intranet_session_vote_closed(session=meeting, result=result)
        db.session.commit()

    sign_in(page, "bithu")
    page.goto(f"/evaluations/sessions/{sid}")
    tally = page.locator("#doc-tally-1")
    expect(tally).to_contain_text("Biên bản kiểm phiếu")
    expect(tally).to_contain_text("Nháp")
    tally.get_by_role("link", name="Mở").click()
    expect(page.get_by_role("heading", name=re.compile("BIÊN BẢN KIỂM PHIẾU"))).to_contain_text(
        "Thông qua Nghị quyết: Nghị quyết chuyên đề học tập"
    )
    expect(page.get_by_label("II. KẾT QUẢ BIỂU QUYẾT")).to_have_value(f"{PASSED}.")
    closing = page.locator("textarea[name=section]").last
    closing.fill("Biên bản kiểm phiếu được công bố trước chi bộ lúc kết thúc buổi sinh hoạt.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Ký", exact=True).click()
    expect(page.locator("#document-state")).to_have_text("Đã ký")
    shot(page, "evaluations-tally")
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải .docx").click()
    path = tmp_path / "bien-ban-kiem-phieu.docx"
    download.value.save_as(path)
    opened = docx.Document(str(path))
    paragraphs = [p.text for p in opened.paragraphs]
    assert "BIÊN BẢN KIỂM PHIẾU" in paragraphs and f"{PASSED}." in paragraphs
    assert "Biên bản kiểm phiếu được công bố trước chi bộ lúc kết thúc buổi sinh hoạt." in paragraphs
    assert opened.tables[-1].rows[0].cells[1].paragraphs[-1].text == "Lê Minh Tâm"

    phone = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, "bithu")
    phone.goto(page.url)
    expect(phone.locator("#document-state")).to_have_text("Đã ký")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "evaluations-tally-phone")
    phone.goto(f"/evaluations/sessions/{sid}#documents")
    expect(phone.locator("#doc-tally-1")).to_contain_text("Đã ký")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "evaluations-tally-row-phone", full_page=False)
    phone.context.close()
