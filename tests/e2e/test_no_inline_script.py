"""Behaviour that used to be inline (onclick, onfocus, style) still works from the static files under the
Content-Security-Policy; the suite's fixture fails any test on a policy violation."""

from support import sign_in


def test_office_tree_works_without_inline_code(page, data, cell):
    data.office("WARD", parent="DIST", name="Ward procuracy")
    sign_in(page, "cityadmin")
    page.goto("/admin/offices")
    indent = {
        name: page.locator("td", has_text=name).first.evaluate("td => parseFloat(getComputedStyle(td).paddingLeft)")
        for name in ("City procuracy", "District procuracy", "Ward procuracy")
    }
    assert indent["City procuracy"] < indent["District procuracy"] < indent["Ward procuracy"]
