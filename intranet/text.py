"""The one text-cleaning rule for every text the intranet stores (docs/security/input.md).

Text is normalised to Unicode NFC; control characters (Cc), format characters (Cf: zero-width
characters, bidi overrides and isolates, soft hyphens…), lone surrogates (Cs) and Unicode
non-characters are removed. A single-line text turns tabs, line breaks and other whitespace controls
into spaces and each run of spaces into one; a multi-line text keeps newlines (CR LF, CR and the
other whitespace controls become LF) and tabs. Both are stripped at the ends. What is left is valid in XML (.docx), in PostgreSQL (no NUL) and shows what it stores:
nothing invisible can reorder or hide the text around it.

Forms apply it to every text field (``intranet.forms.Form``), services call ``clean_text`` before
they check a text, and the model layer (``guard_columns``) cleans every String/Text/JSON value as it
is assigned, so nothing reaches the database uncleaned.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import JSON, Enum, String, Text, event

KEPT_IN_MULTILINE = "\n\t"
SPACES = re.compile(" {2,}")
DROPPED_CATEGORIES = {"Cc", "Cf", "Cs"}


def _noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def clean_text(value: str | None, multiline: bool = False) -> str:
    """``value`` cleaned by the rule above; ``None`` becomes ``""``."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in value:
        if multiline and char in KEPT_IN_MULTILINE:
            kept.append(char)
        elif unicodedata.category(char) in DROPPED_CATEGORIES or _noncharacter(ord(char)):
            if char.isspace():  # vertical tab, form feed…: Word's manual line break, a page break
                kept.append("\n" if multiline else " ")
        else:
            kept.append(char)
    text = "".join(kept)
    return (text if multiline else SPACES.sub(" ", text)).strip()


def invisible_only(raw: str | None, multiline: bool = False) -> bool:
    """True when ``raw`` has characters but none is left visible once cleaned (zero-width only, bidi
    overrides only…): such a text is refused as empty rather than stored as nothing."""
    return bool(raw) and not str(raw).isspace() and not clean_text(raw, multiline)


def _clean_json(value):
    if isinstance(value, str):
        return clean_text(value, multiline=True)
    if isinstance(value, dict):
        return {_clean_json(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def _column_cleaner(column_type):
    """The cleaner of one column type, or None for columns that hold no free text."""
    if isinstance(column_type, Enum):
        return None
    if isinstance(column_type, Text):
        return lambda value: clean_text(value, multiline=True) if isinstance(value, str) else value
    if isinstance(column_type, String):
        return lambda value: clean_text(value) if isinstance(value, str) else value
    if isinstance(column_type, JSON):
        return _clean_json
    return None


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


def guard_columns(base) -> None:
    """The last line of defence: every String/Text/JSON attribute of every model of ``base`` is cleaned
    when it is set (constructor keywords included), whichever code path sets it. A column marked
    ``info={"verbatim": True}`` (a password another server checks, never shown) only loses NUL, which
    PostgreSQL cannot store; its writer refuses control characters with a message."""

    @event.listens_for(base, "mapper_configured", propagate=True)
    def _guard(mapper, class_):
        for prop in mapper.column_attrs:
            if prop.parent is not mapper or len(prop.columns) != 1:
                continue
            cleaner = _column_cleaner(prop.columns[0].type)
            if cleaner is not None and prop.columns[0].info.get("verbatim"):
                cleaner = _without_nul  # a secret another server checks: as typed, but storable
            if cleaner is not None:
                event.listen(
                    getattr(class_, prop.key),
                    "set",
                    lambda target, value, old, initiator, clean=cleaner: clean(value),
                    retval=True,
                )
