"""An open live stream does not outlive the rights it was opened with: a plugin switched off or a right
revoked (both publish live.SWITCHES) ends every open stream within LIVE_RECHECK_SPREAD_SECONDS, and the
browser's reconnection is checked afresh. Found by an adversarial review; both failed first."""

from __future__ import annotations

from functools import partial

import pytest
from test_questions import _ask, _meeting, _office, _user

from intranet import access
from intranet.admin.services import revoke_role, set_active, update_user
from intranet.extensions import db
from intranet.models import Role
from intranet.plugins import manager


@pytest.fixture(autouse=True)
def _at_once(app):
    app.config["LIVE_RECHECK_SPREAD_SECONDS"], before = 0, app.config["LIVE_RECHECK_SPREAD_SECONDS"]
    yield
    app.config["LIVE_RECHECK_SPREAD_SECONDS"] = before


def _frames_until(frames, marker: str, limit: int = 6) -> list[str]:
    """The frames up to the one holding ``marker``, or until the stream ends."""
    seen = []
    for frame in frames:
        seen.append(frame)
        if marker in frame or len(seen) == limit:
            break
    return seen


def test_a_chair_whose_right_is_revoked_keeps_receiving_moderation_in_an_open_stream(app, client, qcell, login):
    """The deputy chairs by default (questions.moderate). The office revokes it; the deputy's chair-page
    stream, opened before, must not go on carrying the chair's moderation region (pending questions and
    chair-only authors' names): nothing re-checks the right inside the stream, though the revocation
    publishes SWITCHES."""
    sid = _meeting(app)
    login("phobithu")
    response = client.get(f"/questions/sessions/{sid}/stream?page=chair", buffered=False)
    assert response.status_code == 200
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    next(frames), next(frames)  # moderation, chair-speakers as first shown
    with app.test_request_context():
        access.change_grants(_office("DIST"), {("questions.moderate", Role.DEPUTY): False})
        db.session.commit()
    other = app.test_client()
    login("phobithu", c=other)
    assert other.get(f"/questions/sessions/{sid}/poll/moderation").status_code == 403  # a new request is refused
    _ask(app, sid, "member2", "Câu hỏi chỉ chủ trì biết ai hỏi")
    got = _frames_until(frames, "Câu hỏi chỉ chủ trì biết ai hỏi")
    response.close()
    leaked = [f for f in got if "event: moderation" in f and "Đảng Viên Hai" in f]
    assert not leaked, "the revoked chair still receives the moderation region, with the author's name"


def test_a_stream_goes_on_after_the_plugin_is_switched_off(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    response = client.get(f"/questions/sessions/{sid}/stream", buffered=False)
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    next(frames), next(frames), next(frames)
    with app.test_request_context():
        manager().set_enabled(_office("DIST"), "questions", False)
        db.session.commit()
    off = app.test_client()
    login("member1", c=off)
    assert off.get(f"/questions/sessions/{sid}/poll/queue").status_code == 404  # a new request is refused
    _ask(app, sid, "member2", "Sau khi tắt")  # the service does not ask the gate
    got = _frames_until(frames, "Sau khi tắt")
    response.close()
    assert not any("Sau khi tắt" in f for f in got), "the stream carries the queue of a plugin switched off"


def _revoke_deputy(user) -> None:
    revoke_role(user, _office("DIST"), Role.DEPUTY)


def _move_to_other_office(user) -> None:
    update_user(user, office_id=_office("OTHER").id)


@pytest.mark.parametrize("change", [_revoke_deputy, partial(set_active, active=False), _move_to_other_office])
def test_a_stream_ends_when_its_user_loses_a_role_the_account_or_the_office(app, client, qcell, login, change):
    """The same for a change made to the user (Administration → Users), not to the office's grants:
    the chair page's stream must not outlive it."""
    sid = _meeting(app)
    login("phobithu")
    response = client.get(f"/questions/sessions/{sid}/stream?page=chair", buffered=False)
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    next(frames), next(frames)
    with app.test_request_context():
        change(_user("phobithu"))
        db.session.commit()
    _ask(app, sid, "member2", "Sau khi đổi quyền")
    got = _frames_until(frames, "Sau khi đổi quyền")
    response.close()
    assert not any("event: moderation" in f and "Đảng Viên Hai" in f for f in got), "the stream outlives the change"
