"""Hooks the meetings plugin defines (added to the manager through ``PluginInfo.hookspecs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intranet.hookspecs import hookspec

if TYPE_CHECKING:
    from .providers import RoomProvider


@hookspec
def intranet_room_providers() -> list[RoomProvider]:
    """Return a list of ``intranet_meetings.providers.RoomProvider`` — a way to hold a meeting's room:
    its ``name``, its translated ``label``, the ``template`` that renders the room page (it receives
    ``session``, ``room``, ``office_config`` and ``page``) and whether it ``needs_link``. The meetings plugin
    ships three: ``jitsi``, ``external`` (a pasted Zoom/Teams link with check-in) and ``in_person``.
    Called through the office-scoped proxy, so an office is offered only the providers of plugins it has
    on; the secretary picks one per meeting."""
