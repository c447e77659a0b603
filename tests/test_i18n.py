"""Vietnamese by default, English complete, a language switch, dates in Asia/Ho_Chi_Minh."""

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from intranet.extensions import db
from intranet.models import User

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted_ids():
    method_map = [
        ("intranet/**.py", "python"),
        ("plugins/**.py", "python"),
        ("intranet/templates/**.html", "jinja2"),
        ("plugins/**/templates/**.html", "jinja2"),
    ]
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=method_map,
        keywords=KEYWORDS,
        directory_filter=lambda d: not Path(d).name.startswith((".", "_")) and Path(d).name != "tests",
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_vietnamese_catalog_translates_every_string():
    catalog = read_po(open(ROOT / "intranet/translations/vi/LC_MESSAGES/messages.po", "rb"))
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted_ids() - translated)
    assert not missing, f"untranslated (run `make messages` and translate): {missing[:10]}"


def test_default_is_vietnamese_and_switch_to_english(client, cell):
    page = client.get("/login")
    assert '<html lang="vi"' in page.text and "Đăng nhập" in page.text
    client.post("/lang/en", headers={"Referer": "http://localhost/login"})
    page = client.get("/login")
    assert '<html lang="en"' in page.text and "Sign in" in page.text


def test_signed_in_choice_is_remembered_on_the_account(app, client, cell, login):
    login("member1")
    assert client.post("/lang/en", headers={"Referer": "http://evil.example/x"}).location == "/"
    with app.app_context():
        assert db.session.get(User, cell["member"]).locale == "en"
    other = app.test_client()
    login("member1", c=other)
    assert "Hello, Member1" in other.get("/").text


def test_dates_are_shown_in_ho_chi_minh_time(app, client, cell, login):
    with app.app_context():
        user = db.session.get(User, cell["member"])
        user.last_login_at = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
        db.session.commit()
    with app.test_request_context():
        from flask import render_template_string

        shown = render_template_string("{{ when|datetime }}", when=datetime(2026, 3, 1, 20, 30, tzinfo=UTC))
    assert shown == "03:30 02/03/2026"  # 20:30 UTC is 03:30 the next morning in Vietnam
