"""The question queue and speakers list, free of Flask request objects. Each function changes the
database session, audits where the change is the chair's, and announces the live channels it touched
once the caller commits; it raises ServiceError (translated) to refuse, and the caller rolls back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from intranet import live
from intranet.access import can, holders
from intranet.audit import record, record_change
from intranet.extensions import db
from intranet.models import User, utcnow
from intranet.refusals import ServiceError
from intranet.text import clean_text as core_clean
from intranet_scheduling.models import DiscussionQuestion, Meeting, SessionStatus

from .models import Anonymity, Question, QuestionStatus, QueueSettings, Sort, Speaker, SpeakerSource, SpeakerState, Vote

REASON_MAX = 300
OPEN_LIMIT_RANGE = (1, 20)
LIVE = (QuestionStatus.OPEN, QuestionStatus.ANSWERED)  # what members see in the queue


# --- channels ---------------------------------------------------------------------------------------


def queue_channel(session_id: int) -> str:
    return f"questions:{session_id}:queue"


def speakers_channel(session_id: int) -> str:
    return f"questions:{session_id}:speakers"


def mine_channel(session_id: int, user_id: int) -> str:
    return f"questions:{session_id}:mine:{user_id}"


# What each kind of change moves, so which channels it publishes: the one table ``_announce`` reads.
# A region is redrawn only when its channel is published, so a change publishes every channel whose
# regions show something it moved. The chair's counters (the moderation region, on the queue channel)
# count the members who have spoken, so the floor given or ended moves the queue channel too.
PUBLISHES = {
    "question": ("queue", "mine"),  # asked, moderated, voted: the queue, the counters, the author's part
    "hand": ("speakers", "mine"),  # a hand raised or lowered: no counter moves
    "floor": ("speakers", "queue", "mine"),  # the floor given or ended: "members have spoken" moves
    "meeting": ("queue", "speakers"),  # the settings, the question on screen, the close
}
_SHARED = {"queue": queue_channel, "speakers": speakers_channel}


def _announce(change: str, session_id: int, user_id: int | None = None, *, prompt: bool = True) -> None:
    """Publish at commit what ``change`` moved; a vote (``prompt=False``) waits to be coalesced."""
    live.publish_on_commit(
        *(
            mine_channel(session_id, user_id) if name == "mine" else _SHARED[name](session_id)
            for name in PUBLISHES[change]
            if name != "mine" or user_id is not None
        ),
        prompt=prompt,
    )


def _announce_queue(question: Question, *, prompt: bool = True) -> None:
    _announce("question", question.session_id, question.author_id, prompt=prompt)


# --- who -------------------------------------------------------------------------------------------


# A meeting's unsaved default settings, kept for the transaction: a stored row is found again in the
# identity map, a missing one would be queried again by every reader of one page.
_DEFAULTS = "questions_default_settings"


def queue_settings(meeting: Meeting) -> QueueSettings:
    """The meeting's settings; the defaults (not yet stored) until the chair first saves them."""
    defaults = db.session.info.setdefault(_DEFAULTS, {})
    if meeting.id in defaults:
        return defaults[meeting.id]
    settings = db.session.get(QueueSettings, meeting.id)
    if settings is None:
        settings = defaults[meeting.id] = default_settings(meeting)
    return settings


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_defaults(orm_session, transaction) -> None:
    orm_session.info.pop(_DEFAULTS, None)


def default_settings(meeting: Meeting) -> QueueSettings:
    return QueueSettings(
        session_id=meeting.id,
        office_id=meeting.office_id,
        anonymity=Anonymity.CHAIR_ONLY,
        premoderation=False,
        sort=Sort.VOTES,
        quiet_first=True,
        open_limit=current_app.config["QUESTIONS_OPEN_LIMIT"],
    )


def is_participant(user, meeting: Meeting) -> bool:
    return is_cell_member(user, meeting.office_id)


def is_cell_member(user, office_id: int) -> bool:
    """Takes part in the meetings of the office's cell (checked before anything of a meeting is looked up)."""
    return can(user, "questions.take_part", office_id)


def visible_to(question: Question, user, settings: QueueSettings | None = None) -> bool:
    """Whether this participant may know the question exists: it is in the queue members see, it is
    their own, or they chair the meeting. Anything else is answered as if it did not exist."""
    if question.status in LIVE or question.author_id == user.id:
        return True
    return is_chair(user, db.session.get(Meeting, question.session_id), settings)


def is_chair(user, meeting: Meeting, settings: QueueSettings | None = None) -> bool:
    """Who holds ``questions.moderate`` (the secretary and deputies by default), or the member named
    to chair this meeting."""
    if not is_participant(user, meeting):
        return False
    settings = settings or queue_settings(meeting)
    return can(user, "questions.moderate", meeting.office_id) or settings.chair_id == user.id


def participants(meeting: Meeting) -> list[User]:
    return holders("questions.take_part", meeting.office_id)


def _participant_or_refuse(user, meeting: Meeting) -> None:
    if not is_participant(user, meeting):
        raise ServiceError(_("Only members of this cell take part in its meetings."))


def _open_or_refuse(meeting: Meeting) -> None:
    if meeting.status == SessionStatus.CLOSED:
        raise ServiceError(_("This meeting is closed."))


def _chair_or_refuse(user, meeting: Meeting) -> QueueSettings:
    settings = queue_settings(meeting)
    if not is_chair(user, meeting, settings):
        raise ServiceError(_("Only the chair of the meeting can do this."))
    return settings


# --- settings --------------------------------------------------------------------------------------


def save_settings(
    meeting: Meeting,
    actor,
    *,
    anonymity: Anonymity,
    premoderation: bool,
    sort: Sort,
    quiet_first: bool,
    open_limit: int,
    chair: User | None,
) -> QueueSettings:
    settings = _chair_or_refuse(actor, meeting)
    _open_or_refuse(meeting)
    if not OPEN_LIMIT_RANGE[0] <= open_limit <= OPEN_LIMIT_RANGE[1]:
        raise ServiceError(
            _("Between %(low)d and %(high)d.", low=OPEN_LIMIT_RANGE[0], high=OPEN_LIMIT_RANGE[1]), "open_limit"
        )
    chair_id = chair.id if chair else None
    if chair_id != settings.chair_id and not can(actor, "questions.name_chair", meeting.office_id):
        raise ServiceError(_("Only the secretary names the chair of a meeting."), "chair_id")
    if chair is not None and not is_participant(chair, meeting):
        raise ServiceError(_("“%(name)s” is not a member of this cell.", name=chair.full_name), "chair_id")
    previous = {
        "anonymity": settings.anonymity.value,
        "premoderation": settings.premoderation,
        "open_limit": settings.open_limit,
        "chair_id": settings.chair_id,
    }
    settings.anonymity, settings.premoderation, settings.sort = anonymity, premoderation, sort
    settings.quiet_first, settings.open_limit, settings.chair_id = quiet_first, open_limit, chair_id
    if db.inspect(settings).transient:
        db.session.add(settings)
    record(
        "questions.settings",
        QueueSettings.__tablename__,
        meeting.id,
        office_id=meeting.office_id,
        actor=actor,
        previous=previous,
        anonymity=anonymity.value,
        premoderation=premoderation,
        open_limit=open_limit,
        chair_id=chair_id,
    )
    _announce("meeting", meeting.id)
    return settings


# --- asking ----------------------------------------------------------------------------------------


def clean_text(text: str | None, *, limited: bool = True) -> str:
    """Whitespace-trimmed text without control characters; refused when empty or too long.
    HTML is kept as typed: templates escape it, so it shows as the characters the member wrote."""
    text = core_clean(text, multiline=True)
    limit, field = current_app.config["QUESTIONS_MAX_LENGTH"], "text"
    if not text:
        raise ServiceError(_("Write your question."), field)
    if limited and len(text) > limit:
        raise ServiceError(_("At most %(max)d characters (you wrote %(count)d).", max=limit, count=len(text)), field)
    return text


def ask(
    meeting: Meeting,
    user: User,
    text: str,
    *,
    discussion_question_id: int | None = None,
    through_chair: bool = False,
    from_report: bool = False,
    asked_at: datetime | None = None,
) -> Question:
    # A question sent with the documents was checked by the scheduling plugin (its own, longer limit).
    text = clean_text(text, limited=not from_report)
    _participant_or_refuse(user, meeting)
    _open_or_refuse(meeting)
    if discussion_question_id is not None:
        target = db.session.get(DiscussionQuestion, discussion_question_id)
        if target is None or target.session_id != meeting.id:
            raise ServiceError(_("Choose one of this meeting's discussion questions."), "target")
    settings = queue_settings(meeting)
    # Questions sent with the documents are the group's preparation material: not counted against the cap.
    if not from_report and open_count(meeting, user) >= settings.open_limit:
        raise ServiceError(
            _("You already have %(count)d questions waiting. Wait until one is answered.", count=settings.open_limit),
            "text",
        )
    question = Question(
        office_id=meeting.office_id,
        session_id=meeting.id,
        author_id=user.id,
        anonymity=settings.anonymity,
        through_chair=through_chair,
        discussion_question_id=discussion_question_id,
        from_report=from_report,
        text=text,
        status=QuestionStatus.PENDING if settings.premoderation else QuestionStatus.OPEN,
        created_at=asked_at or utcnow(),
        votes=0,
    )
    db.session.add(question)
    db.session.flush()
    _announce_queue(question)
    return question


def open_count(meeting: Meeting, user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Question.id)).where(
                Question.session_id == meeting.id,
                Question.author_id == user.id,
                Question.status.in_((QuestionStatus.PENDING, QuestionStatus.OPEN)),
            )
        )
        or 0
    )


# --- votes -----------------------------------------------------------------------------------------


def set_vote(question: Question, user: User, on: bool) -> bool:
    """Vote for the question (``on``) or take the vote back: the state the member asked for, so a
    request sent twice (a retry after a lost reply) leaves the same state, never its opposite."""
    meeting = db.session.get(Meeting, question.session_id)
    _participant_or_refuse(user, meeting)
    _open_or_refuse(meeting)
    if question.author_id == user.id:
        raise ServiceError(_("You cannot vote for your own question."))
    _lock_votes(question)  # a merge or a hide that just committed is seen below
    if question.status != QuestionStatus.OPEN:
        raise ServiceError(_("Only open questions take votes."))
    if not on:
        db.session.execute(delete(Vote).where(Vote.question_id == question.id, Vote.user_id == user.id))
        _count_votes(question)
        return False
    try:
        with db.session.begin_nested():
            db.session.execute(
                insert(Vote).values(
                    question_id=question.id,
                    user_id=user.id,
                    office_id=question.office_id,
                    session_id=question.session_id,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:  # already voted (or the member's twin request got there first): one vote, as asked
        pass
    _count_votes(question)
    return True


def _lock_votes(question: Question) -> None:
    """Take the question's row lock before counting its votes (FOR NO KEY UPDATE: inserting a vote
    only needs a key-share lock on its question, so voters never deadlock on it). The count is then
    read by a later statement, which under READ COMMITTED sees every vote committed before the lock
    was granted: ``UPDATE … SET votes=(SELECT count(*) …)`` alone counts from the snapshot taken before
    it waited for a concurrent voter, and lost that voter's vote. SQLite has one writer at a time.
    The question is read again under the lock, so a status check after it sees the latest status."""
    db.session.scalars(
        select(Question)
        .where(Question.id == question.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def _count_votes(question: Question) -> None:
    """Every change to a question's vote rows ends here, in the same transaction: the counter is the
    rows' count, taken under the row lock (see ``_lock_votes``)."""
    _lock_votes(question)
    counted = select(func.count()).where(Vote.question_id == question.id).scalar_subquery()
    db.session.execute(update(Question).where(Question.id == question.id).values(votes=counted))
    db.session.refresh(question, ["votes"])
    _announce_queue(question, prompt=False)


def voted_ids(meeting: Meeting, user: User) -> set[int]:
    return set(
        db.session.scalars(select(Vote.question_id).where(Vote.session_id == meeting.id, Vote.user_id == user.id))
    )


# --- moderation ------------------------------------------------------------------------------------


def _moderation(question: Question, actor) -> QueueSettings:
    """The chair's right first, before anything of the question (its state) shapes the answer."""
    meeting = db.session.get(Meeting, question.session_id)
    settings = _chair_or_refuse(actor, meeting)
    _open_or_refuse(meeting)
    return settings


def _moderated(question: Question, actor, action: str, **details) -> None:
    record_change(f"questions.{action}", question, office_id=question.office_id, actor=actor, **details)
    _announce_queue(question)


def approve(question: Question, actor) -> None:
    _moderation(question, actor)
    if question.status != QuestionStatus.PENDING:
        raise ServiceError(_("This question is not waiting for approval."))
    _moderated(question, actor, "approve")
    question.status = QuestionStatus.OPEN


def pin(question: Question, actor) -> None:
    """Put the question on screen as the one being discussed now (one at a time)."""
    settings = _moderation(question, actor)
    if question.status != QuestionStatus.OPEN:
        raise ServiceError(_("Only an open question can be put on screen."))
    _moderated(question, actor, "pin")
    settings.current_question_id = question.id
    if db.inspect(settings).transient:
        db.session.add(settings)


def unpin(meeting: Meeting, actor) -> None:
    settings = _chair_or_refuse(actor, meeting)
    settings.current_question_id = None
    _announce("meeting", meeting.id)


def mark_answered(question: Question, actor) -> None:
    settings = _moderation(question, actor)
    if question.status != QuestionStatus.OPEN:
        raise ServiceError(_("Only an open question can be marked answered."))
    _moderated(question, actor, "answer")
    question.status, question.answered_at = QuestionStatus.ANSWERED, utcnow()
    if settings.current_question_id == question.id:
        settings.current_question_id = None


def reopen(question: Question, actor) -> None:
    """Undo "answered" or "hidden" (a slip of the chair's hand)."""
    _moderation(question, actor)
    if question.status not in (QuestionStatus.ANSWERED, QuestionStatus.HIDDEN):
        raise ServiceError(_("This question is already open."))
    _moderated(question, actor, "reopen", previous=question.status.value)
    question.status, question.answered_at, question.hidden_reason = QuestionStatus.OPEN, None, ""


def hide(question: Question, actor, reason: str) -> None:
    settings = _moderation(question, actor)
    reason = core_clean(reason)
    if not reason:
        raise ServiceError(_("Say why: the author will read it."), "reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(_("At most %(max)d characters.", max=REASON_MAX), "reason")
    if question.status in (QuestionStatus.HIDDEN, QuestionStatus.MERGED):
        raise ServiceError(_("This question is no longer in the queue."))
    _moderated(question, actor, "hide", reason=reason)
    question.status, question.hidden_reason = QuestionStatus.HIDDEN, reason
    if settings.current_question_id == question.id:
        settings.current_question_id = None


def edit(question: Question, actor, text: str) -> None:
    """Correct a typo; the author's original words are kept (the first version, however many edits)."""
    _moderation(question, actor)
    text = clean_text(text)
    if text == question.text:
        return
    _moderated(question, actor, "edit", previous=question.text)
    if question.original_text is None:
        question.original_text = question.text
    question.text, question.edited_at = text, utcnow()


def merge(duplicate: Question, into: Question, actor) -> None:
    """Fold a duplicate into another question: its votes (and its author's support) move across."""
    settings = _moderation(duplicate, actor)
    if into is None or duplicate.id == into.id or duplicate.session_id != into.session_id:
        raise ServiceError(_("Choose another question of this meeting."), "into")
    for question in sorted((duplicate, into), key=lambda q: q.id):  # one order: two merges never deadlock
        _lock_votes(question)
    if duplicate.status in (QuestionStatus.MERGED, QuestionStatus.HIDDEN):
        raise ServiceError(_("This question is no longer in the queue."))
    if into.status not in (QuestionStatus.OPEN, QuestionStatus.PENDING):
        raise ServiceError(_("Merge into an open question."), "into")
    _moderated(duplicate, actor, "merge", into=into.id)
    supporters = set(db.session.scalars(select(Vote.user_id).where(Vote.question_id == duplicate.id)))
    supporters.add(duplicate.author_id)
    already = set(db.session.scalars(select(Vote.user_id).where(Vote.question_id == into.id)))
    for user_id in supporters - already - {into.author_id}:
        db.session.add(Vote(question_id=into.id, user_id=user_id, office_id=into.office_id, session_id=into.session_id))
    db.session.execute(delete(Vote).where(Vote.question_id == duplicate.id))
    duplicate.status, duplicate.merged_into_id = QuestionStatus.MERGED, into.id
    if settings.current_question_id == duplicate.id:
        settings.current_question_id = into.id
    db.session.flush()
    _count_votes(duplicate)
    _count_votes(into)


# --- reading the queue ------------------------------------------------------------------------------


def author_shown(question: Question, settings: QueueSettings, *, to_chair: bool) -> bool:
    """Whether a viewer other than the author may see who asked. The strictest of the question's own
    setting, the meeting's current one and "through the chair" wins, so no change reveals an author."""
    rank = max(
        question.anonymity.rank, settings.anonymity.rank, Anonymity.CHAIR_ONLY.rank if question.through_chair else 0
    )
    if rank == Anonymity.NAMED.rank:
        return True
    return to_chair and rank == Anonymity.CHAIR_ONLY.rank


def counted_for(question: Question, settings: QueueSettings, viewer, chairs: bool) -> bool:
    """Whether ``viewer``'s participation figures count the question as its author's: the viewer asked
    it, or may see who did (``chairs``: the viewer chairs its meeting). None, a figure anyone may read:
    only a question asked under a name shown to all."""
    if viewer is not None and question.author_id == viewer.id:
        return True
    return author_shown(question, settings, to_chair=chairs)


def author_shown_in_mode(meeting: Meeting, viewer, asked: str) -> bool:
    """``author_shown`` for a copy of a question kept by another plugin, asked in mode ``asked``."""
    settings = queue_settings(meeting)
    try:
        rank = max(Anonymity(asked).rank, settings.anonymity.rank)
    except ValueError:  # an unknown mode: the strictest
        return False
    if rank == Anonymity.NAMED.rank:
        return True
    return rank == Anonymity.CHAIR_ONLY.rank and is_chair(viewer, meeting, settings)


def queue(meeting: Meeting, sort: Sort, *, statuses=LIVE) -> list[Question]:
    order = (
        (Question.votes.desc(), Question.created_at, Question.id)
        if sort == Sort.VOTES
        else (Question.created_at, Question.id)
    )
    return list(
        db.session.scalars(
            select(Question).where(Question.session_id == meeting.id, Question.status.in_(statuses)).order_by(*order)
        )
    )


def current_question(meeting: Meeting, settings: QueueSettings) -> Question | None:
    if settings.current_question_id is None:
        return None
    question = db.session.get(Question, settings.current_question_id)
    if question is None or question.session_id != meeting.id or question.status != QuestionStatus.OPEN:
        return None
    return question


def my_questions(meeting: Meeting, user_id: int) -> list[Question]:
    return list(
        db.session.scalars(
            select(Question)
            .where(Question.session_id == meeting.id, Question.author_id == user_id)
            .order_by(Question.id)
        )
    )


def my_turns(meeting: Meeting, user_id: int) -> list[Speaker]:
    return list(
        db.session.scalars(
            select(Speaker)
            .where(Speaker.session_id == meeting.id, Speaker.user_id == user_id)
            .order_by(Speaker.raised_at)
        )
    )


@dataclass(frozen=True)
class Counters:
    questions: int
    pending: int
    answered: int
    votes: int
    voters: int
    spoke: int  # members who have spoken
    participants: int


def counters(meeting: Meeting, participant_count: int) -> Counters:
    by_status = dict(
        db.session.execute(
            select(Question.status, func.count()).where(Question.session_id == meeting.id).group_by(Question.status)
        ).all()
    )
    votes, voters = db.session.execute(
        select(func.count(), func.count(func.distinct(Vote.user_id))).where(Vote.session_id == meeting.id)
    ).one()
    spoke = db.session.scalar(
        select(func.count(func.distinct(Speaker.user_id))).where(
            Speaker.session_id == meeting.id, Speaker.state.in_((SpeakerState.SPEAKING, SpeakerState.DONE))
        )
    )
    return Counters(
        questions=sum(n for s, n in by_status.items() if s != QuestionStatus.MERGED),
        pending=by_status.get(QuestionStatus.PENDING, 0),
        answered=by_status.get(QuestionStatus.ANSWERED, 0),
        votes=votes,
        voters=voters,
        spoke=spoke,
        participants=participant_count,
    )


# --- speakers list ---------------------------------------------------------------------------------


def _turns(meeting: Meeting, *states: SpeakerState) -> list[Speaker]:
    return list(
        db.session.scalars(
            select(Speaker)
            .where(Speaker.session_id == meeting.id, Speaker.state.in_(states))
            .order_by(Speaker.raised_at, Speaker.id)
        )
    )


def raise_hand(
    meeting: Meeting, user: User, *, source: SpeakerSource = SpeakerSource.QUEUE, question: Question | None = None
) -> Speaker:
    """Join the speakers list — to speak, or to reply to ``question``."""
    _participant_or_refuse(user, meeting)
    _open_or_refuse(meeting)
    if question is not None and (question.session_id != meeting.id or question.status not in LIVE):
        raise ServiceError(_("Choose a question of this meeting's queue."))
    if any(t.user_id == user.id for t in _turns(meeting, SpeakerState.WAITING, SpeakerState.SPEAKING)):
        raise ServiceError(_("You are already on the speakers list."))
    turn = Speaker(
        office_id=meeting.office_id,
        session_id=meeting.id,
        user_id=user.id,
        source=source,
        question_id=question.id if question else None,
        state=SpeakerState.WAITING,
        raised_at=utcnow(),
    )
    db.session.add(turn)
    db.session.flush()
    _announce("hand", meeting.id, turn.user_id)
    return turn


def withdraw(turn: Speaker, actor) -> None:
    """The member lowers their hand, or the chair takes them off the list."""
    meeting = db.session.get(Meeting, turn.session_id)
    if actor.id != turn.user_id:
        _chair_or_refuse(actor, meeting)
    if turn.state != SpeakerState.WAITING:
        raise ServiceError(_("This turn is no longer waiting."))
    turn.state, turn.ended_at = SpeakerState.WITHDRAWN, utcnow()
    _announce("hand", meeting.id, turn.user_id)


def hand_from_room(meeting: Meeting, user: User, raised: bool) -> None:
    """The online room's own raise-hand button (the meetings plugin's hook): raising joins the list as
    from the room, lowering takes a hand still waiting off it. A hand already on the list, a closed
    meeting or a guest changes nothing: the room's button is not the place to say why."""
    if raised:
        try:
            raise_hand(meeting, user, source=SpeakerSource.ROOM)
        except ServiceError:
            pass
        return
    for turn in _turns(meeting, SpeakerState.WAITING):
        if turn.user_id == user.id:
            withdraw(turn, user)


def has_floor(meeting: Meeting, user: User) -> bool:
    return any(t.user_id == user.id for t in _turns(meeting, SpeakerState.SPEAKING))


def add_hall_speaker(meeting: Meeting, user: User, actor) -> Speaker:
    """The chair puts on the list a member who asked for the floor in the hall."""
    _chair_or_refuse(actor, meeting)
    return raise_hand(meeting, user, source=SpeakerSource.HALL)


def give_floor(turn: Speaker, actor) -> None:
    meeting = db.session.get(Meeting, turn.session_id)
    _chair_or_refuse(actor, meeting)
    _open_or_refuse(meeting)
    if turn.state != SpeakerState.WAITING:
        raise ServiceError(_("This turn is no longer waiting."))
    now = utcnow()
    for speaking in _turns(meeting, SpeakerState.SPEAKING):
        speaking.state, speaking.ended_at = SpeakerState.DONE, now
        _announce("floor", meeting.id, speaking.user_id)
    turn.state, turn.started_at = SpeakerState.SPEAKING, now
    record_change("questions.floor", turn, office_id=meeting.office_id, actor=actor, user_id=turn.user_id)
    _announce("floor", meeting.id, turn.user_id)


def finish(turn: Speaker, actor) -> None:
    meeting = db.session.get(Meeting, turn.session_id)
    _chair_or_refuse(actor, meeting)
    if turn.state != SpeakerState.SPEAKING:
        raise ServiceError(_("This member is not speaking."))
    turn.state, turn.ended_at = SpeakerState.DONE, utcnow()
    _announce("floor", meeting.id, turn.user_id)


def close_queue(meeting: Meeting) -> None:
    """The meeting closed: whoever speaks is done, hands still up are lowered."""
    now = utcnow()
    for turn in _turns(meeting, SpeakerState.SPEAKING, SpeakerState.WAITING):
        turn.state, turn.ended_at = (
            (SpeakerState.DONE if turn.state == SpeakerState.SPEAKING else SpeakerState.WITHDRAWN),
            now,
        )
        _announce("floor", meeting.id, turn.user_id)
    _announce("meeting", meeting.id)


@dataclass(frozen=True)
class SpeakersList:
    speaking: Speaker | None
    waiting: list[Speaker]
    seconds: dict[int, int]  # user id -> seconds spoken in this meeting
    turns: dict[int, int]  # user id -> turns taken
    names: dict[int, str]  # user id -> name, of those who spoke


def speakers(meeting: Meeting, settings: QueueSettings) -> SpeakersList:
    seconds: dict[int, int] = {}
    turns: dict[int, int] = {}
    names: dict[int, str] = {}
    speaking = None
    for turn in _turns(meeting, SpeakerState.SPEAKING, SpeakerState.DONE):
        seconds[turn.user_id] = seconds.get(turn.user_id, 0) + turn.seconds()
        turns[turn.user_id] = turns.get(turn.user_id, 0) + 1
        names[turn.user_id] = turn.user.full_name
        if turn.state == SpeakerState.SPEAKING:
            speaking = turn
    waiting = _turns(meeting, SpeakerState.WAITING)
    if settings.quiet_first:  # those who have not spoken yet go first; the sort is stable
        waiting.sort(key=lambda t: t.user_id in turns)
    return SpeakersList(speaking, waiting, seconds, turns, names)


# --- what other plugins read (through the scheduling plugin's hooks) --------------------------------


def participation(meetings: list[Meeting], viewer) -> dict[int, dict[int, dict[str, int]]]:
    """Per meeting, per member of the cell, zeros included (silence is a fact too): questions asked
    whose author ``viewer`` may see (``counted_for``), turns taken, seconds spoken. Meetings whose queue
    and speakers list were not used are left out: nobody recorded who spoke there, which is not the
    same as nobody speaking. Four queries whatever the number of meetings, plus one per office."""
    ids = [s.id for s in meetings]
    questions: dict[int, list[Question]] = {i: [] for i in ids}
    turns: dict[int, list[Speaker]] = {i: [] for i in ids}
    for question in db.session.scalars(select(Question).where(Question.session_id.in_(ids)).order_by(Question.id)):
        questions[question.session_id].append(question)
    for turn in db.session.scalars(select(Speaker).where(Speaker.session_id.in_(ids))):
        turns[turn.session_id].append(turn)
    stored = {
        s.session_id: s for s in db.session.scalars(select(QueueSettings).where(QueueSettings.session_id.in_(ids)))
    }
    cells: dict[int, list[User]] = {}
    result = {}
    for meeting in meetings:
        if not questions[meeting.id] and not turns[meeting.id]:
            continue
        settings = stored.get(meeting.id) or default_settings(meeting)
        if meeting.office_id not in cells:
            cells[meeting.office_id] = participants(meeting)
        record = {
            u.id: {"questions_asked": 0, "times_spoken": 0, "seconds_spoken": 0} for u in cells[meeting.office_id]
        }

        def row(user_id: int, record=record) -> dict[str, int]:
            return record.setdefault(user_id, {"questions_asked": 0, "times_spoken": 0, "seconds_spoken": 0})

        chairs = viewer is not None and is_chair(viewer, meeting, settings)
        for question in questions[meeting.id]:
            if question.status != QuestionStatus.MERGED and counted_for(question, settings, viewer, chairs):
                row(question.author_id)["questions_asked"] += 1
        for turn in turns[meeting.id]:
            if turn.state in (SpeakerState.SPEAKING, SpeakerState.DONE):
                row(turn.user_id)["times_spoken"] += 1
                row(turn.user_id)["seconds_spoken"] += turn.seconds()
        result[meeting.id] = record
    return result


def discussion(meeting: Meeting) -> dict:
    """The discussion for the minutes: questions raised (the author named only when the meeting showed
    names) and the speakers with their time."""
    settings = queue_settings(meeting)
    questions = [
        {
            "text": q.text,
            "author": q.author.full_name if author_shown(q, settings, to_chair=False) else None,
            "votes": q.votes,
            "answered": q.status == QuestionStatus.ANSWERED,
            "discussion_question_id": q.discussion_question_id,
            "asked_at": q.created_at,
        }
        for q in queue(meeting, Sort.TIME)
    ]
    listing = speakers(meeting, settings)
    spoken = [
        {"name": name, "times": listing.turns[uid], "seconds": listing.seconds[uid]}
        for uid, name in listing.names.items()
    ]
    return {"questions": questions, "speakers": spoken}
