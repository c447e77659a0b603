"""Permissions as data: plugins declare permissions with default roles, each office's admin changes which
roles hold them on the roles page (audited, office-scoped), and no plugin compares roles itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from test_questions import _meeting  # a meeting in progress: _meeting(app, code=…)

from intranet.access import can, holders
from intranet.extensions import db
from intranet.models import AuditEvent, Office, PermissionGrant, User

ROOT = Path(__file__).resolve().parent.parent
# Role names may appear in a plugin only as the defaults it declares, inside ``Permission(...)``.
ROLE_NAMES = {"Role", "CELL_ROLES"}
ROLE_READERS = {"roles", "roles_in"}  # the user's role assignments


def role_comparisons(source: str) -> list[int]:
    """Line numbers where Python source reads or compares roles other than to declare a Permission."""
    tree = ast.parse(source)
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Permission":
            allowed |= {id(inner) for inner in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Name) and node.id in ROLE_NAMES | {"RoleAssignment"}:
            found.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in ROLE_READERS:
            found.append(node.lineno)
        elif isinstance(node, ast.alias) and node.name == "RoleAssignment":
            found.append(node.lineno)
    return found


def plugin_sources() -> list[Path]:
    return [*ROOT.glob("plugins/**/*.py"), *ROOT.glob("examples/**/*.py"), *ROOT.glob("tests/outside_plugin/**/*.py")]


@pytest.mark.parametrize(
    "source",
    [
        "from intranet.models import RoleAssignment",
        "CHAIR_ROLES = frozenset({Role.SECRETARY})",
        "def chair(user, office_id):\n    return Role.SECRETARY in user.roles_in(office_id)",
        "def chair(user):\n    return any(a.role for a in user.roles)",
        "def member(user, office_id):\n    return bool(user.roles_in(office_id) & CELL_ROLES)",
    ],
)
def test_the_scan_finds_a_role_comparison(source):
    assert role_comparisons(source)


def test_the_scan_allows_declaring_default_roles():
    assert (
        role_comparisons('Permission("x.y", "Y", frozenset({Role.SECRETARY}))\nPermission("x.z", "Z", CELL_ROLES)')
        == []
    )


def test_no_plugin_compares_roles_directly():
    """Every right a plugin checks goes through ``intranet.access.can`` (or ``holders``), so the office's
    grants decide it: no plugin reads a user's roles or keeps a role set of its own."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in plugin_sources()
        for line in role_comparisons(path.read_text(encoding="utf-8"))
    ]
    templates = [*ROOT.glob("plugins/**/templates/**/*.html"), *ROOT.glob("examples/**/templates/**/*.html")]
    offenders += [
        str(path.relative_to(ROOT))
        for path in templates
        if re.search(r"\.roles(_in)?\b", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_right_a_plugin_asks_for_is_declared(app):
    """A misspelt permission would silently answer no: each ``can(…, "x.y", …)`` names a declared one."""
    from intranet.plugins import manager

    asked = set()
    for path in [*plugin_sources(), *ROOT.glob("intranet/**/*.py")]:
        asked |= set(
            re.findall(r"""(?:can|holders)\([^()]*?["']([a-z_]+\.[a-z_]+)["']""", path.read_text(encoding="utf-8"))
        )
    assert asked and asked - {"noticeboard.post", "hello.greet"} <= set(manager(app).permissions)


# --- the office's grants ------------------------------------------------------------------------------


def _checked(page: str) -> list[str]:
    """The boxes ticked on the grants form as the page shows it (a disabled box is never sent)."""
    boxes = re.findall(r'<input type="checkbox" name="grant"[^>]*>', page)
    return [re.search(r'value="([^"]+)"', box)[1] for box in boxes if " checked" in box and " disabled" not in box]


def _save(client, office_id: int, change):
    """Open the roles page of the office, change the ticked boxes with ``change`` and save as a browser
    does: the ticked boxes, and the hidden note of those ticked when the page was drawn."""
    page = client.get(f"/admin/roles?office={office_id}").text
    shown = re.findall(r'<input type="hidden" name="shown" value="([^"]+)">', page)
    assert shown == _checked(page)
    return client.post(
        f"/admin/roles/{office_id}", data={"grant": change(_checked(page)), "shown": shown}, follow_redirects=True
    )


def test_defaults_come_from_the_declarations_without_any_row(app, data, qcell):
    data.office("NEW", name="A new office")
    data.user("newdeputy", "NEW", roles=("deputy", "member"))
    with app.test_request_context():
        assert db.session.scalar(select(PermissionGrant)) is None
        deputy = db.session.scalar(select(User).where(User.username == "newdeputy"))
        member = db.session.get(User, qcell["member"])
        assert can(deputy, "questions.moderate", deputy.office_id) and can(
            deputy, "evaluations.draft", deputy.office_id
        )
        assert not can(deputy, "scheduling.approve", deputy.office_id)
        assert not can(member, "questions.moderate", member.office_id)
        assert [u.username for u in holders("questions.name_chair", member.office_id)] == ["bithu"]


def test_a_grant_edited_on_the_roles_page_changes_what_members_may_do_in_that_office_only(app, client, qcell, login):
    dist_meeting, other_meeting = _meeting(app), _meeting(app, code="OTHER")
    login("member1")
    assert client.get(f"/questions/sessions/{dist_meeting}/chair").status_code == 403

    login("distadmin")
    dist = _office_id(app, "DIST")
    ticked = _checked(client.get("/admin/roles").text)
    assert "questions.moderate:deputy" in ticked and "questions.moderate:member" not in ticked
    assert "Đã lưu quyền" in _save(client, dist, lambda boxes: boxes).text  # saved unchanged: no row, no audit
    assert _rows(app) == [] and _audit(app) == []
    _save(client, dist, lambda boxes: [*boxes, "questions.moderate:member"])
    assert "questions.moderate:member" in _checked(client.get("/admin/roles").text)

    login("member1")  # the member of the district now chairs its queue ...
    assert client.get(f"/questions/sessions/{dist_meeting}/chair").status_code == 200
    login("othermember")  # ... and the other office's member still does not chair theirs
    assert client.get(f"/questions/sessions/{other_meeting}/chair").status_code == 403
    assert [(a.office_id, a.action, a.object_id, a.details["role"]) for a in _audit(app)] == [
        (_office_id(app, "DIST"), "permission.grant", "questions.moderate", "member")
    ]

    login("distadmin")  # back to the default: the row goes, the change is audited
    _save(client, dist, lambda boxes: [b for b in boxes if b != "questions.moderate:member"])
    assert _rows(app) == [] and [a.action for a in _audit(app)] == ["permission.grant", "permission.revoke"]
    login("member1")
    assert client.get(f"/questions/sessions/{dist_meeting}/chair").status_code == 403


def test_revoking_a_default_takes_the_right_away(app, client, qcell, login):
    meeting = _meeting(app)
    login("distadmin")
    _save(client, _office_id(app, "DIST"), lambda boxes: [b for b in boxes if b != "questions.moderate:deputy"])
    assert [(r.permission, r.role.value, r.granted) for r in _rows(app)] == [("questions.moderate", "deputy", False)]
    login("phobithu")
    assert client.get(f"/questions/sessions/{meeting}/chair").status_code == 403
    login("bithu")
    assert client.get(f"/questions/sessions/{meeting}/chair").status_code == 200


def test_only_the_offices_admin_edits_its_grants(app, client, qcell, login):
    dist = _office_id(app, "DIST")
    login("otheradmin")  # another tree: the office is not found
    assert client.post(f"/admin/roles/{dist}", data={"grant": ["questions.moderate:member"]}).status_code == 404
    login("bithu")  # no admin: refused
    assert client.post(f"/admin/roles/{dist}", data={"grant": ["questions.moderate:member"]}).status_code == 403
    login("cityadmin")  # the admin above manages the district's grants too
    assert "questions.moderate:member" not in _checked(client.get(f"/admin/roles?office={dist}").text)
    assert _rows(app) == []


def test_two_admins_saving_at_once_keep_both_changes(app, client, qcell, login):
    """Each save applies the boxes its admin changed, not the whole grid as that admin saw it."""
    dist = _office_id(app, "DIST")
    login("distadmin")
    stale = client.get(f"/admin/roles?office={dist}").text  # the district's admin opens the page ...
    city = app.test_client()
    login("cityadmin", c=city)  # ... the city's admin grants one right meanwhile ...
    _save(city, dist, lambda boxes: [*boxes, "questions.moderate:member"])
    shown = re.findall(r'<input type="hidden" name="shown" value="([^"]+)">', stale)
    client.post(
        f"/admin/roles/{dist}",
        data={  # ... and the district's admin then saves another
            "grant": [*_checked(stale), "evaluations.draft:committee"],
            "shown": shown,
        },
    )
    assert {(r.permission, r.role.value) for r in _rows(app)} == {
        ("questions.moderate", "member"),
        ("evaluations.draft", "committee"),
    }


@pytest.mark.parametrize("value", ["core.admin:member", "questions.fly:member", "questions.moderate:king", "x"])
def test_a_forged_or_fixed_grant_is_refused_with_a_message(app, client, qcell, login, value):
    login("distadmin")
    page = client.post(
        f"/admin/roles/{_office_id(app, 'DIST')}",
        data={"grant": ["questions.moderate:member", value]},
        follow_redirects=True,
    )
    assert page.status_code == 200 and "quyền không tồn tại" in page.text
    assert _rows(app) == [] and _audit(app) == []


def _office_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Office.id).where(Office.code == code))


def _rows(app) -> list[PermissionGrant]:
    with app.app_context():
        rows = db.session.scalars(select(PermissionGrant)).all()
        db.session.expunge_all()
        return list(rows)


def _audit(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("permission.")).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(rows)
