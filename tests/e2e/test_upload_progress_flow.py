"""A file sent on a slow link shows how much has gone, then that it is being checked, and lands with the
usual message; a refused file leaves the form as it was — the chosen file and kind still there — with
the reason beside it; the members' CSV import shows its progress and its report the same way."""

import re

from playwright.sync_api import expect
from support import shot, sign_in
from test_uploads_hardening import (
    HTML_AS_MP4,
    long_docx,
    meeting,  # noqa: F401  (a fixture: a planned meeting of DIST with its group)
)

SENDING = """() => { const p = document.querySelector('[data-upload-status] progress');
                     return p && !p.closest('[hidden]') && p.value > 0 && p.value < 100; }"""


def slow_upload(page, kbps: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 100, "downloadThroughput": -1, "uploadThroughput": kbps * 1000 / 8},
    )


def test_a_document_sent_on_a_slow_link_shows_its_progress(page, meeting, tmp_path):
    sign_in(page, "member1")
    page.goto(f"/scheduling/sessions/{meeting}")
    video = tmp_path / "video.mp4"
    video.write_bytes(HTML_AS_MP4)
    form = page.locator("#documents form[data-upload]")
    form.locator("select[name=kind]").select_option("video")
    form.locator("input[type=file]").set_input_files(str(video))
    form.get_by_role("button", name="Tải lên").click()
    expect(form.locator("[data-upload-error]")).to_have_text("Tệp bị hỏng, không mở được.")
    # Refused: nothing reloaded, the form still holds what was chosen.
    assert (
        form.locator("input[type=file]").evaluate("input => input.files.length && input.files[0].name") == "video.mp4"
    )
    assert form.locator("select[name=kind]").input_value() == "video"
    page.set_viewport_size({"width": 390, "height": 844})
    form.scroll_into_view_if_needed()
    shot(page, "scheduling-upload-refused-phone", full_page=False)
    page.set_viewport_size({"width": 1200, "height": 900})

    report = tmp_path / "Báo cáo chuyên đề.docx"
    report.write_bytes(long_docx(1_200_000))  # about 380 KB: some seconds at 512 kbps
    slow_upload(page, 512)
    form.locator("select[name=kind]").select_option("report")
    form.locator("input[type=file]").set_input_files(str(report))
    form.get_by_role("button", name="Tải lên").click()
    page.wait_for_function(SENDING, timeout=30_000)
    expect(form.locator("[data-upload-percent]")).to_have_text(re.compile(r"^\d{1,2} %$"))
    expect(form.get_by_role("button", name="Tải lên")).to_be_disabled()
    shot(page, "scheduling-upload-progress", full_page=False)
    expect(page.locator(".flash-success")).to_contain_text(
        "“Báo cáo chuyên đề.docx” đã được tải lên (phiên bản 1).", timeout=60_000
    )
    expect(page.locator("#document-list")).to_contain_text("Báo cáo chuyên đề.docx")


def test_the_members_import_shows_its_progress_and_its_report(page, cell, tmp_path):
    sign_in(page, "distadmin")
    page.goto("/admin/users/import")
    rows = (
        ["username,full_name,office_code"] + [f"dv{i:04d},Đảng viên {i},DIST" for i in range(1999)] + ["x y,,NOWHERE"]
    )
    csv = tmp_path / "dang-vien.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    slow_upload(page, 64)  # 2,000 lines (the most a file may have): some seconds at 64 kbps
    page.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    page.wait_for_function(SENDING, timeout=30_000)
    expect(page.locator("#import-report")).to_contain_text("Chưa nhập dòng nào", timeout=60_000)
    expect(page.locator("#import-report")).to_contain_text("NOWHERE")
