"""Whole numbers and dates from the request: one parser and one range each (docs/security/input.md).

``str.isdigit`` accepts "²" and "٣" and ``int`` accepts "٣", " 1_0 " and 4,000-digit numbers that
overflow a database column; here a number is ASCII digits (an optional minus) within a stated range,
and a date lies between ``DATE_MIN`` and ``DATE_MAX``. Anything else is a clear 400 or form error.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from .text import clean_text

INT_MAX = 2**31 - 1  # the range of an INTEGER column on every database we run on
PAGE_MAX = 100_000
ASCII_INT = re.compile(r"-?[0-9]{1,10}")
ASCII_SPACE = " \t\r\n"

# Dates a party cell's records can carry: from the founding of the party (1930) to 2100. Years in
# query strings and every date or date-time field are held to this range.
YEAR_MIN, YEAR_MAX = 1930, 2100
DATE_MIN, DATE_MAX = date(YEAR_MIN, 1, 1), date(YEAR_MAX, 12, 31)
DATE_RANGE_MESSAGE = _l("Enter a date between %(first)s and %(last)s.", first="01/01/1930", last="31/12/2100")


class BadParameter(BadRequest):
    """A 400 whose page says which value was wrong and what is expected."""

    def __init__(self, message):
        super().__init__()
        self.user_message = message


def parse_int(raw, lo: int = 0, hi: int = INT_MAX) -> int | None:
    """``raw`` as a whole number in ``[lo, hi]``, or None when it is anything else."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip(ASCII_SPACE)
    if not ASCII_INT.fullmatch(raw):
        return None
    value = int(raw)
    return value if lo <= value <= hi else None


def parse_decimal(raw) -> float | None:
    """``raw`` as a number, its decimals after a comma (Vietnamese) or a point, or None."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip(ASCII_SPACE).replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def int_param(name: str, default=None, lo: int = 0, hi: int = INT_MAX, source=None):
    """The whole number ``name`` of the query string (or ``source``, e.g. ``request.form``); ``default``
    when it is absent or blank, a 400 with a clear message when it is not a number in ``[lo, hi]``."""
    raw = (request.args if source is None else source).get(name)
    if raw is None or raw.strip(ASCII_SPACE) == "":
        return default
    value = parse_int(raw, lo, hi)
    if value is None:
        raise BadParameter(_l("“%(name)s” must be a whole number from %(lo)d to %(hi)d.", name=name, lo=lo, hi=hi))
    return value


def int_list_param(name: str, lo: int = 0, hi: int = INT_MAX, source=None) -> list[int]:
    """Every value of the repeated field ``name`` as whole numbers; a 400 if one is not."""
    values = []
    for raw in (request.form if source is None else source).getlist(name):
        value = parse_int(raw, lo, hi)
        if value is None:
            raise BadParameter(_l("“%(name)s” must be a whole number from %(lo)d to %(hi)d.", name=name, lo=lo, hi=hi))
        values.append(value)
    return values


def page_param() -> int:
    """The ``page`` of a paginated listing (Flask-SQLAlchemy's own reading takes "٣" and 20 digits)."""
    return int_param("page", 1, 1, PAGE_MAX)


def text_param(name: str, limit: int) -> str:
    """A free-text query-string value (a search), cleaned by the core text rule: no NUL reaches SQL."""
    return clean_text(request.args.get(name))[:limit]


def year_param(default: int) -> int:
    """The ``year`` of the query string, within the supported years."""
    return int_param("year", default, YEAR_MIN, YEAR_MAX)


def in_date_range(value) -> bool:
    """False for a date or date-time outside ``DATE_MIN``–``DATE_MAX``; True for anything else."""
    if not isinstance(value, date):
        return True
    day = value.date() if isinstance(value, datetime) else value
    return DATE_MIN <= day <= DATE_MAX


class IdConverter(IntegerConverter):
    """``<int:…>`` in every URL, held to an INTEGER column's range: a larger number is a 404 like a
    missing object, never a database error (PostgreSQL refuses to compare it)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)
