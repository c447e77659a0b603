"""A live region shared by a kind of viewer is rendered once per change, whatever the number of its
viewers, pages and frames alike — and, with Redis as the bus, whatever the number of server processes.
Renders are counted (Flask's ``template_rendered`` signal), not timed."""

from __future__ import annotations

import os
from contextlib import contextmanager, nullcontext

import pytest
from flask import template_rendered
from test_questions import _as, _ask, _meeting

from intranet import live
from intranet.extensions import db
from intranet_questions import services
from intranet_questions.models import Question

MEMBERS = ("member1", "member2", "member3", "chiuy", "phobithu", "bithu")


@contextmanager
def _renders(name: str):
    made: list[str] = []

    def count(sender, template, context, **extra):
        if template.name == name:
            made.append(name)

    template_rendered.connect(count)
    try:
        yield made
    finally:
        template_rendered.disconnect(count)


def _signed_in(app, login) -> list:
    clients = []
    for username in MEMBERS:
        c = app.test_client()
        login(username, c=c)
        clients.append(c)
    return clients


def _every_member_looks(clients, sid: int, text: str, served_by=lambda i: nullcontext()) -> None:
    """Each member opens the queue page and polls it (what a stream or a push frame renders)."""
    for i, c in enumerate(clients):
        with served_by(i):
            assert text in c.get(f"/questions/sessions/{sid}").text
            assert text in c.get(f"/questions/sessions/{sid}/poll/queue?sort=votes").text


def _vote(app, sid: int, qid: int, username: str) -> None:
    _as(app, username, lambda u: services.set_vote(db.session.get(Question, qid), u, True))


def test_a_change_renders_the_members_queue_once_for_every_page_and_poll(app, qcell, login):
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Một lần cho tất cả")
    clients = _signed_in(app, login)
    with _renders("questions/_queue.html") as made:
        _every_member_looks(clients, sid, "Một lần cho tất cả")
    assert len(made) == 1
    _vote(app, sid, qid, "member2")  # a vote changes the queue for everyone: one render again, not one per member
    with _renders("questions/_queue.html") as made:
        _every_member_looks(clients, sid, "Một lần cho tất cả")
    assert len(made) == 1


def test_frames_carry_no_token_and_a_page_carries_its_viewers(app, client, qcell, login):
    sid = _meeting(app)
    _ask(app, sid, "member1", "Ai cũng thấy")
    login("member2")
    page = client.get(f"/questions/sessions/{sid}").text
    poll = client.get(f"/questions/sessions/{sid}/poll/queue?sort=votes").text
    assert live.TOKEN_SLOT not in page and live.TOKEN_SLOT not in poll
    assert 'name="csrf_token" value=""' in poll and 'name="csrf_token" value=""' not in page


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_with_redis_a_change_is_rendered_once_across_processes(app, qcell, login, monkeypatch):
    """Two server processes, each with its own bus (and its own in-process cache): members served by
    either get the one render made by whichever process needed it first."""
    other = live.RedisBus(os.environ["REDIS_URL"], app.config["LIVE_PREFIX"])
    own = app.extensions["intranet_live"]
    assert isinstance(own, live.RedisBus)

    @contextmanager
    def process(i: int):
        with monkeypatch.context() as patch:
            patch.setitem(app.extensions, "intranet_live", (own, other)[i % 2])
            yield

    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Một lần cho mọi tiến trình")
    clients = _signed_in(app, login)
    with _renders("questions/_queue.html") as made:
        _every_member_looks(clients, sid, "Một lần cho mọi tiến trình", process)
    assert len(made) == 1
    _vote(app, sid, qid, "member3")
    with _renders("questions/_queue.html") as made:
        _every_member_looks(clients, sid, "Một lần cho mọi tiến trình", process)
    assert len(made) == 1
