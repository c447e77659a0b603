"""Hooks the scheduling plugin calls, for other plugins to implement (added to the manager through
``PluginInfo.hookspecs``). Called through the office-scoped proxy: only plugins enabled for the
session's office hear them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from intranet.hookspecs import hookspec

if TYPE_CHECKING:
    from intranet.models import User

    from .models import Meeting, SessionStatus


@dataclass(frozen=True)
class VoteResult:
    """A vote held in a meeting, once its count is final: what the minutes, the resolution and the
    counting committee's report (biên bản kiểm phiếu) print. Counts are people, never ballots' order."""

    vote_id: int
    subject: str  # "resolution", "motion", "admission", "official_membership", "commendation", "discipline"
    title: str  # the motion as the chair typed it, or the resolution's title
    secret: bool  # secret ballot (bỏ phiếu kín) rather than an open vote
    base: int  # what the threshold is a share of, e.g. the cell's official members
    base_label: str  # in Vietnamese, e.g. "đảng viên chính thức"
    eligible_present: int  # official members present who could vote
    voted: int  # ballots counted (online and paper) or hands counted
    voted_on_paper: int  # of those, paper ballots entered by the counting committee (0 for an open vote)
    in_favour: int
    against: int
    other: int  # other opinions; for a secret ballot, blank or spoilt ballots
    passed: bool
    sentence: str  # in Vietnamese, e.g. "Nghị quyết được thông qua với 9/11 đảng viên chính thức tán thành, đạt 81,8 %"
    counting_committee: tuple[str, ...]  # full names, the head first; empty for an open vote
    closed_at: datetime  # aware, UTC


@hookspec
def intranet_session_created(session: Meeting, actor: User | None) -> None:
    """Called after a meeting (``intranet_scheduling.models.Meeting``) is created, before commit."""


@hookspec
def intranet_session_status_changed(session: Meeting, previous: SessionStatus, actor: User | None) -> None:
    """Called after a meeting moved from ``previous`` to ``session.status`` (documents sent, in
    progress, closed), before commit; e.g. a room opens when the meeting is in progress."""


@hookspec
def intranet_session_question_asked(session: Meeting, user: User, text: str, asked_at: datetime) -> None:
    """Called when a member asks a question about a meeting's report before the meeting (before
    commit). The question queue plugin takes it into the meeting's queue; the scheduling plugin keeps
    its own copy for the presenting group either way."""


@hookspec(firstresult=True)
def intranet_session_anonymity(session: Meeting) -> str | None:
    """Return who may see the author of a question asked about this meeting: ``"named"`` (everyone),
    ``"chair"`` (the chair only) or ``"anonymous"`` (nobody but the author), or ``None``. The question
    queue plugin answers with its meeting's mode, and the scheduling plugin applies it to every copy
    it keeps of a question asked with the documents (page, audit): the queue's mode is the authority."""


@hookspec(firstresult=True)
def intranet_session_author_shown(session: Meeting, viewer: User, asked: str) -> bool | None:
    """Return whether ``viewer`` may see the author of a question asked about this meeting in mode
    ``asked`` (what ``intranet_session_anonymity`` answered then), or ``None``. The question queue
    plugin answers by its own rule — the stricter of ``asked`` and the meeting's mode now, the chair as
    it knows the chair — so the scheduling plugin shows a name exactly where the queue would."""


@hookspec
def intranet_session_member_joined(session: Meeting, user: User, source: str) -> None:
    """Call this when a member joins a meeting outside the chair's roll-call — ``source`` names how
    ("jitsi", "external-link check-in", …). The scheduling plugin implements it and marks the member
    present (never absent); other plugins may listen too. Call it before commit."""


@hookspec
def intranet_session_participation(
    sessions: list[Meeting], viewer: User | None
) -> dict[int, dict[int, dict[str, int]]] | None:
    """Return what this plugin knows of each member's part in these meetings (one office's), as
    ``{session_id: {user_id: {name: number}}}`` (e.g. ``{"questions_asked": 2, "times_spoken": 1,
    "seconds_spoken": 140}``), leaving out the meetings it knows nothing of; or ``None``. Read all the
    meetings together, in a number of queries that does not grow with them (a year's review asks for
    every meeting of the year). Report every member you track, zeros included: the evaluations plugin
    merges every plugin's answer into the participation record and reads a missing key as "not
    known", a zero as "did not".

    The figures are ``viewer``'s: a member's count holds only the acts ``viewer`` may know were that
    member's — an act whose author your plugin hides from ``viewer`` (asked anonymously, or known to
    the chair only while ``viewer`` does not chair) is left out of its author's figures, except in
    ``viewer``'s own line. ``viewer`` None asks for figures anyone may read — a document, a review,
    anything stored: leave out every act done under any anonymity. Who may see a figure is decided
    here, by the plugin that knows the act, never by the page showing it; store only None's figures."""


@hookspec
def intranet_session_guests(session: Meeting) -> list[dict[str, str]] | None:
    """Return the people from outside the cell invited to this meeting, for its minutes' attendance,
    as ``[{"name": full name, "office": their office's name}]``, or ``None``."""


@hookspec
def intranet_session_discussion(session: Meeting) -> dict[str, list[dict[str, Any]]] | None:
    """Return the discussion of a meeting for its minutes, or ``None``: ``{"questions": [{"text",
    "author" (a name, or None when the meeting did not show names), "votes", "answered",
    "discussion_question_id", "asked_at"}], "speakers": [{"name", "times", "seconds"}]}``."""


@hookspec
def intranet_session_hand(session: Meeting, user: User, raised: bool) -> None:
    """``user`` raised (``raised`` True) or lowered (False) their hand with an online room's own button
    (the meetings plugin passes on Jitsi's ``raiseHandUpdated``). A plugin that keeps a speakers list
    puts them on it, or takes a hand still waiting off it; what cannot be done (already on the list, a
    closed meeting, a guest) is left undone quietly — the room's button is not the place to say why."""


@hookspec(firstresult=True)
def intranet_session_floor(session: Meeting, user: User) -> bool | None:
    """Return True when ``user`` has the floor in ``session`` right now, False when not, ``None`` when
    this plugin keeps no speakers list (the meetings plugin then lowers the hand still raised in the
    online room, through the room's own API)."""


@hookspec
def intranet_session_vote_closed(session: Meeting, result: VoteResult) -> None:
    """Called when a vote held in this meeting has its final count (an open vote when the chair closes
    it, a secret ballot when the counting committee confirms its count), before commit. The votes plugin
    calls it; the evaluations plugin puts the result into the meeting's minutes and resolution (a failed
    vote on the resolution leaves it a draft) and drafts the counting committee's report."""
