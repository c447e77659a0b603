"""Jitsi's token auth (PyJWT), as prosody's ``token_verification`` checks it.

Self-hosted (HS256): ``iss`` and ``aud`` are the app id, ``sub`` the Jitsi domain, signed with the app
secret. Jitsi as a Service (RS256): ``iss`` "chat", ``aud`` "jitsi", ``sub`` the tenant (app id), the
API key's id in the header's ``kid``. Both: ``room`` the bare room name (never ``*``, so a token opens
one room), ``nbf`` a little in the past for clock skew, a short ``exp``, and ``context.user`` with
string fields; ``moderator`` "true" only for the chair and the secretary. jitsi-meet's own prosody
modules ignore that claim: a self-hosted server needs jitsi-contrib's ``token_affiliation`` module, which
makes an occupant the room's owner for ``affiliation`` "owner" (or ``moderator`` "true"), everyone else
a member (README "Jitsi set-up"); JaaS reads ``moderator`` itself."""

from __future__ import annotations

import time

import jwt

from .models import JitsiAuth, OfficeConfig

SKEW_SECONDS = 60
LIFETIME_SECONDS = 15 * 60  # a rejoin asks for a fresh one


def token(
    config: OfficeConfig, domain: str, room_name: str, user, *, moderator: bool, now: float | None = None
) -> str | None:
    """The token for ``user`` to enter ``room_name`` on ``domain``; None for an open Jitsi."""
    if config.auth == JitsiAuth.NONE:
        return None
    now = int(now if now is not None else time.time())
    claims = {
        "room": room_name,
        "nbf": now - SKEW_SECONDS,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
        "context": {
            "user": {
                "id": str(user.id),
                "name": user.full_name,
                "email": user.email or "",
                "avatar": "",
                "moderator": "true" if moderator else "false",
                "affiliation": "owner" if moderator else "member",
            }
        },
    }
    if config.auth == JitsiAuth.HS256:
        claims.update(iss=config.app_id, aud=config.app_id, sub=domain)
        return jwt.encode(claims, config.app_secret, algorithm="HS256")
    claims.update(iss="chat", aud="jitsi", sub=config.app_id)
    return jwt.encode(claims, config.jaas_private_key, algorithm="RS256", headers={"kid": config.jaas_key_id})


def domains(config: OfficeConfig) -> list[str]:
    """The main domain, then the backups, in the order the page tries them."""
    backups = [d.strip() for d in config.backup_domains.replace(",", "\n").splitlines() if d.strip()]
    return [d for d in [config.jitsi_domain.strip(), *backups] if d]


def script_url(config: OfficeConfig, domain: str) -> str:
    """Where the IFrame API's script lives: JaaS serves it under the tenant (``8x8.vc/<AppID>/``), a
    self-hosted server at its root."""
    if config.auth == JitsiAuth.JAAS:
        return f"https://{domain}/{config.app_id}/external_api.js"
    return f"https://{domain}/external_api.js"


def room_path(config: OfficeConfig, room_name: str) -> str:
    """JaaS rooms live under the tenant: ``<tenant>/<room>``; a self-hosted room is the bare name."""
    return f"{config.app_id}/{room_name}" if config.auth == JitsiAuth.JAAS else room_name
