"""The one CSV writer of every export, safe to open in a spreadsheet (docs/security/input.md).

A cell that starts with = + - @, a tab or a carriage return is read by Excel and LibreOffice as a
formula (CSV injection): such a cell gets a leading apostrophe, which the spreadsheet shows as text.
Every cell is quoted, so a separator or a line break inside a text cannot start a new cell that would
itself be read as a formula. Numbers stay numbers. The file starts with a byte-order mark so Excel
reads Vietnamese as UTF-8.
"""

from __future__ import annotations

import csv
import io

from flask import Response

from . import files

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a cell no spreadsheet evaluates."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(header: list, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return "\ufeff" + buffer.getvalue()


def csv_response(filename: str, header: list, rows) -> Response:
    """A CSV download of ``header`` and ``rows``."""
    return files.send(to_csv(header, rows), content_type="text/csv", filename=filename)
