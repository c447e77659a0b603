"""The ``int`` of every route (``<int:session_id>``): ids the database can hold. A number beyond
PostgreSQL's Integer (2**31 - 1; SQLite cannot even bind past 2**63) names no row, so the route does
not match — a 404 like any unknown id, never a database error from whichever view would load it."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from .params import INT_MAX


class DatabaseInteger(IntegerConverter):
    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT_MAX, signed: bool = False
    ):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
