"""Hostile input (issue 11, items 7, 9, 10, 11): one text-cleaning rule for every stored text, CSV
exports no spreadsheet evaluates, whole numbers parsed by one helper, dates within one range."""

from __future__ import annotations

import csv
import importlib
import io
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import docx
import pytest
from flask_wtf import FlaskForm
from PIL import Image
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict
from wtforms import DateField, DateTimeField, IntegerField, PasswordField, StringField, TextAreaField

from intranet.csv_export import safe_cell, to_csv
from intranet.extensions import db
from intranet.models import AuditEvent, Office, User
from intranet.text import clean_text
from intranet_evaluations import shelf
from intranet_evaluations.models import CellDocument, Record
from intranet_questions import services as queue
from intranet_questions.models import Question
from intranet_scheduling import services as scheduling
from intranet_scheduling.documents import upload
from intranet_scheduling.models import DocumentKind, Meeting, SessionKind, SessionMode, SessionStatus

PAST = datetime.now(UTC) - timedelta(days=3)
# Decomposed accents, NUL, a vertical tab, SOH, a right-to-left override, a zero-width space, a BOM.
HOSTILE = "Bie\u0302n\x00 ba\u0309n\x0b\x01\u202e\u200b\ufeff"
HOSTILE_LINES = "Do\u0300ng\r\nhai\x0b\tba\x00\u2067"
INVISIBLE = "\u200b\u202e\u2066\u200d\ufeff"
FORM_MODULES = [
    "intranet.auth",
    "intranet.admin.forms",
    "intranet_scheduling.forms",
    "intranet_meetings.forms",
    "intranet_questions.forms",
    "intranet_evaluations.forms",
]


def _office(code="DIST") -> Office:
    return db.session.scalar(select(Office).where(Office.code == code))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _all_forms() -> list[type]:
    for name in FORM_MODULES:
        importlib.import_module(name)
    found, todo = [], [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            module = sys.modules[sub.__module__].__name__
            if module.startswith(("intranet.", "intranet_")) and module != "intranet.forms":
                found.append(sub)
    return found


def _bound(app, form_class, values: dict):
    """``form_class`` bound to a POST carrying ``values``, each of those fields validated."""
    ctx = app.test_request_context(method="POST", data=MultiDict(values))
    ctx.push()
    try:
        form = form_class()
        for name in values:
            form[name].validate(form)
        return form
    finally:
        ctx.pop()


# --- item 7: the text rule -------------------------------------------------------------------------


def test_the_rule():
    assert clean_text(HOSTILE) == "Biên bản"
    assert clean_text("a\tb\nc") == "a b c"  # single-line: whitespace controls become spaces
    assert clean_text(HOSTILE_LINES, multiline=True) == "Dòng\nhai\n\tba"
    assert clean_text("\ud800x\uffff\ufdd0") == "x"  # lone surrogate and non-characters
    assert clean_text(INVISIBLE) == "" and clean_text(None) == "" and clean_text(0) == "0"


def test_every_form_of_core_and_plugins_derives_from_the_core_form(app):
    from intranet.forms import Form

    forms = _all_forms()
    assert len(forms) >= 30
    assert [f.__qualname__ for f in forms if not issubclass(f, Form)] == []


def test_every_text_field_of_every_form_is_cleaned_and_invisible_text_refused(app):
    checked = 0
    for form_class in _all_forms():
        with app.test_request_context():
            names = [
                f.name
                for f in form_class()
                if isinstance(f, StringField) and not isinstance(f, PasswordField) and f.type != "CSRFTokenField"
            ]
        for name in names:
            form = _bound(app, form_class, {name: HOSTILE_LINES})
            multiline = isinstance(form[name], TextAreaField)
            expected = "Dòng\nhai\n\tba" if multiline else "Dòng hai ba"
            assert form[name].data in (expected, expected.lower()), (form_class, name)  # usernames: lower case
            form = _bound(app, form_class, {name: INVISIBLE})
            assert form[name].data == ""
            assert "no visible characters" in " ".join(map(str, form[name].errors)), (form_class, name)
            checked += 1
    assert checked >= 35


def test_the_model_layer_cleans_whatever_path_sets_a_text(app, cell):
    with app.test_request_context():
        user = _user("member1")
        user.full_name = "Nguye\u0302\u0303n\x00 Va\u0306n\u202e"
        db.session.add(
            AuditEvent(action="x", object_type="y", object_id="1", details={"note": "a\x00b", "n": [1, "\x01c"]})
        )
        db.session.commit()
        db.session.expire_all()
        assert _user("member1").full_name == "Nguyễn Văn"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "x"))
        assert event.details == {"note": "ab", "n": [1, "c"]}


def test_every_text_column_of_every_model_is_guarded(app):
    from sqlalchemy import JSON, Enum, String

    checked = 0
    for mapper in db.Model.registry.mappers:
        for prop in mapper.column_attrs:
            column_type = prop.columns[0].type
            if isinstance(column_type, Enum) or not isinstance(column_type, (String, JSON)):
                continue
            obj = mapper.class_.__new__(mapper.class_)
            mapper.class_manager.setup_instance(obj)  # a bare instance: no constructor side effects
            setattr(obj, prop.key, {"k": "a\x00b"} if isinstance(column_type, JSON) else "a\x00b\u202e")
            # a verbatim column (a secret another server checks) keeps all but NUL
            cleaned = "ab\u202e" if prop.columns[0].info.get("verbatim") else "ab"
            assert getattr(obj, prop.key) in ({"k": "ab"}, cleaned), (mapper.class_.__name__, prop.key)
            checked += 1
    assert checked >= 40


def test_control_characters_in_a_meeting_title_are_cleaned_and_refused_when_nothing_is_left(app, client, cell, login):
    login("bithu")
    day = (date.today() + timedelta(days=10)).isoformat()
    fields = dict(
        kind="regular",
        day=day,
        time="08:00",
        duration_minutes="90",
        place="P\x00",
        mode="in_person",
        programme_item_id="0",
    )
    refused = client.post("/scheduling/sessions/new", data={**fields, "title": INVISIBLE})
    assert refused.status_code == 200 and "không có ký tự nhìn thấy" in refused.text
    created = client.post("/scheduling/sessions/new", data={**fields, "title": "Họp\x0b\x01 chi bộ"})
    assert created.status_code == 302
    with app.app_context():
        session = db.session.scalar(select(Meeting))
        assert (session.title, session.place) == ("Họp chi bộ", "P")


def test_nul_in_a_name_a_conclusion_and_an_upload_filename_is_never_stored(app, client, qcell, login):
    login("distadmin")
    with app.app_context():
        dist = _office().id
    client.post(
        "/admin/users/new",
        data={
            "username": "nulname",
            "full_name": "Trần\x00 Văn\u200b A",
            "office_id": dist,
            "party_status": "official",
        },
    )
    sid = _held(app)
    login("bithu")
    client.post(
        f"/evaluations/sessions/{sid}/record",
        data={"chair_id": qcell["secretary"], "taker_id": qcell["deputy"], "conclusion": "Kết\x00 luận\r\ndòng 2\x0c"},
    )
    with app.app_context():
        assert _user("nulname").full_name == "Trần Văn A"
        assert db.session.scalar(select(Record.conclusion)) == "Kết luận\ndòng 2"
    with app.test_request_context():
        document = upload(db.session.get(Meeting, sid), DocumentKind.IMAGE, "a\x00b\u202e.png", PNG, _user("bithu"))
        db.session.commit()
        assert document.filename == "ab.png"


def _held(app) -> int:
    with app.test_request_context():
        meeting = scheduling.create_session(
            _office(),
            kind=SessionKind.REGULAR,
            title="Sinh hoạt",
            starts_at=PAST,
            duration_minutes=120,
            place="",
            mode=SessionMode.IN_PERSON,
            record_past=True,
        )
        scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
        scheduling.take_attendance(meeting, {u.id for u in scheduling.members(meeting.office_id)}, None)
        scheduling.advance(meeting, SessionStatus.CLOSED, None)
        db.session.commit()
        return meeting.id


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")  # uploads are checked by their structure: a real PNG
    return buffer.getvalue()


PNG = _png()


def test_docx_exports_open_even_with_control_characters_already_stored(app, client, qcell, login):
    sid = _held(app)
    login("phobithu")
    client.post(f"/evaluations/sessions/{sid}/minutes")
    with app.app_context():
        doc = shelf.current(db.session.get(Meeting, sid), "minutes")
        content = {**doc.content, "subtitle": "Tiêu\x0b\x01 đề\x00"}
        content["sections"] = [{**s, "text": "Đoạn\x01 một\u202e\n\x00hai"} for s in content["sections"]]
        # Written past the model layer, as rows stored before the rule existed would be.
        db.session.execute(
            update(CellDocument).where(CellDocument.id == doc.id).values(title="BIÊN BẢN\x0b\x01", content=content)
        )
        db.session.execute(update(Meeting).where(Meeting.id == sid).values(title="Họp\x0b\x01 tháng"))
        db.session.commit()
        doc_id = doc.id
    login("member1")
    minutes = client.get(f"/evaluations/documents/{doc_id}.docx")
    assert minutes.status_code == 200
    paragraphs = [p.text for p in docx.Document(io.BytesIO(minutes.data)).paragraphs]
    assert "BIÊN BẢN" in paragraphs and "Tiêu đề" in paragraphs and "Đoạn một" in paragraphs
    review = client.get(f"/evaluations/review.docx?year={PAST.year}")
    assert review.status_code == 200
    cells = [c.text for t in docx.Document(io.BytesIO(review.data)).tables for r in t.rows for c in r.cells]
    assert "Họp tháng" in cells


def test_an_invisible_question_is_refused_as_empty(app, client, qcell, login):
    with app.app_context():
        meeting = scheduling.create_session(
            _office(),
            kind=SessionKind.REGULAR,
            title="Họp",
            starts_at=PAST,
            duration_minutes=90,
            place="",
            mode=SessionMode.IN_PERSON,
            record_past=True,
        )
        scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        sid = meeting.id
    login("member1")
    page = client.post(f"/questions/sessions/{sid}/ask", data={"text": INVISIBLE}, follow_redirects=True)
    assert page.status_code == 200 and "Hãy viết câu hỏi" in page.text
    with app.app_context():
        assert db.session.scalar(select(Question)) is None


# --- item 9: CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_would_be_a_formula_is_text(value):
    assert safe_cell(value) == "'" + value
    assert safe_cell("a=b") == "a=b" and safe_cell(-5) == -5 and safe_cell(None) == ""


def test_every_cell_is_quoted_so_embedded_separators_start_no_cell():
    text = to_csv(["h"], [["a;=cmd|' /C calc'!A0", "x\n=1+1", 3]])
    assert text.startswith('\ufeff"h"')
    assert list(csv.reader(io.StringIO(text[1:]))) == [["h"], ["a;=cmd|' /C calc'!A0", "x\n=1+1", "3"]]
    assert '"a;=cmd' in text


def test_queue_and_speakers_csv_neutralise_formulas_and_speak_the_users_language(app, client, qcell, data, login):
    data.user("formula", "DIST", full_name='=HYPERLINK("http://evil")')
    with app.test_request_context():
        meeting = scheduling.create_session(
            _office(),
            kind=SessionKind.REGULAR,
            title="Họp",
            starts_at=PAST,
            duration_minutes=90,
            place="",
            mode=SessionMode.IN_PERSON,
            record_past=True,
        )
        scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
        settings = queue.queue_settings(meeting)
        queue.save_settings(
            meeting,
            _user("bithu"),
            anonymity=queue.Anonymity.NAMED,
            premoderation=False,
            sort=settings.sort,
            quiet_first=False,
            open_limit=3,
            chair=None,
        )
        queue.ask(meeting, _user("formula"), "@SUM(1+1)*cmd|' /C calc'!A0")
        queue.raise_hand(meeting, _user("formula"))
        db.session.commit()
        sid = meeting.id
    login("bithu")
    rows = list(csv.reader(io.StringIO(client.get(f"/questions/sessions/{sid}/queue.csv").data.decode("utf-8-sig"))))
    assert rows[1][2] == "'@SUM(1+1)*cmd|' /C calc'!A0" and rows[1][4] == '\'=HYPERLINK("http://evil")'
    assert rows[1][8] == "Trong hàng đợi"  # the status, not "open"
    speakers = list(
        csv.reader(io.StringIO(client.get(f"/questions/sessions/{sid}/speakers.csv").data.decode("utf-8-sig")))
    )
    assert speakers[1][0].startswith("'=") and speakers[1][1:3] == ["giơ tay", "Chờ phát biểu"]


# --- item 10: whole numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/evaluations/review?year=²",
        "/evaluations/me?year=²",
        "/evaluations/participation?year=²",
        "/evaluations/review?year=٢٠٢٦",
        "/evaluations/review?year=9999",
        "/evaluations/review?year=2026&quarter=²",
        "/evaluations/review.docx?year=²",
    ],
)
def test_a_number_in_the_query_string_is_ascii_digits_in_range_or_a_clear_400(client, qcell, login, url):
    login("bithu")
    response = client.get(url)
    assert response.status_code == 400 and "phải là số nguyên" in response.text


def test_admin_office_filters_take_only_ascii_numbers(client, cell, login):
    login("distadmin")
    for url in ("/admin/users?office=٣", "/admin/audit?office=²", "/admin/plugins?office=1_0"):
        assert client.get(url).status_code == 400


def test_searches_and_page_numbers_of_the_admin_lists_never_reach_sql_unparsed(client, cell, login):
    login("distadmin")
    for url in ("/admin/users?q=a%00b", "/admin/audit?action=user%00"):
        assert client.get(url).status_code == 200  # PostgreSQL refuses NUL in a query: a 500 before
    for url in ("/admin/users?page=99999999999999999999", "/admin/audit?page=٣"):
        assert client.get(url).status_code == 400  # an overflowing OFFSET was a 500 on PostgreSQL


def test_ask_target_and_attendance_never_500_on_unicode_digits(app, client, qcell, login):
    sid = _held(app)
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.id == sid).values(status=SessionStatus.IN_PROGRESS))
        db.session.commit()
    login("member1")
    asked = client.post(f"/questions/sessions/{sid}/ask", data={"text": "Hỏi", "target": "²"}, follow_redirects=True)
    assert asked.status_code == 200 and "Hãy chọn một câu hỏi thảo luận" in asked.text
    login("bithu")
    assert client.post(f"/scheduling/sessions/{sid}/attendance", data={"present": ["²"]}).status_code == 400
    assert (
        client.post(f"/scheduling/sessions/{sid}/attendance", data={"present": [str(qcell["member"])]}).status_code
        == 302
    )


def test_a_rating_of_unicode_digits_is_refused_not_a_500(app, client, qcell, login):
    sid = _held(app)
    login("member1")
    page = client.post(
        f"/evaluations/sessions/{sid}/rate",
        data={"preparation": "²", "content": "4", "discussion": "4"},
        follow_redirects=True,
    )
    assert page.status_code == 200


def test_last_event_id_with_unicode_digits_starts_the_stream_afresh(app, client, qcell, login):
    sid = _held(app)
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.id == sid).values(status=SessionStatus.IN_PROGRESS))
        db.session.commit()
    login("member1")
    response = client.get(f"/questions/sessions/{sid}/stream", headers={"Last-Event-ID": "².0.0"}, buffered=False)
    assert response.status_code == 200
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:") and "event: queue" in next(frames)  # every region sent afresh
    response.close()
    from intranet.live import _parse_event_id

    assert _parse_event_id("².0.0", 3) == [None, None, None]
    assert _parse_event_id("٣.0.0", 3) == [None, None, None]
    assert _parse_event_id("3.0.12", 3) == [3, 0, 12]


def test_no_code_parses_request_numbers_by_itself():
    """``isdigit()`` takes "²", ``int()`` and ``type=int`` take "٣": request numbers go through params."""
    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"\.isdigit\(\)|\btype=int\b|(?<!\w)int\(request")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("intranet", "plugins")
        for path in (root / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and "click.option" not in line
    ]  # a CLI option is not a request
    assert offenders == []


def test_integer_fields_of_every_form_take_ascii_digits_within_an_integer_column(app):
    checked = 0
    for form_class in _all_forms():
        with app.test_request_context():
            names = [f.name for f in form_class() if isinstance(f, IntegerField)]
        for name in names:
            for raw in ("²", "٣", "1_0", "99999999999", "3.5"):
                field = _bound(app, form_class, {name: raw})[name]
                assert field.errors and field.data is None, (form_class, name, raw)  # even unvalidated
            assert _bound(app, form_class, {name: " 42 "})[name].data == 42
            checked += 1
    assert checked >= 5


# --- item 11: dates ---------------------------------------------------------------------------------


def test_date_fields_of_every_form_are_held_to_the_supported_range(app):
    checked = 0
    for form_class in _all_forms():
        with app.test_request_context():
            names = [
                f.name
                for f in form_class()
                if isinstance(f, (DateField, DateTimeField))
                and f.type in ("DateField", "DateTimeField", "DateTimeLocalField")
            ]
        for name in names:
            for raw, ok in (
                ("0001-01-01", False),
                ("9999-12-31", False),
                ("1929-12-31", False),
                ("1930-01-01", True),
                ("2100-12-31", True),
            ):
                errors = _bound(app, form_class, {name: raw})[name].errors
                assert (errors == []) == ok, (form_class, name, raw, errors)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("day", ["0001-01-01", "9999-06-01"])
def test_a_meeting_on_year_1_or_9999_gets_a_clear_message(app, client, cell, login, day):
    login("bithu")
    page = client.post(
        "/scheduling/sessions/new",
        data=dict(
            kind="regular",
            title="Họp",
            day=day,
            time="00:00",
            duration_minutes="90",
            place="",
            mode="in_person",
            programme_item_id="0",
        ),
    )
    assert page.status_code == 200 and "Hãy nhập ngày từ 01/01/1930 đến 31/12/2100" in page.text
    with app.app_context():
        assert db.session.scalar(select(Meeting)) is None


@pytest.mark.parametrize("big", [2**31, 10**20])
def test_no_route_500s_on_an_id_beyond_what_the_database_holds(app, client, qcell, login, big):
    """Every ``<int:…>`` of every route, given a number no Integer column holds (PostgreSQL's int4 ends
    at 2**31 - 1, SQLite cannot bind past 2**63): no such row, never a database error."""
    rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) > 20

    def argument(match: re.Match) -> str:
        return str(big) if match.group(1) == "int" else "x"

    for username in ("bithu", "distadmin"):
        login(username)
        for rule in rules:
            url = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", argument, rule.rule)
            method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
            assert client.open(url, method=method).status_code < 500, (username, url)
