"""Every route that names an object, tried by a member and by an admin of another office on the
objects of this one: 4xx, never the data, never a change. Routes added later (plugins included) are
picked up from the URL map, so a new view without its office check fails here."""
import pytest
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import AuditEvent, Office, RoleAssignment, User


def _targets(app, cell):
    """One object of each kind, all in the district office (built-in plugins' objects included)."""
    from datetime import datetime, timedelta, timezone

    from intranet_scheduling import services
    from intranet_scheduling.models import SessionKind, SessionMode

    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        assignment = db.session.scalar(select(RoleAssignment.id).where(RoleAssignment.user_id == cell["member"]))
        session = services.create_session(dist, kind=SessionKind.THEMATIC, title="Member1 secret topic",
                                          starts_at=datetime.now(timezone.utc) + timedelta(days=5),
                                          duration_minutes=90, place="", mode=SessionMode.IN_PERSON)
        question = services.add_question(session, "Member1 question", None)
        group = services.topic_groups(dist.id)[0]
        item = services.add_programme_item(services.programme_for(dist.id, 2030), quarter=1, topic_group=group,
                                           title="Member1 topic", lead=None, actor=None)
        from intranet.notifications import notify

        note = notify([db.session.get(User, cell["member"])], "Member1 private notice")[0]
        from intranet_scheduling import documents

        document = documents.upload(session, documents.DocumentKind.REPORT, "member1.pdf",
                                    b"%PDF-1.4 Member1 report", db.session.get(User, cell["member"]))
        db.session.commit()
        return {"user_id": cell["member"], "office_id": dist.id, "assignment_id": assignment,
                "session_id": session.id, "question_id": question.id, "group_id": group.id, "item_id": item.id,
                "notification_id": note.id, "document_id": document.id}


def _object_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not any(arg.endswith("_id") for arg in rule.arguments):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.mark.parametrize("intruder", ["othermember", "otheradmin"])
def test_no_route_serves_or_changes_another_offices_objects(app, data, cell, login, intruder):
    data.enable("hello", "DIST")
    data.enable("hello", "OTHER")
    targets = _targets(app, cell)
    client = app.test_client()
    login(intruder, c=client)
    with app.app_context():
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    checked = 0
    for rule, method in _object_routes(app):
        values = {arg: targets.get(arg, "hello") for arg in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        response = client.open(url, method=method, data={"full_name": "Intruder", "enabled": "0"})
        assert 400 <= response.status_code < 500, f"{method} {url} answered {response.status_code}"
        assert "Member1" not in response.text, f"{method} {url} showed another office's data"
        checked += 1
    assert checked >= 10  # the admin routes, the test plugin's live routes
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before
        assert db.session.get(User, cell["member"]).full_name == "Member1"
