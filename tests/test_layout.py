"""Layout rules that hold for every template: a table scrolls inside its own box on a phone instead of
widening the page (tests/e2e/test_phone_layout.py measures the pages themselves)."""

import re

from support import ROOT

TEMPLATES = sorted([*ROOT.glob("intranet/templates/**/*.html"), *ROOT.glob("plugins/*/templates/**/*.html")])
# The box's opening tag, then nothing but whitespace or Jinja statements up to the table.
IN_SCROLL_BOX = re.compile(r'<div class="table-scroll">(\s|\{%.*?%\})*$', re.S)


def test_every_table_scrolls_in_its_own_box():
    assert TEMPLATES
    loose = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
        for path in TEMPLATES
        for text in [path.read_text(encoding="utf-8")]
        for m in re.finditer(r"<table\b", text)
        if not IN_SCROLL_BOX.search(text[: m.start()])
    ]
    assert not loose, "tables outside a .table-scroll box: " + ", ".join(loose)
