"""What every request reads of an office — its plugins' switches, its permission grants — kept by each
process while the office's ``state_stamp`` is unchanged. Every change of either gives the office a new
stamp in the same transaction (``restamp``), and the signed-in user's office comes with the user's
query, so a change made by another process or from the command line is seen at the next request, and
an unchanged office costs no query."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from .extensions import db
from .models import Office

T = TypeVar("T")

# (kind, office id) -> (the stamp it was read at, the value). A stamp is random, so a value read inside
# a transaction that rolls back is never matched again.
_kept: dict[tuple[str, int], tuple[str, object]] = {}


def kept(kind: str, office_id: int, read: Callable[[], T]) -> T:
    """``read()``'s value for the office, read again only when its stamp changed."""
    office = db.session.get(Office, office_id)
    if office is None:
        return read()
    hit = _kept.get((kind, office_id))
    if hit is not None and hit[0] == office.state_stamp:
        return hit[1]
    value = read()
    _kept[(kind, office_id)] = (office.state_stamp, value)
    return value


def restamp(office_id: int) -> None:
    """The office's switches or grants change in this transaction: every process reads them again."""
    db.session.get(Office, office_id).state_stamp = secrets.token_hex(8)
