"""Sealing what is held until it may be published without its author (a member's rating, a secret
ballot): authenticated encryption (Fernet) under a key derived from the application's SECRET_KEY and
the holder's ``purpose``, so someone who reads the database but not the server's configuration cannot
read a held value while its row still sits next to the row that says who gave it, and a value sealed
for one purpose does not open for another."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet(purpose: bytes) -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode() if isinstance(secret, str) else secret
    )
    return Fernet(base64.urlsafe_b64encode(key))


PAD = 64


def _padded(payload: bytes) -> bytes:
    """Spaces (JSON ignores them) up to a multiple of ``PAD`` bytes: a token's length follows its
    content's, and "for" against "against" would otherwise tell a held ballot's choice to anyone who
    reads the database."""
    return payload + b" " * (-len(payload) % PAD)


@dataclass(frozen=True)
class Sealer:
    """One holder's seal: ``purpose`` names what is sealed (a key of its own for each holder)."""

    purpose: bytes

    def seal(self, values: dict) -> str:
        # Fernet writes the time of sealing in clear into the token; 0 instead, so the token carries no time.
        return _fernet(self.purpose).encrypt_at_time(_padded(json.dumps(values).encode()), current_time=0).decode()

    def unseal(self, token: str) -> dict | None:
        """The values, or None when the key changed since sealing (SECRET_KEY rotated) or the token was
        sealed for another purpose: unreadable by design."""
        try:
            return json.loads(_fernet(self.purpose).decrypt(token.encode()))
        except InvalidToken:
            return None
