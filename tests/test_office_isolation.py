"""Every route that names an object, tried by a member and by an admin of another office on the
objects of this one: 4xx, never the data, never a change. Routes added later (plugins included) are
picked up from the URL map, so a new view without its office check fails here."""

from datetime import UTC

import pytest
from sqlalchemy import func, select

from intranet import days
from intranet.extensions import db
from intranet.models import AuditEvent, Office, RoleAssignment, User


def _targets(app, cell):
    """One object of each kind, all in the district office (built-in plugins' objects included)."""
    from datetime import datetime, timedelta

    from intranet_scheduling import services
    from intranet_scheduling.models import SessionKind, SessionMode

    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        assignment = db.session.scalar(select(RoleAssignment.id).where(RoleAssignment.user_id == cell["member"]))
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Member1 secret topic",
            starts_at=datetime.now(UTC) + timedelta(days=5),
            duration_minutes=90,
            place="",
            mode=SessionMode.IN_PERSON,
        )
        question = services.add_question(session, "Member1 question", None)
        group = services.topic_groups(dist.id)[0]
        item = services.add_programme_item(
            services.programme_for(dist.id, 2030),
            quarter=1,
            topic_group=group,
            title="Member1 topic",
            lead=None,
            actor=None,
        )
        from intranet.notifications import notify

        note = notify([db.session.get(User, cell["member"])], "Member1 private notice")[0]
        import io

        from pypdf import PdfWriter

        from intranet_scheduling import documents

        pdf = PdfWriter()
        pdf.add_blank_page(595, 842)
        pdf.add_metadata({"/Title": "Member1 report"})
        report = io.BytesIO()
        pdf.write(report)
        db.session.commit()  # an upload commits on its own
        document = documents.upload(
            session,
            documents.DocumentKind.REPORT,
            "member1.pdf",
            report.getvalue(),
            db.session.get(User, cell["member"]),
        )
        from intranet_questions import services as queue

        scheduling_advance(session)
        member = db.session.get(User, cell["member"])
        queued = queue.ask(session, member, "Member1 queued question")
        turn = queue.raise_hand(session, member)
        from intranet_evaluations import documents as papers
        from intranet_evaluations import services as evaluations
        from intranet_scheduling.models import SessionStatus

        services.advance(session, SessionStatus.CLOSED, None)
        secretary = db.session.get(User, cell["secretary"])
        task = evaluations.add_task(
            session, secretary, what="Member1 task", owner=member, due=days.day_of(session.starts_at)
        )
        paper = papers.draft(session, "minutes", secretary)
        from test_evaluations_votes import _result

        from intranet.plugins import manager

        vote = _result()  # a secret ballot: its tally report is a document of the office too
        manager().for_office(dist.id).intranet_session_vote_closed(session=session, result=vote)
        from intranet.models import UserSession

        signed_in = UserSession(user_id=cell["member"], token_hash="0" * 64, auth_version=member.auth_version)
        db.session.add(signed_in)
        db.session.commit()
        return {
            "user_id": cell["member"],
            "office_id": dist.id,
            "assignment_id": assignment,
            "session_id": session.id,
            "discussion_question_id": question.id,
            "group_id": group.id,
            "item_id": item.id,
            "notification_id": note.id,
            "document_id": document.id,
            "question_id": queued.id,
            "turn_id": turn.id,
            "task_id": task.id,
            "cell_document_id": paper.id,
            "vote_id": vote.vote_id,
            "user_session_id": signed_in.id,
        }


def scheduling_advance(session):
    from intranet_scheduling import services
    from intranet_scheduling.models import SessionStatus

    services.advance(session, SessionStatus.IN_PROGRESS, None)


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
        values = {arg: targets.get(arg, (rule.defaults or {}).get(arg, "hello")) for arg in rule.arguments}
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


GARBAGE = [
    {},
    {
        "full_name": "",
        "title": "",
        "text": " ",
        "ask-text": "",
        "day": "not-a-date",
        "time": "25:99",
        "duration_minutes": "many",
        "quorum_percent": "x",
        "members": ["abc"],
        "lead_id": "-1",
        "kind": "nope",
        "mode": "nope",
        "quarter": "9",
        "topic_group_id": "0",
        "present": ["x"],
        "enabled": "maybe",
        "role-office_id": "x",
        "role-role": "pope",
        "code": "",
        "name": "",
        "parent_id": "x",
        "answer": "perhaps",
    },
]


@pytest.mark.parametrize("form", GARBAGE, ids=["empty", "garbage"])
def test_no_route_answers_bad_input_with_a_server_error(app, data, cell, login, form):
    """Every POST route of every enabled plugin and the core, as the secretary-admin of the office that
    owns the objects, with empty and with nonsense fields: a message or a 4xx, never a 500."""
    data.enable("hello", "DIST")
    with app.app_context():
        from intranet.admin.services import grant_role

        grant_role(
            db.session.get(User, cell["secretary"]),
            db.session.scalar(select(Office).where(Office.code == "DIST")),
            __import__("intranet.models", fromlist=["Role"]).Role.ADMIN,
        )
        db.session.commit()
    targets = _targets(app, cell)
    client = app.test_client()
    login("bithu", c=client)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in {"auth.logout", "auth.login"}:
            continue
        values = {
            arg: targets.get(
                arg, (rule.defaults or {}).get(arg, "hello" if arg == "name" else 2030 if arg == "year" else "en")
            )
            for arg in rule.arguments
        }
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        response = client.post(url, data=form)
        assert response.status_code < 500, f"POST {url} with {form or 'nothing'} answered {response.status_code}"
        checked += 1
    assert checked >= 20
