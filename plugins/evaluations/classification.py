"""Each closed meeting's quality classification (Tốt / Khá / Trung bình / Kém, or the office's own
scale) from stated criteria, each met or not against its line: attendance, documents sent ahead,
discussion, duration, conclusion and resolution issued, members' ratings. The score is the weighted
share of the criteria met among those that could be judged; the scale turns it into a grade. Weights,
lines and scale are the office's (``EvaluationOfficeSettings.classification``); the defaults are below and in
the README."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.i18n import number, percent
from intranet.refusals import ServiceError
from intranet.text import clean_text
from intranet_scheduling.models import Document, Meeting, SessionKind

from .models import CellDocument, DocumentKind, EvaluationOfficeSettings, Record


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    rule: str | None  # what a meeting must do, with %(line)s for its threshold; None for a yes/no criterion
    line: float | None  # the default line
    bounds: tuple[float, float] | None  # the lines an office may set
    weight: int  # the default weight
    unit: str  # how its value reads: percent, days, minutes, score, done


CRITERIA = (
    Criterion(
        "attendance", _l("Attendance rate"), _l("more than %(line)s %% of members present"), 85, (0, 100), 3, "percent"
    ),
    Criterion("documents", _l("Documents sent ahead"), _l("at least %(line)s day(s) before"), 1, (0, 14), 2, "days"),
    Criterion(
        "discussion",
        _l("Discussion"),
        _l("at least %(line)s %% of those present spoke or asked"),
        50,
        (0, 100),
        2,
        "percent",
    ),
    Criterion("duration", _l("Duration"), _l("at least %(line)s minutes"), 90, (0, 600), 1, "minutes"),
    Criterion("conclusion", _l("Conclusion and resolution issued"), None, None, None, 2, "done"),
    Criterion("ratings", _l("Members' ratings"), _l("average at least %(line)s of 5"), 4, (1, 5), 1, "score"),
)
BY_KEY = {c.key: c for c in CRITERIA}
WEIGHT_MAX = 10


def default_scale() -> list[tuple[str, float]]:
    """(grade, lowest score in %), best first; translated, as an office that kept it reads it."""
    return [(_("Good"), 80), (_("Fairly good"), 65), (_("Average"), 50), (_("Poor"), 0)]


@dataclass
class Rules:
    weights: dict[str, int]
    lines: dict[str, float]
    scale: list[tuple[str, float]]

    def grade(self, score: float) -> str:
        return next(label for label, lowest in self.scale if score >= lowest)


def rules_of(settings: EvaluationOfficeSettings | None) -> Rules:
    stored = (settings and settings.classification) or {}
    return Rules(
        {c.key: int(stored.get("weights", {}).get(c.key, c.weight)) for c in CRITERIA},
        {c.key: float(stored.get("lines", {}).get(c.key, c.line)) for c in CRITERIA if c.line is not None},
        [(label, float(lowest)) for label, lowest in stored["scale"]] if stored.get("scale") else default_scale(),
    )


@dataclass
class Facts:
    """What is known of one meeting; None where it is not (not recorded, or not enough ratings)."""

    thematic: bool
    attendance_rate: float | None = None  # % of members present
    lead_days: float | None = None  # how many days ahead the last of its document kinds first came
    discussion_rate: float | None = None  # % of those present who spoke or asked
    minutes: float | None = None  # from the start to the closing
    concluded: bool = False  # the conclusion recorded (and, for a thematic meeting, the resolution signed)
    rating: float | None = None  # mean of the three average scores


@dataclass
class Mark:
    criterion: Criterion
    value: float | None
    met: bool | None  # None: not judged (unknown), left out of the score
    weight: int
    line: float | None

    @property
    def rule(self) -> str:
        return self.criterion.rule % {"line": number(self.line, 1)} if self.criterion.rule else ""

    @property
    def shown(self) -> str:
        unit = self.criterion.unit
        if unit == "done":
            return _("issued") if self.met else _("not yet")
        if self.value is None:
            return _("none sent") if unit == "days" and self.met is False else _("not known")
        if unit == "percent":
            return percent(self.value)
        if unit == "days":
            return _("%(n)s day(s) before", n=number(self.value, 1))
        if unit == "minutes":
            return _("%(n)s minutes", n=number(self.value, 0))
        return number(self.value, 2)


@dataclass
class Assessment:
    marks: list[Mark] = field(default_factory=list)
    score: float | None = None  # weighted share met, in %
    grade: str | None = None


def judge(rules: Rules, facts: Facts) -> Assessment:
    lines = rules.lines
    values = {
        "attendance": facts.attendance_rate,
        "documents": facts.lead_days,
        "discussion": facts.discussion_rate,
        "duration": facts.minutes,
        "ratings": facts.rating,
    }
    met = {
        "attendance": _over(facts.attendance_rate, lines["attendance"], strictly=True),
        # A thematic meeting is held on its documents: none sent is not met; a regular one may have none.
        "documents": _over(facts.lead_days, lines["documents"])
        if facts.lead_days is not None or not facts.thematic
        else False,
        "discussion": _over(facts.discussion_rate, lines["discussion"]),
        "duration": _over(facts.minutes, lines["duration"]),
        "conclusion": facts.concluded,
        "ratings": _over(facts.rating, lines["ratings"]),
    }
    marks = [Mark(c, values.get(c.key), met[c.key], rules.weights[c.key], lines.get(c.key)) for c in CRITERIA]
    judged = [m for m in marks if m.met is not None and m.weight]
    total = sum(m.weight for m in judged)
    if not total:
        return Assessment(marks)
    score = round(100 * sum(m.weight for m in judged if m.met) / total, 1)
    return Assessment(marks, score, rules.grade(score))


def _over(value: float | None, line: float, strictly: bool = False) -> bool | None:
    if value is None:
        return None
    return value > line if strictly else value >= line


def assess(office_id: int, sessions: list[Meeting], per_session: dict, ratings: dict) -> dict[int, Assessment]:
    """Every meeting's assessment from its members' ``lines`` and ``ratings`` (already read for the
    review) and three queries, whatever the number of meetings."""
    ids = [s.id for s in sessions]
    rules = rules_of(db.session.get(EvaluationOfficeSettings, office_id))
    first_sent: dict[int, list[datetime]] = {}
    for session_id, _kind, first in db.session.execute(
        select(Document.session_id, Document.kind, func.min(Document.uploaded_at))
        .where(Document.session_id.in_(ids))
        .group_by(Document.session_id, Document.kind)
    ):
        first_sent.setdefault(session_id, []).append(first)
    concluded = set(db.session.scalars(select(Record.session_id).where(Record.session_id.in_(ids), Record.final)))
    resolved = set(
        db.session.scalars(
            select(CellDocument.session_id).where(
                CellDocument.session_id.in_(ids),
                CellDocument.kind == DocumentKind.RESOLUTION,
                CellDocument.signed_at.is_not(None),
            )
        )
    )
    result = {}
    for session in sessions:
        thematic = session.kind == SessionKind.THEMATIC
        members = per_session[session.id].values()
        taken = [m for m in members if m.attendance is not None]
        present = [m for m in taken if m.attendance == "present"]
        known = [m for m in present if "times_spoken" in m.facts]
        sent = first_sent.get(session.id)
        rated = ratings[session.id]
        facts = Facts(
            thematic=thematic,
            attendance_rate=100 * len(present) / len(taken) if taken else None,
            lead_days=min((session.starts_at - at) / timedelta(days=1) for at in sent) if sent else None,
            discussion_rate=100 * sum(m.spoke for m in known) / len(known) if known else None,
            minutes=_minutes(session),
            concluded=session.id in concluded and (not thematic or session.id in resolved),
            rating=(rated.preparation + rated.content + rated.discussion) / 3 if rated.shown else None,
        )
        result[session.id] = judge(rules, facts)
    return result


def _minutes(session: Meeting) -> float:
    """How long it lasted: to its closing when recorded, else as planned. A meeting recorded after the
    fact closes later than it ended; its planned length is what is known then."""
    if session.closed_at is None or session.closed_at - session.starts_at > timedelta(hours=12):
        return float(session.duration_minutes)
    return (session.closed_at - session.starts_at) / timedelta(minutes=1)


# --- the office's rules ------------------------------------------------------------------------------


SCALE_MAX = 10  # grades in a scale


def parse_scale(text: str) -> list[tuple[str, float]]:
    """ "Tốt 80; Khá 65; Trung bình 50; Kém 0": grades best first, each with its lowest score (%),
    the last at 0 so every score has a grade."""
    scale = []
    for part in (clean_text(p) for p in (text or "").replace("\n", ";").split(";")):
        if not part:
            continue
        label, _sep, lowest = part.rpartition(" ")
        try:
            value = float(lowest.replace(",", "."))
        except ValueError:
            value = None
        if not label.strip() or value is None or not 0 <= value <= 100:
            raise ServiceError(_("Write each grade with its lowest score, as “Good 80; Poor 0”."), "scale")
        scale.append((label.strip()[:40], value))
    lowest = [value for _label, value in scale]
    names = {label.casefold() for label, _value in scale}
    falling = all(higher > lower for higher, lower in zip(lowest, lowest[1:]))
    if not 2 <= len(scale) <= SCALE_MAX or len(names) < len(scale) or not falling or lowest[-1]:
        raise ServiceError(
            _(
                "Two to %(most)d grades, each named once, from the best down, each from a lower score than the "
                "one before, the last from 0.",
                most=SCALE_MAX,
            ),
            "scale",
        )
    return scale


def scale_text(rules: Rules) -> str:
    return "; ".join(f"{label} {number(lowest, 1)}" for label, lowest in rules.scale)


def checked_rules(weights: dict[str, int | None], lines: dict[str, float | None], scale: str) -> dict:
    """The stored form of an office's rules, or ServiceError naming the field at fault."""
    for key, weight in weights.items():
        if weight is None or not 0 <= weight <= WEIGHT_MAX:
            raise ServiceError(_("Between %(low)d and %(high)d.", low=0, high=WEIGHT_MAX), f"weight_{key}")
    if not any(weights.values()):
        raise ServiceError(_("At least one criterion needs a weight."), f"weight_{CRITERIA[0].key}")
    for key, line in lines.items():
        low, high = BY_KEY[key].bounds
        if line is None or not low <= line <= high:
            raise ServiceError(_("Between %(low)d and %(high)d.", low=low, high=high), f"line_{key}")
    grades = parse_scale(scale)
    kept = grades == [(label, float(lowest)) for label, lowest in default_scale()]  # stays translated
    return {"weights": weights, "lines": lines, "scale": None if kept else [list(grade) for grade in grades]}
