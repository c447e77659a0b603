"""The audit helper the core and plugins call for every change: who, when, what, which object.

The event joins the caller's transaction, so it is written exactly when the change is.
"""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user

from .extensions import db
from .models import AuditEvent


def record(
    action: str, object_type: str, object_id, *, office_id: int | None, actor=None, anonymous: bool = False, **details
) -> AuditEvent:
    """Add an AuditEvent to the session. ``actor`` defaults to the signed-in user (None from the CLI);
    ``anonymous`` records that the change happened, not by whom (an anonymous member's act)."""
    if anonymous:
        actor = None
    elif actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        office_id=office_id,
        actor_id=getattr(actor, "id", None),
        details={k: _jsonable(v) for k, v in details.items()},
    )
    db.session.add(event)
    return event


def record_change(
    action: str, obj, *, office_id: int | None, actor=None, anonymous: bool = False, **details
) -> AuditEvent:
    """``record`` for a model instance: names it by its table and primary key (flushing a new one)."""
    if getattr(obj, "id", None) is None:
        db.session.flush()
    return record(action, obj.__tablename__, obj.id, office_id=office_id, actor=actor, anonymous=anonymous, **details)


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(getattr(value, "value", value))
