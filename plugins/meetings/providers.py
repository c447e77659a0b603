"""The ways to hold a meeting's room, gathered from ``intranet_room_providers``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class RoomProvider:
    name: str
    label: Any
    template: str
    needs_link: bool = False


BUILT_IN = [
    RoomProvider("jitsi", _l("Online room (Jitsi)"), "meetings/room_jitsi.html"),
    RoomProvider(
        "external", _l("External link (Zoom, Teams…) with check-in"), "meetings/room_external.html", needs_link=True
    ),
    RoomProvider("in_person", _l("In person, in the hall"), "meetings/room_in_person.html"),
]


def all_providers(office_id: int) -> dict[str, RoomProvider]:
    """The ways the office may hold a room: those of the plugins it has on."""
    from intranet.plugins import manager

    found: dict[str, RoomProvider] = {}
    for result in manager().for_office(office_id).intranet_room_providers():
        for provider in result or []:
            found.setdefault(provider.name, provider)
    return found
