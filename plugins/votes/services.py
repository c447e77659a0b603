"""Votes: every rule of who votes, how and what passes. Each change joins the caller's database session
(the view commits), refuses with ``ServiceError`` in the user's language, and announces the live
channels it touched when the transaction commits.

Secret ballots follow the ratings' reasoning (evaluations): while the vote is open a ballot is held
sealed, with no author, no time and a random key, next to the row that says its member voted; when
the vote closes every held ballot is written, shuffled, in one batch in the closing transaction (which
writes no voter), and the receipt codes apart from the choices, sorted."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from intranet import live
from intranet.access import can
from intranet.audit import record, record_change
from intranet.days import local
from intranet.extensions import db
from intranet.models import Office, PartyStatus, User, utcnow
from intranet.plugins import manager
from intranet.refusals import ServiceError
from intranet.sealing import Sealer
from intranet.text import clean_text
from intranet_scheduling import services as scheduling
from intranet_scheduling.hookspecs import VoteResult
from intranet_scheduling.models import Attendance, Meeting, SessionStatus

from . import rules
from .models import (
    Ballot,
    Base,
    Choice,
    CountedCode,
    Counter,
    Form,
    HeldBallot,
    MeetingChair,
    Rule,
    Status,
    Subject,
    Vote,
    Voter,
)

_BALLOTS = Sealer(b"intranet votes: held ballots")
TITLE_MAX = 500
MINUTES_RANGE = (1, 120)  # the countdown the chair sets
COMMITTEE_SIZE = (2, 3)  # ban kiểm phiếu
SHARE_MAX = 10  # a rule's fraction: whole numbers up to tenths
TALLY_MAX = 10_000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
CODE_LENGTH = 10  # 50 bits: two ballots of a vote drawing the same code is all but impossible, and harmless


# --- channels and rights ------------------------------------------------------------------------------


def panel_channel(session_id: int) -> str:
    return f"votes:{session_id}"


def mine_channel(session_id: int, user_id: int) -> str:
    return f"votes:{session_id}:user:{user_id}"


def may_follow(user, office_id: int) -> bool:
    return can(user, "votes.follow", office_id)


def is_chair(user, meeting: Meeting) -> bool:
    """Opens and closes votes, records hands raised in the hall: who holds ``votes.conduct``, and the
    member the secretary named to chair this meeting's votes."""
    if can(user, "votes.conduct", meeting.office_id):
        return True
    named = db.session.get(MeetingChair, meeting.id)
    return named is not None and named.user_id == user.id


def named_chair(meeting: Meeting) -> User | None:
    named = db.session.get(MeetingChair, meeting.id)
    return named.user if named else None


def name_chair(meeting: Meeting, actor, member: User | None) -> None:
    """The secretary names (or, with None, un-names) a member of the cell to chair this meeting's votes."""
    if not can(actor, "votes.name_chair", meeting.office_id):
        raise ServiceError(_("Only the secretary names the chair of a meeting's votes."))
    if member is not None and not scheduling.is_member(member, meeting.office_id):
        raise ServiceError(_("“%(name)s” is not a member of this cell.", name=member.full_name), "member_id")
    _lock_meeting(meeting)  # a second click at once finds the first's row, not a duplicate key
    row = db.session.scalar(
        select(MeetingChair).where(MeetingChair.session_id == meeting.id).execution_options(populate_existing=True)
    )
    if member is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(MeetingChair(session_id=meeting.id, office_id=meeting.office_id, user_id=member.id))
    else:
        row.user_id = member.id
    record_change(
        "votes.chair", meeting, office_id=meeting.office_id, actor=actor, member=member.id if member else None
    )
    _announce_everyone_of(meeting)


def on_committee(user, vote: Vote) -> bool:
    return any(c.user_id == user.id for c in vote.committee)


def _announce(vote: Vote, *user_ids: int) -> None:
    """A ballot or a tally: streams coalesce a burst of them into one update a second."""
    live.publish_on_commit(panel_channel(vote.session_id), *(mine_channel(vote.session_id, u) for u in user_ids))


def _announce_everyone(vote: Vote) -> None:
    """A vote opened or closed: every member's own part changes (what they may do now)."""
    _announce_everyone_of(vote.session)


def _announce_everyone_of(meeting: Meeting) -> None:
    """A vote opened or closed: sent at once, not coalesced."""
    live.publish_on_commit(
        panel_channel(meeting.id),
        *(mine_channel(meeting.id, m.id) for m in scheduling.members(meeting.office_id)),
        prompt=True,
    )


# --- rules ------------------------------------------------------------------------------------------


def rule(office_id: int, subject: Subject) -> rules.Threshold:
    row = db.session.get(Rule, (office_id, subject), populate_existing=True)
    if row is None:
        return rules.DEFAULTS[subject]
    return rules.Threshold(row.form, row.base, row.numerator, row.denominator, row.strict)


def save_rule(
    office_id: int, subject: Subject, actor, *, form: Form, base: Base, numerator: int, denominator: int, strict: bool
) -> None:
    if not can(actor, "votes.rules", office_id):
        raise ServiceError(_("Only the secretary sets the cell's voting rules."))
    if not (1 <= numerator <= denominator <= SHARE_MAX) or (strict and numerator == denominator):
        raise ServiceError(
            _("The share is a fraction of whole numbers from 1 to %(max)d, at most the whole.", max=SHARE_MAX),
            f"{subject.value}-numerator",
        )
    # One save at a time per office (two at once both found no row and the second hit its key). FOR NO KEY
    # UPDATE: rows that merely point at the office are not held up.
    db.session.execute(select(Office.id).where(Office.id == office_id).with_for_update(key_share=True))
    wanted = rules.Threshold(form, base, numerator, denominator, strict)
    if wanted == rule(office_id, subject):
        return
    row = db.session.get(Rule, (office_id, subject))
    if wanted == rules.DEFAULTS[subject]:
        db.session.delete(row)  # back to the default: no row
    elif row is None:
        db.session.add(Rule(office_id=office_id, subject=subject, **vars(wanted)))
    else:
        for name, value in vars(wanted).items():
            setattr(row, name, value)
    record(
        "votes.rule",
        "votes_rule",
        f"{office_id}:{subject.value}",
        office_id=office_id,
        actor=actor,
        form=form,
        base=base,
        share=f"{numerator}/{denominator}",
        strict=strict,
    )


# --- who votes --------------------------------------------------------------------------------------


def official_members(office_id: int) -> list[User]:
    return [m for m in scheduling.members(office_id) if m.party_status == PartyStatus.OFFICIAL]


def eligible_present(meeting: Meeting) -> list[User]:
    """The official members of the cell marked present at the meeting: who may vote now."""
    present = {
        a.user_id
        for a in db.session.scalars(
            select(Attendance).where(Attendance.session_id == meeting.id, Attendance.present.is_(True))
        )
    }
    return [m for m in official_members(meeting.office_id) if m.id in present]


def refusal(meeting: Meeting, user) -> str | None:
    """Why ``user`` may not vote in this meeting (party status, attendance), or None: they may."""
    if not scheduling.is_member(user, meeting.office_id):  # a guest, or someone of another cell
        return _("Only the official members of this cell vote: guests attend and speak but do not vote.")
    if user.party_status != PartyStatus.OFFICIAL:
        return _("Probationary members take part and speak but do not vote (Party Statute, Article 5).")
    present = db.session.scalar(
        select(Attendance.present).where(Attendance.session_id == meeting.id, Attendance.user_id == user.id)
    )
    if not present:
        return _("Only members marked present at this meeting vote; you are marked excused or absent.")
    return None


def preview(meeting: Meeting, subject: Subject, *, present: list[User], official: int) -> dict:
    """What the chair sees before opening: the voters present, the base, the votes needed, and whether
    the threshold can be reached at all with the members present (``present``: ``eligible_present``,
    ``official``: how many official members the cell has, read once for every kind of vote)."""
    threshold = rule(meeting.office_id, subject)
    present = len(present)
    base = present if threshold.base == Base.PRESENT else official
    needed = threshold.needed(base)
    return {"rule": threshold, "present": present, "base": base, "needed": needed, "reachable": present >= needed}


# --- opening, voting, closing -------------------------------------------------------------------------


def open_vote(
    meeting: Meeting,
    actor,
    *,
    subject: Subject,
    title: str,
    secret: bool,
    minutes: int,
    live_counts: bool = False,
    committee: list[User] = (),
) -> Vote:
    if not is_chair(actor, meeting):
        raise ServiceError(_("Only the chair opens a vote."))
    if meeting.status != SessionStatus.IN_PROGRESS:
        raise ServiceError(_("A vote is held while the meeting is in progress."))
    _lock_meeting(meeting)  # one opening at a time
    if db.session.scalar(select(Vote.id).where(Vote.session_id == meeting.id, Vote.status == Status.OPEN)):
        raise ServiceError(_("Another vote of this meeting is open: close it first."))
    threshold = rule(meeting.office_id, subject)
    if threshold.form == Form.SECRET and not secret:
        raise ServiceError(_("The cell's rule requires a secret ballot for this kind of vote."), "secret")
    if threshold.form == Form.OPEN and secret:
        raise ServiceError(_("The cell's rule requires an open vote for this kind of vote."), "secret")
    title = clean_text(title or "", multiline=False)
    if not title:
        raise ServiceError(_("Type what is voted on."), "title")
    if len(title) > TITLE_MAX:
        raise ServiceError(_("At most %(n)d characters.", n=TITLE_MAX), "title")
    if minutes is None or not MINUTES_RANGE[0] <= minutes <= MINUTES_RANGE[1]:
        raise ServiceError(
            _("The time to vote is %(low)d to %(high)d minutes.", low=MINUTES_RANGE[0], high=MINUTES_RANGE[1]),
            "minutes",
        )
    voters = eligible_present(meeting)
    if not voters:
        raise ServiceError(_("No official member is marked present: take the attendance before opening a vote."))
    people = list(dict.fromkeys(committee))
    if secret:
        if not COMMITTEE_SIZE[0] <= len(people) <= COMMITTEE_SIZE[1]:
            raise ServiceError(
                _(
                    "Name %(low)d or %(high)d members to count the ballots.",
                    low=COMMITTEE_SIZE[0],
                    high=COMMITTEE_SIZE[1],
                ),
                "committee",
            )
        present = {v.id for v in voters}
        for person in people:
            if person.id not in present:
                raise ServiceError(
                    _("“%(name)s” is not an official member present at this meeting.", name=person.full_name),
                    "committee",
                )
    elif people:
        raise ServiceError(_("An open vote has no counting committee."), "committee")
    vote = Vote(
        office_id=meeting.office_id,
        session_id=meeting.id,
        subject=subject,
        title=title,
        secret=secret,
        base=threshold.base,
        numerator=threshold.numerator,
        denominator=threshold.denominator,
        strict=threshold.strict,
        live_counts=bool(live_counts) and not secret,
        status=Status.OPEN,
        opened_by_id=actor.id,
        opened_at=utcnow(),
        closes_at=utcnow() + timedelta(minutes=minutes),
        committee=[
            Counter(office_id=meeting.office_id, user_id=p.id, position=i, user=p) for i, p in enumerate(people)
        ],
    )
    db.session.add(vote)
    record_change(
        "votes.open", vote, office_id=meeting.office_id, actor=actor, title=title, secret=secret, minutes=minutes
    )
    _announce_everyone(vote)
    return vote


def time_is_up(vote: Vote, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= vote.closes_at


def _open_or_refuse(vote: Vote) -> None:
    if vote.status != Status.OPEN or vote.session.status != SessionStatus.IN_PROGRESS:
        raise ServiceError(_("This vote is closed: no more ballots are taken."))
    if time_is_up(vote):
        raise ServiceError(
            _("The time for this vote ran out at %(time)s.", time=local(vote.closes_at).strftime("%H:%M"))
        )


def _voter_or_refuse(vote: Vote, member: User, named: bool = False) -> None:
    """The member may vote in it, or the reason they may not (said of them by name when someone else
    records their ballot)."""
    reason = refusal(vote.session, member)
    if reason:
        raise ServiceError(f"{member.full_name}: {reason}" if named else reason)


def _insert_voter(vote: Vote, member: User, *held: HeldBallot, twice: str, **fields) -> None:
    """The primary key (vote, member) refuses a second ballot however the two race; then the vote is read
    again under a lock the closing takes exclusively, so a ballot never lands after its vote closed."""
    voter = Voter(vote_id=vote.id, user_id=member.id, user=member, office_id=vote.office_id, **fields)
    db.session.add_all([voter, *held])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(twice) from None
    status, closes_at = db.session.execute(
        select(Vote.status, Vote.closes_at).where(Vote.id == vote.id).with_for_update(key_share=True)
    ).one()
    if status != Status.OPEN or utcnow() >= closes_at:
        raise ServiceError(_("This vote is closed: no more ballots are taken."))


def cast(vote: Vote, user: User, choice: Choice) -> str | None:
    """The member's own ballot, online; returns the receipt code of a secret ballot."""
    _open_or_refuse(vote)
    _voter_or_refuse(vote, user)
    twice = _("You have already voted.")  # said by the primary key: no look-up first
    if not vote.secret:
        _insert_voter(vote, user, twice=twice, choice=choice, recorded_by_id=user.id)
        _announce(vote, user.id)
        return None
    code = _receipt_code(vote)
    _insert_voter(
        vote,
        user,
        HeldBallot(office_id=vote.office_id, vote_id=vote.id, sealed=_BALLOTS.seal({"c": choice.value, "r": code})),
        twice=twice,
        code=code,
    )
    _announce(vote, user.id)
    return code


def _draw_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))


def _receipt_code(vote: Vote) -> str:
    """A code no earlier ballot of this vote has, so a member's code names their ballot alone (two
    ballots racing could still draw the same one: the close publishes it once and counts both)."""
    while True:
        code = _draw_code()
        if db.session.scalar(select(Voter.user_id).where(Voter.vote_id == vote.id, Voter.code == code)) is None:
            return code


def record_hand(vote: Vote, actor, member: User, choice: Choice) -> None:
    """The chair records a hand raised in the hall (open votes only: a secret ballot has no hands)."""
    if not is_chair(actor, vote.session):
        raise ServiceError(_("Only the chair records the hands raised in the hall."))
    if vote.secret:
        raise ServiceError(_("A secret ballot is cast by each member, never recorded by the chair."))
    _record_for(vote, actor, member, choice=choice)


def hand_paper_ballot(vote: Vote, actor, member: User) -> None:
    """A member present votes on paper: the committee hands them a ballot, and they cannot vote online."""
    if not on_committee(actor, vote):
        raise ServiceError(_("Only the counting committee hands out paper ballots."))
    if not vote.secret:
        raise ServiceError(_("Paper ballots are for a secret ballot."))
    _record_for(vote, actor, member, on_paper=True)
    record_change("votes.paper_ballot", vote, office_id=vote.office_id, actor=actor, member=member.id)


def _record_for(vote: Vote, actor, member: User, **fields) -> None:
    """Someone else's ballot, recorded by the chair or the committee: the same rules, said of that member."""
    _open_or_refuse(vote)
    _voter_or_refuse(vote, member, named=True)
    twice = _("%(name)s has already voted.", name=member.full_name)
    _insert_voter(vote, member, twice=twice, recorded_by_id=actor.id, **fields)
    _announce(vote, member.id)


def close(vote: Vote, actor) -> None:
    """The chair closes the vote (or time ran out: ``actor`` None). An open vote is then final; a secret
    ballot's held ballots are written out and it waits for the counting committee."""
    if actor is not None and not is_chair(actor, vote.session):
        raise ServiceError(_("Only the chair closes a vote."))
    if _locked(vote).status != Status.OPEN:
        raise ServiceError(_("This vote is already closed."))
    vote.closed_at = min(utcnow(), vote.closes_at)
    # The base is the cell as the vote closed: a member recognised or marked present before the committee
    # confirms a secret ballot's count must not change whether it passed.
    present, official = _electorate(vote)
    vote.eligible_present, vote.base_count = present, present if vote.base == Base.PRESENT else official
    # Time ran out (or the meeting closed): nobody closed it, least of all the member whose request noticed.
    record_change("votes.close", vote, office_id=vote.office_id, actor=actor, anonymous=actor is None)
    if vote.secret:
        vote.status = Status.COUNTING
        _release(vote)
        _announce_everyone(vote)
    else:
        _finalise(vote)


def _locked(vote: Vote) -> Vote:
    """The vote read afresh under an exclusive lock: its state changes one at a time (two committee
    members confirming at once call the minutes' hook once), and after every ballot in flight."""
    return db.session.scalar(
        select(Vote).where(Vote.id == vote.id).with_for_update().execution_options(populate_existing=True)
    )


def _lock_meeting(meeting: Meeting) -> None:
    """The meeting's votes change one request at a time from here to the commit."""
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())


def close_open_votes(meeting: Meeting) -> None:
    """The meeting closed: its open votes close with it (before its commit)."""
    for vote in db.session.scalars(select(Vote).where(Vote.session_id == meeting.id, Vote.status == Status.OPEN)):
        close(vote, None)


def is_due(vote: Vote) -> bool:
    """Its time ran out, or its meeting is no longer in progress (closed while the plugin was off for the
    office, so ``close_open_votes`` was not called): it takes no ballot and should be closed."""
    return time_is_up(vote) or vote.session.status != SessionStatus.IN_PROGRESS


def close_if_due(vote: Vote) -> bool:
    """Close a vote that is due, in a transaction of its own (committed here); True if it did."""
    if vote.status != Status.OPEN or not is_due(vote):
        return False
    try:
        close(vote, None)
        db.session.commit()
    except ServiceError:  # closed meanwhile by someone else
        db.session.rollback()
    return True


def _release(vote: Vote) -> None:
    """Move every held ballot into the ballots (shuffled, fresh random keys) and its code into the
    counted codes (sorted), deleting the held rows: the closing transaction wrote no voter."""
    held = list(db.session.scalars(select(HeldBallot).where(HeldBallot.vote_id == vote.id)))
    db.session.execute(delete(HeldBallot).where(HeldBallot.vote_id == vote.id))
    opened = [values for values in (_BALLOTS.unseal(h.sealed) for h in held) if values is not None]
    if len(opened) < len(held):
        current_app.logger.warning(
            "%d held ballots could not be unsealed (SECRET_KEY changed) and are not counted", len(held) - len(opened)
        )
    choices = [values["c"] for values in opened]
    random.SystemRandom().shuffle(choices)
    if choices:
        db.session.execute(
            insert(Ballot),
            [{"id": uuid.uuid4().hex, "office_id": vote.office_id, "vote_id": vote.id, "choice": c} for c in choices],
        )
        db.session.execute(
            insert(CountedCode),
            [{"vote_id": vote.id, "office_id": vote.office_id, "code": c} for c in sorted({v["r"] for v in opened})],
        )


# --- counting -----------------------------------------------------------------------------------------


def paper_voters(vote: Vote) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Voter).where(Voter.vote_id == vote.id, Voter.on_paper.is_(True))
    )


def enter_tally(vote: Vote, actor, *, in_favour: int | None, against: int | None, other: int | None) -> None:
    """The counting committee's tally of the paper ballots; never more than the members who voted on paper."""
    if not on_committee(actor, vote):
        raise ServiceError(_("Only the counting committee enters the paper ballots' tally."))
    if _locked(vote).status != Status.COUNTING:
        raise ServiceError(_("The tally is entered after the vote closes and before the count is confirmed."))
    for value, field in ((in_favour, "in_favour"), (against, "against"), (other, "other")):
        if value is None or not 0 <= value <= TALLY_MAX:
            raise ServiceError(_("Enter a whole number of ballots, 0 or more."), field)
    counted, on_paper = in_favour + against + other, paper_voters(vote)
    if counted > on_paper:
        raise ServiceError(
            _(
                "The tally counts %(counted)d paper ballots, but only %(voted)d members voted on paper.",
                counted=counted,
                voted=on_paper,
            )
        )
    vote.paper_for, vote.paper_against, vote.paper_other, vote.tally_by_id = in_favour, against, other, actor.id
    record_change(
        "votes.tally", vote, office_id=vote.office_id, actor=actor, in_favour=in_favour, against=against, other=other
    )
    _announce(vote)


def confirm(vote: Vote, actor) -> None:
    """The committee confirms the count: the secret ballot is final and goes to the minutes."""
    if not on_committee(actor, vote):
        raise ServiceError(_("Only the counting committee confirms the count."))
    if _locked(vote).status != Status.COUNTING:
        raise ServiceError(_("Only a closed secret ballot waiting for its count is confirmed."))
    if vote.paper_for is None and paper_voters(vote):
        raise ServiceError(_("Enter the paper ballots' tally before confirming the count."))
    vote.confirmed_by_id = actor.id
    record_change("votes.confirm", vote, office_id=vote.office_id, actor=actor)
    _finalise(vote)


def counts(vote: Vote) -> dict[Choice, int]:
    """In favour, against, other: an open vote's hands, a secret ballot's ballots online (and on paper)."""
    if vote.secret:
        rows = db.session.execute(
            select(Ballot.choice, func.count()).where(Ballot.vote_id == vote.id).group_by(Ballot.choice)
        )
    else:
        rows = db.session.execute(
            select(Voter.choice, func.count()).where(Voter.vote_id == vote.id).group_by(Voter.choice)
        )
    found = {Choice(choice): n for choice, n in rows}
    paper = {Choice.FOR: vote.paper_for, Choice.AGAINST: vote.paper_against, Choice.OTHER: vote.paper_other}
    return {c: found.get(c, 0) + (paper[c] or 0) for c in Choice}


def voted_count(vote: Vote) -> int:
    return db.session.scalar(select(func.count()).select_from(Voter).where(Voter.vote_id == vote.id))


def _finalise(vote: Vote) -> None:
    meeting = vote.session
    tally = counts(vote)
    base = vote.base_count  # set when the vote closed
    threshold = rules.Threshold(Form.EITHER, vote.base, vote.numerator, vote.denominator, vote.strict)
    vote.status = Status.FINAL
    vote.in_favour, vote.against, vote.other = tally[Choice.FOR], tally[Choice.AGAINST], tally[Choice.OTHER]
    vote.voted_on_paper = sum(getattr(vote, f) or 0 for f in ("paper_for", "paper_against", "paper_other"))
    vote.voted = sum(tally.values())
    vote.passed = threshold.passes(vote.in_favour, base)
    vote.sentence = rules.sentence(vote.subject, vote.passed, vote.in_favour, vote.base, base)
    manager().for_office(vote.office_id).intranet_session_vote_closed(session=meeting, result=result(vote))
    _announce_everyone(vote)


def _electorate(vote: Vote) -> tuple[int, int]:
    """The official members present and the official members when the vote closes, each counting whoever
    voted: they were both when they voted, and a later change of attendance or status must not leave
    more votes than the base (5 of 1, "500 %")."""
    voted = set(db.session.scalars(select(Voter.user_id).where(Voter.vote_id == vote.id)))
    present = {m.id for m in eligible_present(vote.session)} | voted
    official = {m.id for m in official_members(vote.office_id)} | voted
    return len(present), len(official)


def result(vote: Vote) -> VoteResult:
    return VoteResult(
        vote_id=vote.id,
        subject=vote.subject.value,
        title=vote.title,
        secret=vote.secret,
        base=vote.base_count,
        base_label=rules.BASE_LABELS_VI[vote.base],
        eligible_present=vote.eligible_present,
        voted=vote.voted,
        voted_on_paper=vote.voted_on_paper,
        in_favour=vote.in_favour,
        against=vote.against,
        other=vote.other,
        passed=vote.passed,
        sentence=vote.sentence,
        counting_committee=tuple(c.user.full_name for c in vote.committee),
        closed_at=vote.closed_at,
    )


# --- reading ------------------------------------------------------------------------------------------


def votes_of(meeting: Meeting) -> list[Vote]:
    """The meeting's votes, the newest first."""
    return list(db.session.scalars(select(Vote).where(Vote.session_id == meeting.id).order_by(Vote.id.desc())))


def voters(vote: Vote) -> list[Voter]:
    return list(
        db.session.scalars(select(Voter).where(Voter.vote_id == vote.id).join(Voter.user).order_by(User.full_name))
    )


def named_choices(vote: Vote) -> list[tuple[str, Choice]]:
    """Who voted how in an open vote, by name: the panel lists it, and every member's stream renders the
    panel again for each ballot of the next vote — one statement and plain rows, however many voted."""
    return list(
        db.session.execute(
            select(User.full_name, Voter.choice)
            .join(Voter.user)
            .where(Voter.vote_id == vote.id)
            .order_by(User.full_name)
        )
    )


def counted_codes(vote: Vote) -> list[str]:
    """Published once the vote is closed; sorted, so their order says nothing."""
    if vote.status == Status.OPEN:
        return []
    return list(
        db.session.scalars(select(CountedCode.code).where(CountedCode.vote_id == vote.id).order_by(CountedCode.code))
    )


def my_voters(meeting: Meeting, user_id: int) -> dict[int, Voter]:
    rows = db.session.scalars(
        select(Voter)
        .join(Vote, Vote.id == Voter.vote_id)
        .where(Vote.session_id == meeting.id, Voter.user_id == user_id)
    )
    return {row.vote_id: row for row in rows}
