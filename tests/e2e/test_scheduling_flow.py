"""A quarter in the browser: the secretary plans the programme and a thematic meeting and assigns the
group, the committee sets the questions, a member answers, distancing mode turns the meeting online."""

from datetime import datetime, timedelta

import docx
from playwright.sync_api import expect
from support import shot, sign_in


def test_a_quarter_of_the_cell(page, browser, live_server, data, cell, tmp_path):
    data.user("chiuy", "DIST", roles=("committee", "member"), full_name="Lê Minh Tâm")
    data.user("member2", "DIST", full_name="Võ Thị Hà")
    data.user("member3", "DIST", full_name="Huỳnh Phong")
    when = datetime.now() + timedelta(days=21)

    sign_in(page, "bithu")
    page.locator("#main-nav").get_by_role("link", name="Chương trình").click()
    page.get_by_label("Quý").select_option("4")
    page.get_by_label("Chuyên đề", exact=True).fill("Nâng cao chất lượng kiểm sát")
    page.get_by_label("Người phụ trách").select_option(label="Member1")
    page.get_by_role("button", name="Thêm", exact=True).click()
    expect(page.locator("#programme-items")).to_contain_text("Nâng cao chất lượng kiểm sát")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Phê duyệt chương trình").click()
    expect(page.locator("#programme-status")).to_have_text("Đã phê duyệt")

    page.locator("#main-nav").get_by_role("link", name="Buổi sinh hoạt").click()
    page.get_by_role("button", name="Lên lịch sinh hoạt").click()
    page.get_by_label("Loại").select_option("thematic")
    page.get_by_label("Tên hoặc chủ đề").fill("Chuyên đề quý IV")
    page.get_by_label("Ngày", exact=True).fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Giờ bắt đầu").fill("08:00")
    page.get_by_label("Địa điểm").fill("Hội trường")
    page.get_by_label("Chuyên đề trong chương trình").select_option(index=1)
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lên lịch buổi sinh hoạt.")
    session_url = page.url

    page.locator("#group summary").click()
    page.get_by_label("Thành viên nhóm").select_option(label=["Member1", "Võ Thị Hà"])
    page.get_by_label("Trưởng nhóm").select_option(label="Member1")
    page.get_by_role("button", name="Lưu nhóm").click()
    expect(page.locator("#group")).to_contain_text("Member1 — trưởng nhóm")

    committee = browser.new_context(base_url=live_server).new_page()
    sign_in(committee, "chiuy")
    committee.goto(session_url)
    for text in ("Điểm mới của chuyên đề?", "Liên hệ thực tiễn đơn vị?", "Mỗi đảng viên cần làm gì?"):
        committee.get_by_label("Câu hỏi thảo luận mới").fill(text)
        committee.get_by_role("button", name="Thêm câu hỏi").click()
    expect(committee.locator("#questions ol li")).to_have_count(3)
    expect(committee.locator("#questions")).not_to_contain_text("Hướng dẫn là từ 3 đến 5")
    committee.context.close()

    member = browser.new_context(base_url=live_server).new_page()
    sign_in(member, "member2")
    expect(member.locator(".scheduling-home")).to_contain_text("Nhóm của bạn trình bày “Chuyên đề quý IV”")
    expect(member.locator("#unread-count")).to_have_text("1")  # told of the group duty
    member.locator("#bell").click()
    expect(member.locator("#notifications")).to_contain_text("Nhóm của bạn trình bày “Chuyên đề quý IV”.")
    member.goto(session_url)
    expect(member.locator("#questions")).to_contain_text("Liên hệ thực tiễn đơn vị?")  # the group sees them first
    member.get_by_label("Trả lời của tôi").select_option("excused")
    member.get_by_role("button", name="Gửi trả lời").click()
    expect(member.locator(".flash-error")).to_contain_text("Hãy cho biết lý do vắng mặt.")
    member.get_by_label("Trả lời của tôi").select_option("excused")
    member.get_by_label("Lý do (nếu vắng)").fill("Đi công tác")
    member.get_by_role("button", name="Gửi trả lời").click()
    expect(member.locator("#attendance")).to_contain_text("Tôi xin vắng — Đi công tác")
    report = tmp_path / "bao-cao-chuyen-de.docx"
    document = docx.Document()
    document.add_heading("Báo cáo chuyên đề quý IV", level=1)
    document.add_paragraph("Phần I. Thực trạng công tác kiểm sát")
    document.save(report)
    member.get_by_label("Tệp").set_input_files(str(report))
    member.get_by_role("button", name="Tải lên").click()
    expect(member.locator(".flash-success")).to_contain_text("“bao-cao-chuyen-de.docx” đã được tải lên (phiên bản 1).")
    member.goto("/account")
    member.get_by_role("button", name="Tạo đường dẫn lịch của tôi").click()
    feed_url = member.locator("#calendar-url").input_value()
    feed = member.context.request.get(feed_url)
    assert feed.status == 200 and "SUMMARY:Chuyên đề quý IV" in feed.text()
    member.context.close()

    page.goto(session_url)
    page.get_by_role("button", name="Chuyển sang: Đã gửi tài liệu").click()
    expect(page.locator("#session-status")).to_have_text("Đã gửi tài liệu")

    reader = browser.new_context(base_url=live_server).new_page()
    sign_in(reader, "member3")
    expect(reader.locator("#unread-count")).to_have_text("1")  # "documents sent"
    reader.goto(session_url)
    reader.get_by_role("link", name="bao-cao-chuyen-de.docx").click()
    expect(reader.locator("#preview-text")).to_contain_text("Phần I. Thực trạng công tác kiểm sát")
    shot(reader, "scheduling-document-preview")
    reader.goto(session_url)
    reader.get_by_label("Câu hỏi của bạn về báo cáo").fill("Số liệu năm nay so với năm trước?")
    reader.get_by_role("button", name="Hỏi nhóm chuẩn bị").click()
    expect(reader.locator("#member-questions")).to_contain_text("Số liệu năm nay so với năm trước?")
    reader.get_by_label("Trả lời của tôi").select_option("online")
    reader.get_by_role("button", name="Gửi trả lời").click()
    expect(reader.locator("#attendance")).to_contain_text("Tôi sẽ dự trực tuyến")
    reader.context.close()
    page.reload()
    expect(page.locator(".receipts summary").first).to_contain_text("Đã mở: 1/5 đảng viên")

    page.locator("#main-nav").get_by_role("link", name="Buổi sinh hoạt").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Bật chế độ giãn cách").click()
    expect(page.locator(".flash-success")).to_contain_text("1 buổi sinh hoạt trực tiếp sắp tới chuyển sang trực tuyến")
    page.goto(session_url)
    expect(page.locator("#session-mode")).to_have_text("Trực tuyến")
    shot(page, "scheduling-session")
    page.goto(f"/scheduling/month/{when.year}/{when.month}")
    expect(page.locator("#month-grid")).to_contain_text("08:00 Chuyên đề quý IV")
    shot(page, "scheduling-month")


def test_an_early_morning_meeting_keeps_its_own_day(page, data, cell):
    """A meeting at 05:19 in Vietnam (22:19 UTC the evening before): its report may be due that day."""
    data.user("member2", "DIST", full_name="Võ Thị Hà")
    day = (datetime.now() + timedelta(days=21)).date()
    sign_in(page, "bithu")
    page.goto("/scheduling/")
    page.get_by_role("button", name="Lên lịch sinh hoạt").click()
    page.get_by_label("Loại").select_option("thematic")
    page.get_by_label("Tên hoặc chủ đề").fill("Chuyên đề sáng sớm")
    page.get_by_label("Ngày", exact=True).fill(day.isoformat())
    page.get_by_label("Giờ bắt đầu").fill("05:19")
    page.get_by_label("Địa điểm").fill("Hội trường")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lên lịch buổi sinh hoạt.")
    expect(page.locator("body")).to_contain_text(f"05:19 {day:%d/%m/%Y}")

    page.locator("#group summary").click()
    page.get_by_label("Thành viên nhóm").select_option(label=["Member1", "Võ Thị Hà"])
    page.get_by_label("Trưởng nhóm").select_option(label="Member1")
    page.get_by_label("Hạn nộp báo cáo").fill(day.isoformat())
    page.get_by_role("button", name="Lưu nhóm").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu nhóm chuẩn bị.")
    expect(page.locator("#group")).to_contain_text(f"{day:%d/%m/%Y}")
    shot(page, "scheduling-early-meeting")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "scheduling-early-meeting-phone")
