"""Meeting classification (plugins/evaluations/classification.py): each criterion against its line, the
weighted score, the scale, an office's own weights and scale; and numbers written the locale's way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intranet.i18n import number, percent
from intranet.refusals import ServiceError
from intranet_evaluations.classification import Facts, Rules, checked_rules, judge, parse_scale, rules_of

GOOD = dict(attendance_rate=90.0, lead_days=2.0, discussion_rate=60.0, minutes=95.0, concluded=True, rating=4.2)


@pytest.fixture
def vi(app):
    with app.test_request_context():
        yield rules_of(None)


def _met(rules: Rules, **facts) -> dict[str, bool | None]:
    return {m.criterion.key: m.met for m in judge(rules, Facts(thematic=True, **{**GOOD, **facts})).marks}


def test_a_meeting_meeting_every_line_is_good(vi):
    assessment = judge(vi, Facts(thematic=True, **GOOD))
    assert all(m.met for m in assessment.marks)
    assert (assessment.score, assessment.grade) == (100, "Tốt")


@pytest.mark.parametrize(
    "key, below, at",
    [
        ("attendance_rate", 85.0, 85.1),  # the guidance: more than 85 % present
        ("lead_days", 0.9, 1.0),  # documents a day ahead
        ("discussion_rate", 49.9, 50.0),
        ("minutes", 89.0, 90.0),  # at least 90 minutes
        ("rating", 3.9, 4.0),
    ],
)
def test_each_criterion_has_its_line(vi, key, below, at):
    criterion = {
        "attendance_rate": "attendance",
        "lead_days": "documents",
        "discussion_rate": "discussion",
        "minutes": "duration",
        "rating": "ratings",
    }[key]
    assert _met(vi, **{key: below})[criterion] is False
    assert _met(vi, **{key: at})[criterion] is True


def test_what_is_not_known_is_left_out_of_the_score(vi):
    assessment = judge(vi, Facts(thematic=False, concluded=True))  # nothing recorded but the conclusion
    met = {m.criterion.key: m.met for m in assessment.marks}
    assert met == {
        "attendance": None,
        "documents": None,
        "discussion": None,
        "duration": None,
        "conclusion": True,
        "ratings": None,
    }
    assert assessment.score == 100


def test_a_thematic_meeting_without_documents_misses_the_criterion(vi):
    assert _met(vi, lead_days=None)["documents"] is False


def test_the_score_is_the_weighted_share_met_and_the_scale_grades_it(vi):
    # Weights 3 2 2 1 2 1 (of 11): attendance and discussion missed leave 6 of 11 = 54.5 %.
    assessment = judge(vi, Facts(thematic=True, **{**GOOD, "attendance_rate": 70.0, "discussion_rate": 10.0}))
    assert (assessment.score, assessment.grade) == (54.5, "Trung bình")
    assert judge(vi, Facts(thematic=True, **{**GOOD, "minutes": 60.0})).grade == "Tốt"  # 10 of 11
    assert judge(vi, Facts(thematic=True, **{**GOOD, "attendance_rate": 50.0})).grade == "Khá"  # 8 of 11
    missed = {"attendance_rate": 50.0, "discussion_rate": 10.0, "concluded": False}
    assert judge(vi, Facts(thematic=True, **{**GOOD, **missed})).grade == "Kém"  # 4 of 11


def test_an_office_sets_its_own_weights_lines_and_scale(app):
    with app.test_request_context():
        stored = checked_rules(
            {"attendance": 1, "documents": 0, "discussion": 0, "duration": 0, "conclusion": 0, "ratings": 1},
            {"attendance": 95, "documents": 1, "discussion": 50, "duration": 90, "ratings": 3.5},
            "Xuất sắc 100; Đạt 50; Chưa đạt 0",
        )

        class Settings:
            classification = stored

        rules = rules_of(Settings)
        assert rules.scale == [("Xuất sắc", 100), ("Đạt", 50), ("Chưa đạt", 0)]
        assessment = judge(rules, Facts(thematic=True, **{**GOOD, "attendance_rate": 90.0, "rating": 3.5}))
        assert (assessment.score, assessment.grade) == (50, "Đạt")  # 90 % is under this office's 95 %
        assert judge(rules, Facts(thematic=True, **{**GOOD, "attendance_rate": 96.0})).grade == "Xuất sắc"


@pytest.mark.parametrize(
    "weights, lines, scale, field",
    [
        ({"attendance": 11}, {}, "Tốt 80; Kém 0", "weight_attendance"),
        ({"attendance": None}, {}, "Tốt 80; Kém 0", "weight_attendance"),
        ({"attendance": 0}, {}, "Tốt 80; Kém 0", "weight_attendance"),  # nothing weighs
        ({"attendance": 1}, {"attendance": 101}, "Tốt 80; Kém 0", "line_attendance"),
        ({"attendance": 1}, {"ratings": None}, "Tốt 80; Kém 0", "line_ratings"),
        ({"attendance": 1}, {}, "Tốt; Kém 0", "scale"),
        ({"attendance": 1}, {}, "Kém 0; Tốt 80", "scale"),  # not from the best down
        ({"attendance": 1}, {}, "Tốt 80; Khá 60", "scale"),  # no grade from 0
        ({"attendance": 1}, {}, "Tốt 0", "scale"),
    ],
)
def test_a_wrong_setting_is_refused_with_its_field(app, weights, lines, scale, field):
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        checked_rules(weights, lines, scale)
    assert refused.value.field == field


def test_the_scale_reads_decimal_commas(app):
    with app.test_request_context():
        assert parse_scale("Tốt 82,5\nKém 0") == [("Tốt", 82.5), ("Kém", 0)]


def test_numbers_are_written_the_locale_way(app):
    assert (percent(90.3, locale="vi"), percent(90.3, locale="en")) == ("90,3\u00a0%", "90.3%")
    assert (number(4.05, locale="vi"), number(4.05, locale="en"), number(None, locale="vi")) == ("4,05", "4.05", "—")
    assert number(1234.5, 0, locale="vi") == "1.234"  # half to even, Vietnamese grouping


TEMPLATES = [p for p in Path(__file__).resolve().parents[1].glob("**/templates/**/*.html") if ".venv" not in p.parts]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_format_shown_numbers_through_the_locale_filters(path):
    """``number`` and ``percent`` (intranet/i18n.py), never Python's formatting: it writes 90.3 in Vietnamese."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r'"%[0-9.]*f"\s*\|\s*format|\bround\(|\|\s*round\b', text), path
