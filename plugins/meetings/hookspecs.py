"""Hooks the meetings plugin defines (added to the manager through ``PluginInfo.hookspecs``)."""
from intranet.hookspecs import hookspec


@hookspec
def intranet_room_providers():
    """Return a list of ``intranet_meetings.providers.RoomProvider`` — a way to hold a meeting's room:
    its ``name``, its translated ``label``, the ``template`` that renders the room page (it receives
    ``session``, ``room``, ``office_config`` and ``page``) and whether it ``needs_link``. The meetings plugin
    ships three: ``jitsi``, ``external`` (a pasted Zoom/Teams link with check-in) and ``in_person``.
    Called at start-up through the whole manager; the secretary picks one per meeting."""
