"""Uploaded files in a real browser: an image shows inline although it is sent with nosniff, a .docx
downloads under its exact Vietnamese name (RFC 6266 filename*), a long document's preview says it is
cut, and an HTML page dressed as MP4 is refused with the damaged-file message."""

from playwright.sync_api import expect
from support import shot, sign_in
from test_previews import table_docx
from test_uploads_hardening import (
    HTML_AS_MP4,
    docx_with_body,
    long_docx,
    make_image,
    meeting,  # noqa: F401  (a fixture: a planned meeting of DIST with its group)
    paragraph,
)


def test_files_as_a_browser_gets_them(page, meeting, tmp_path):
    meeting_url = f"/scheduling/sessions/{meeting}"

    def send(name: str, content: bytes, kind: str):
        path = tmp_path / name
        path.write_bytes(content)
        page.goto(meeting_url)
        page.locator("#documents select[name=kind]").select_option(kind)
        page.locator("#documents input[type=file]").set_input_files(str(path))
        page.get_by_role("button", name="Tải lên").click()

    sign_in(page, "member1")
    send("anh-hoi-truong.png", make_image("PNG"), "image")
    expect(page.locator(".flash-success")).to_contain_text("(phiên bản 1)")
    page.get_by_role("link", name="anh-hoi-truong.png").click()
    image = page.locator("main img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 16

    send("Báo cáo quý IV.docx", docx_with_body([paragraph("Phần I. Thực trạng")]), "report")
    page.get_by_role("link", name="Báo cáo quý IV.docx").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải về").click()
    assert download.value.suggested_filename == "Báo cáo quý IV.docx"

    send("phan-cong.docx", table_docx(), "report")  # a table and a cell of two lines, shown as such
    page.get_by_role("link", name="phan-cong.docx").click()
    expect(page.locator("#preview-text table tr").nth(1)).to_contain_text("Chuẩn bị báo cáo\ntrước ngày 10")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls in its box, not the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "scheduling-document-table-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    send("dai.docx", long_docx(1_200_000), "report")
    page.get_by_role("link", name="dai.docx").click()
    expect(page.locator("#preview-cut")).to_contain_text("Bản xem trước dừng ở đây", timeout=30_000)  # 1 MB of text

    send("video.mp4", HTML_AS_MP4, "video")
    expect(page.locator("#documents [data-upload-error]")).to_have_text(
        "Tệp bị hỏng, không mở được."
    )  # beside the form
