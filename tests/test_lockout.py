"""Failed sign-ins slow down one username from one address; the owner elsewhere and the office are not
locked out, and the owner is told."""

import re
from datetime import timedelta

from sqlalchemy import select, update
from support import PASSWORD

from intranet.extensions import db
from intranet.models import utcnow
from intranet.notifications import Notification

ATTACKER, OWNER, OFFICE_NAT = "10.0.0.66", "10.0.0.7", "10.0.0.1"
WRONG = "Sai tên đăng nhập hoặc mật khẩu."
SLOWED = "Quá nhiều lần thử sai"


def _try(client, username, password, address):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def _fail(client, username, address, times=1):
    for _ in range(times):
        response = _try(client, username, "not the password", address)
        assert response.status_code == 200 and WRONG in response.text


def _age_last_failure(app, seconds):
    from intranet.models import LoginThrottle

    with app.app_context():
        db.session.execute(update(LoginThrottle).values(last_failure_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def test_an_attacker_cannot_lock_the_owner_out(client, app, cell):
    _fail(client, "member1", ATTACKER, times=5)
    slowed = _try(client, "member1", PASSWORD, ATTACKER)  # even the right password is not read now
    assert slowed.status_code == 429 and SLOWED in slowed.text
    assert _try(client, "member1", PASSWORD, OWNER).status_code == 302  # the owner, elsewhere, gets in


def test_a_nat_address_with_many_failures_does_not_lock_the_office(client, app, cell):
    # 30 typos by many colleagues behind the office's one address, then everyone signs in.
    for i in range(30):
        _fail(client, f"colleague{i % 10}", OFFICE_NAT)
    for name in ("member1", "bithu", "distadmin"):
        assert _try(client, name, PASSWORD, OFFICE_NAT).status_code == 302
        client.post("/logout")


def test_the_delay_doubles_with_each_further_failure(client, app, cell):
    _fail(client, "member1", ATTACKER, times=5)
    assert SLOWED in _try(client, "member1", "not the password", ATTACKER).text  # refused unread
    _age_last_failure(app, 31)  # the first delay (30 s) is over
    _fail(client, "member1", ATTACKER)  # the sixth failure: now 60 s
    _age_last_failure(app, 31)
    assert _try(client, "member1", PASSWORD, ATTACKER).status_code == 429
    _age_last_failure(app, 61)
    assert _try(client, "member1", PASSWORD, ATTACKER).status_code == 302


def test_refused_attempts_are_not_counted(client, app, cell):
    _fail(client, "member1", ATTACKER, times=5)
    for _ in range(10):
        assert _try(client, "member1", "guess", ATTACKER).status_code == 429
    from intranet.models import LoginThrottle

    with app.app_context():
        assert db.session.scalar(select(LoginThrottle.failures)) == 5


def test_a_success_clears_the_count_from_that_address(client, app, cell):
    _fail(client, "member1", OWNER, times=4)
    assert _try(client, "member1", PASSWORD, OWNER).status_code == 302
    client.post("/logout")
    _fail(client, "member1", OWNER, times=4)  # four more typos are free again
    assert _try(client, "member1", PASSWORD, OWNER).status_code == 302


def test_unknown_and_known_usernames_get_the_same_answers(client, app, cell):
    _fail(client, "member1", ATTACKER, times=5)
    _fail(client, "nobody-here", ATTACKER, times=5)
    known, unknown = _try(client, "member1", "x" * 12, ATTACKER), _try(client, "nobody-here", "x" * 12, ATTACKER)
    assert known.status_code == unknown.status_code == 429

    def same(text: str) -> str:  # the seconds may differ
        return re.sub(r"\d+", "#", text.replace("member1", "nobody-here"))

    assert same(known.text) == same(unknown.text)


def test_the_owner_is_told_once(client, app, cell):
    _fail(client, "member1", ATTACKER, times=4)
    with app.app_context():
        assert not db.session.scalars(select(Notification)).all()
    _fail(client, "member1", ATTACKER)
    _age_last_failure(app, 31)
    _fail(client, "member1", ATTACKER)
    _fail(client, "member1", "10.0.0.99", times=5)
    _fail(client, "nobody-here", ATTACKER, times=5)
    with app.app_context():
        notes = db.session.scalars(select(Notification)).all()
        assert [n.user_id for n in notes] == [cell["member"]]
        assert ATTACKER in notes[0].body and "sai" in notes[0].title.lower()
