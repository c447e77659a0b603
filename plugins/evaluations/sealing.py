"""Sealing a held rating (``PendingRating``): authenticated encryption (Fernet) under a key derived
from the application's SECRET_KEY, so someone who reads the database but not the server's
configuration cannot read a rating while its row still sits next to its receipt."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PURPOSE = b"intranet evaluations: held ratings"


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode() if isinstance(secret, str) else secret
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(values: dict) -> str:
    # Fernet writes the time of sealing in clear into the token; 0 instead, so the token carries no time.
    return _fernet().encrypt_at_time(json.dumps(values).encode(), current_time=0).decode()


def unseal(token: str) -> dict | None:
    """The values, or None when the key changed since sealing (SECRET_KEY rotated): unreadable by design."""
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        return None
