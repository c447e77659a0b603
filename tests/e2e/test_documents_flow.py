"""The office's document layout in the browser: its administrator sets the place, the issuer code and
the recipients; the secretary downloads the yearly programme and finds them in the issued document."""

import docx
from playwright.sync_api import expect
from sqlalchemy import select
from support import shot, sign_in

from intranet.extensions import db
from intranet.models import Office


def test_the_admin_sets_the_layout_the_programme_carries_it(page, app, cell, tmp_path):
    with app.app_context():
        office_id = db.session.scalar(select(Office.id).where(Office.code == "DIST"))
    sign_in(page, "distadmin")
    page.goto(f"/admin/offices/{office_id}")
    page.get_by_label("Đảng bộ (tiêu đề văn bản)").fill("ĐẢNG BỘ VIỆN KIỂM SÁT NHÂN DÂN THÀNH PHỐ CẦN THƠ")
    page.get_by_label("Chi bộ (tiêu đề văn bản)").fill("CHI BỘ VIỆN KIỂM SÁT NHÂN DÂN HUYỆN PHONG ĐIỀN")
    page.get_by_label("Địa danh ghi ở dòng ngày tháng văn bản").fill("Phong Điền")
    page.get_by_label("Ký hiệu cơ quan ban hành sau số văn bản").fill("C B")
    recipients = page.get_by_label("Nơi nhận văn bản, mỗi dòng một nơi")
    expect(recipients).to_have_attribute(
        "placeholder", "Đảng ủy City procuracy (để báo cáo)\nCác đảng viên trong chi bộ\nLưu chi bộ"
    )
    recipients.fill("Đảng ủy Viện kiểm sát thành phố (để báo cáo)\nLưu chi bộ")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".field-error")).to_contain_text("Không có khoảng trắng")  # the form is kept
    expect(recipients).to_have_value("Đảng ủy Viện kiểm sát thành phố (để báo cáo)\nLưu chi bộ")
    shot(page, "admin-document-layout")
    page.get_by_label("Ký hiệu cơ quan ban hành sau số văn bản").fill("CB")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash-success")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, "bithu")
    page.goto("/scheduling/programme/2027")
    with page.expect_download() as download:
        page.get_by_role("link", name="Văn bản chương trình (.docx)").click()
    path = tmp_path / "chuong-trinh.docx"
    download.value.save_as(path)
    opened = docx.Document(str(path))
    left, right = opened.tables[0].rows[0].cells
    assert left.text.startswith(
        "ĐẢNG BỘ VIỆN KIỂM SÁT NHÂN DÂN THÀNH PHỐ CẦN THƠ\nCHI BỘ VIỆN KIỂM SÁT NHÂN DÂN HUYỆN PHONG ĐIỀN\n*\nSố"
    )
    assert left.text.endswith("-CTr/CB\nDỰ THẢO") and right.text.startswith("ĐẢNG CỘNG SẢN VIỆT NAM\nPhong Điền, ngày")
    paragraphs = [p.text for p in opened.paragraphs]
    assert "CHƯƠNG TRÌNH" in paragraphs and "sinh hoạt chuyên đề năm 2027" in paragraphs
    sent_to = [p.text for p in opened.tables[-1].rows[0].cells[0].paragraphs]
    assert sent_to == ["Nơi nhận:", "- Đảng ủy Viện kiểm sát thành phố (để báo cáo),", "- Lưu chi bộ."]
    assert opened.tables[-1].rows[0].cells[1].paragraphs[0].text == "T/M CHI BỘ"
