"""Behaviour that used to be inline (onclick, onfocus, style) still works from the static files under the
Content-Security-Policy; the suite's fixture fails any test on a policy violation."""

from support import sign_in


def test_print_button_and_office_tree_work_without_inline_code(page, data, cell):
    data.office("WARD", parent="DIST", name="Ward procuracy")
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    sign_in(page, "bithu")
    page.goto("/scheduling/programme")
    page.get_by_role("button", name="In").click()
    assert page.evaluate("window.printed") == 1

    page.context.clear_cookies()
    sign_in(page, "cityadmin")
    page.goto("/admin/offices")
    indent = {name: page.locator("td", has_text=name).first.evaluate("td => parseFloat(getComputedStyle(td).paddingLeft)")
              for name in ("City procuracy", "District procuracy", "Ward procuracy")}
    assert indent["City procuracy"] < indent["District procuracy"] < indent["Ward procuracy"]
