"""Exactly-once browser actions over a bad link.

A form marked ``data-outbox`` is kept in the browser's outbox (``static/js/intranet.js``) and sent
with an ``Idempotency-Key`` header until the server acknowledges it — after a dropped connection the
browser cannot tell "never arrived" from "arrived, answer lost", so it sends again. A view decorated
with ``@idempotent`` records the key in the same transaction as the change: a repeat finds the key and
is answered as the first was, without running the view again. Refusals (4xx) record nothing, so a
corrected retry still runs.

A key belongs to one request: the user, the endpoint and a hash of the request (method, path, form
fields but the CSRF token, uploaded files). The same key on another endpoint or with another body is
a client's mistake, refused with 422 and a message — never "replayed", which would drop the change.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from functools import partial, wraps

from flask import Response, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .models import UTCDateTime, utcnow

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP = timedelta(days=7)


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(120))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # None: kept from before keys were bound
    status_code: Mapped[int | None] = mapped_column()
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def idempotent(view=None, *, private: tuple[str, ...] = ()):
    """Run ``view`` at most once per (user, Idempotency-Key). Without the header it runs as usual
    (a plain form post from a browser without the script). ``private``: form fields the stored
    fingerprint leaves out, because the key row names its user — a secret ballot's choice has three
    values, and hashing each would tell how the member voted. A key reused with another value of such a
    field is then answered as its first request."""
    if view is None:
        return partial(idempotent, private=private)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not current_user.is_authenticated:
            return view(*args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            return Response("Idempotency-Key: 16–64 letters, digits, '-' or '_'", status=400, mimetype="text/plain")
        fingerprint = _fingerprint(private)
        earlier = _find(key)
        if earlier is not None:
            return _replay(earlier, fingerprint)
        row = IdempotencyKey(
            user_id=current_user.id, key=key, endpoint=request.endpoint or "", request_hash=fingerprint
        )
        db.session.add(row)
        try:
            db.session.flush()  # a concurrent twin waits here for our commit, then fails the unique key
        except IntegrityError:
            db.session.rollback()
            earlier = _find(key)
            return _replay(earlier, fingerprint) if earlier is not None else view(*args, **kwargs)
        response = make_response(view(*args, **kwargs))
        _settle(row, response)
        return response

    return wrapper


def _find(key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key)
    )


def _settle(row: IdempotencyKey, response: Response) -> None:
    """Keep the key only when the change went through; the view has committed or rolled back by now."""
    state = db.inspect(row)
    if state.transient or state.detached:  # the view rolled back: nothing happened, nothing to remember
        return
    if response.status_code >= 400:
        db.session.rollback()
        return
    row.status_code = response.status_code
    row.location = response.headers.get("Location")
    db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.user_id == row.user_id, IdempotencyKey.created_at < utcnow() - KEEP)
    )
    db.session.commit()


def _fingerprint(private: tuple[str, ...] = ()) -> str:
    """What the request asks for: method, path (endpoint and its arguments), form fields but the CSRF
    token (a retry after a reload carries a new one) and the ``private`` ones, uploaded files' names and
    contents."""
    digest = hashlib.sha256()
    left_out = {"csrf_token", *private}
    fields = sorted((k, v) for k, v in request.form.items(multi=True) if k not in left_out)
    digest.update(json.dumps([request.method, request.path, fields]).encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        digest.update(json.dumps([name, upload.filename]).encode())
        for chunk in iter(partial(upload.stream.read, 1 << 16), b""):
            digest.update(chunk)
        upload.stream.seek(0)
    return digest.hexdigest()


def _replay(earlier: IdempotencyKey, fingerprint: str) -> Response:
    if earlier.endpoint != (request.endpoint or "") or earlier.request_hash not in (None, fingerprint):
        return Response(
            _("This Idempotency-Key was already used for another request. Send each change with a key of its own."),
            status=422,
            mimetype="text/plain",
        )
    # The twin that ran first may not have written its answer yet; it did succeed (its key committed).
    response = Response(status=earlier.status_code or 204)
    if earlier.location:
        response.headers["Location"] = earlier.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
