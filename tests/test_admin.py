"""Administration: offices, users, roles, switches, CSV import, audit; every admin stays in their subtree."""

import io

import pytest
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import AuditEvent, Office, Role, RoleAssignment, User


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def office_id(app, code):
    with app.app_context():
        return db.session.scalar(select(Office.id).where(Office.code == code))


def test_members_cannot_open_administration(client, cell, login):
    login("member1")
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert "Quản trị" not in client.get("/").text


def test_admin_sees_own_subtree_only(app, client, cell, login):
    login("distadmin")
    users = client.get("/admin/users").text
    assert "member1" in users and "othermember" not in users and "cityadmin" not in users
    offices = client.get("/admin/offices").text
    assert "DIST" in offices and "CITY" not in offices.split("<tbody>")[1].split("</tbody>")[0]


def test_parent_admin_manages_the_office_below(client, cell, login):
    login("cityadmin")
    assert "member1" in client.get("/admin/users").text
    assert client.get(f"/admin/users/{cell['member']}").status_code == 200


CROSS_OFFICE_ROUTES = [
    ("get", "/admin/users/{other_member}"),
    ("post", "/admin/users/{other_member}"),
    ("post", "/admin/users/{other_member}/active"),
    ("post", "/admin/users/{other_member}/reset-password"),
    ("post", "/admin/users/{other_member}/roles"),
    ("get", "/admin/offices/{other_office}"),
    ("post", "/admin/offices/{other_office}"),
    ("post", "/admin/plugins/{other_office}/hello"),
]


@pytest.mark.parametrize("method,route", CROSS_OFFICE_ROUTES)
def test_cross_office_attempts_get_404_and_change_nothing(app, client, cell, login, method, route):
    login("distadmin")
    url = route.format(other_member=cell["other_member"], other_office=office_id(app, "OTHER"))
    before = count(app, AuditEvent)
    response = getattr(client, method)(
        url,
        data={
            "full_name": "Hacked",
            "enabled": "1",
            "role-office_id": 1,
            "role-role": "admin",
            "code": "HACK",
            "name": "Hacked",
        },
    )
    assert response.status_code == 404
    assert "othermember" not in response.text and "Hacked" not in response.text
    assert count(app, AuditEvent) == before


def test_role_removal_in_foreign_office_is_refused(app, client, cell, login):
    login("distadmin")
    with app.app_context():
        assignment = db.session.scalar(select(RoleAssignment.id).where(RoleAssignment.user_id == cell["other_member"]))
    assert client.post(f"/admin/users/{cell['other_member']}/roles/{assignment}/delete").status_code == 404
    # Nor through one's own user's URL with a foreign assignment id.
    assert client.post(f"/admin/users/{cell['member']}/roles/{assignment}/delete").status_code == 404


def test_nonexistent_ids_are_404(client, cell, login):
    login("cityadmin")
    for url in ("/admin/users/99999", "/admin/offices/99999", "/admin/users/abc"):
        assert client.get(url).status_code == 404
    assert client.post("/admin/plugins/99999/hello").status_code == 404
    assert client.post(f"/admin/plugins/{1}/nosuchplugin").status_code in (404,)


def test_create_office_and_duplicate_code(app, client, cell, login):
    login("cityadmin")
    city = office_id(app, "CITY")
    response = client.post(
        "/admin/offices",
        data={
            "code": "pd2",
            "name": "Phong Điền 2",
            "parent_id": city,
            "party_committee": "",
            "cell_name": "CHI BỘ PD2",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "PD2"))
        assert office.parent.code == "CITY" and office.cell_name == "CHI BỘ PD2"
    before = count(app, Office)
    duplicate = client.post("/admin/offices", data={"code": "Pd2", "name": "Again", "parent_id": city})
    assert duplicate.status_code == 200 and "Mã cơ quan “PD2” đã được dùng." in duplicate.text
    assert count(app, Office) == before
    outside = client.post("/admin/offices", data={"code": "X1", "name": "X", "parent_id": office_id(app, "OTHER")})
    assert outside.status_code == 200 and count(app, Office) == before  # not a valid choice for this admin


def test_office_cannot_move_under_its_own_child(app, client, cell, login):
    login("cityadmin")
    data = {"code": "DIST", "name": "District", "parent_id": office_id(app, "DIST")}
    dist = client.post(f"/admin/offices/{office_id(app, 'DIST')}", data=data)
    assert "Không thể đặt một cơ quan dưới chính nó" in dist.text


def test_admin_cannot_move_own_top_office_out_of_reach(app, client, cell, login):
    login("distadmin")
    dist = office_id(app, "DIST")
    response = client.post(
        f"/admin/offices/{dist}", data={"code": "DIST", "name": "Renamed", "parent_id": office_id(app, "OTHER")}
    )
    assert response.status_code == 200  # the only parent offered is the current one
    with app.app_context():
        assert db.session.get(Office, dist).parent.code == "CITY"


def test_create_user_issues_a_temporary_password(app, client, cell, login):
    login("distadmin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "New.Member",
            "full_name": "Trần Văn Mới",
            "email": "",
            "office_id": office_id(app, "DIST"),
            "party_status": "probationary",
            "roles": ["member", "committee"],
        },
    )
    assert response.status_code == 200 and "Mật khẩu tạm thời" in response.text
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "new.member"))
        assert user.must_change_password and user.party_status.value == "probationary"
        assert user.roles_in(user.office_id) == {Role.MEMBER, Role.COMMITTEE}
    taken = client.post(
        "/admin/users/new",
        data={"username": "member1", "full_name": "X", "office_id": office_id(app, "DIST"), "party_status": ""},
    )
    assert "Tên đăng nhập “member1” đã có người dùng." in taken.text
    invalid = client.post(
        "/admin/users/new",
        data={"username": "a b", "full_name": "", "office_id": office_id(app, "DIST"), "party_status": ""},
    )
    assert "Trường này là bắt buộc." in invalid.text and "3–64 ký tự" in invalid.text


def test_deactivate_reactivate_and_reset(app, client, cell, login):
    login("distadmin")
    member = cell["member"]
    assert client.post(f"/admin/users/{member}/active").status_code == 302
    assert count(app, User, User.id == member, User.active.is_(False)) == 1
    client.post(f"/admin/users/{member}/active")
    assert count(app, User, User.id == member, User.active.is_(True)) == 1
    reset = client.post(f"/admin/users/{member}/reset-password")
    assert reset.status_code == 200 and 'class="password"' in reset.text
    own = client.post(f"/admin/users/{cell['dist_admin']}/active", follow_redirects=True)
    assert "Bạn không thể tự khóa tài khoản của mình." in own.text
    actions = {e for (e,) in db_rows(app, select(AuditEvent.action))}
    assert {"user.deactivate", "user.activate", "user.reset_password"} <= actions


def db_rows(app, query):
    with app.app_context():
        return db.session.execute(query).all()


def test_grant_and_revoke_roles(app, client, cell, login):
    login("distadmin")
    member = cell["member"]
    dist = office_id(app, "DIST")
    client.post(f"/admin/users/{member}/roles", data={"role-office_id": dist, "role-role": "committee"})
    assert count(app, RoleAssignment, RoleAssignment.user_id == member, RoleAssignment.role == Role.COMMITTEE) == 1
    with app.app_context():
        assignment = db.session.scalar(
            select(RoleAssignment.id).where(RoleAssignment.user_id == member, RoleAssignment.role == Role.COMMITTEE)
        )
    client.post(f"/admin/users/{member}/roles/{assignment}/delete")
    assert count(app, RoleAssignment, RoleAssignment.user_id == member, RoleAssignment.role == Role.COMMITTEE) == 0
    with app.app_context():
        own_admin = db.session.scalar(select(RoleAssignment.id).where(RoleAssignment.user_id == cell["dist_admin"]))
    refused = client.post(f"/admin/users/{cell['dist_admin']}/roles/{own_admin}/delete", follow_redirects=True)
    assert "Bạn không thể tự gỡ vai trò quản trị" in refused.text
    assert "Chi ủy viên" in client.get("/admin/roles").text


def test_plugin_switches_from_the_admin_page(app, client, cell, login):
    login("distadmin")
    dist = office_id(app, "DIST")
    page = client.get("/admin/plugins")
    assert "Xin chào" in page.text and "Chi ủy" not in page.text
    refused = client.post(f"/admin/plugins/{dist}/hello_extra", data={"enabled": "1"}, follow_redirects=True)
    assert "cần “Xin chào”" in refused.text
    client.post(f"/admin/plugins/{dist}/hello", data={"enabled": "1"})
    ok = client.post(f"/admin/plugins/{dist}/hello_extra", data={"enabled": "1"}, follow_redirects=True)
    assert "Đã bật “Xin chào thêm”" in ok.text
    needed = client.post(f"/admin/plugins/{dist}/hello", data={"enabled": "0"}, follow_redirects=True)
    assert "“Xin chào thêm” cần “Xin chào”. Hãy tắt" in needed.text


CSV_OK = (
    "username,full_name,email,office_code,roles,party_status\n"
    "nva,Nguyễn Văn A,nva@example.org,DIST,đảng viên|chi ủy viên,chính thức\n"
    "ttb,Trần Thị B,,dist,member,probationary\n"
)
CSV_BAD = (
    "username;full_name;email;office_code;roles;party_status\n"
    "ok1;Fine Person;;DIST;member;\n"
    "member1;Taken;;DIST;member;\n"
    "x;;bad-email;OTHER;president;maybe\n"
    "ok1;Duplicate;;DIST;;\n"
)


def upload(client, content: bytes, name="people.csv"):
    return client.post(
        "/admin/users/import", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def test_csv_import_creates_everyone_with_temporary_passwords(app, client, cell, login):
    login("distadmin")
    response = upload(client, CSV_OK.encode("utf-8-sig"))
    assert response.status_code == 200 and "Đã nhập 2 tài khoản" in response.text
    with app.app_context():
        a = db.session.scalar(select(User).where(User.username == "nva"))
        assert a.must_change_password and a.roles_in(a.office_id) == {Role.MEMBER, Role.COMMITTEE}
        b = db.session.scalar(select(User).where(User.username == "ttb"))
        assert b.party_status.value == "probationary"
    assert count(app, AuditEvent, AuditEvent.action == "user.create") >= 2


def test_csv_with_bad_rows_reports_each_and_writes_nothing(app, client, cell, login):
    login("distadmin")
    before = (count(app, User), count(app, AuditEvent))
    response = upload(client, CSV_BAD.encode())
    assert response.status_code == 200
    text = response.text
    assert "Chưa nhập dòng nào" in text and "3 trên 4 dòng cần sửa" in text
    assert "Tên đăng nhập đã có người dùng." in text
    assert "Thiếu họ và tên." in text and "Địa chỉ thư điện tử không hợp lệ." in text
    assert "không thuộc quyền quản lý của bạn" in text  # OTHER is outside this admin's subtree
    assert "Không có vai trò “president”." in text and "Trùng tên đăng nhập với dòng 2." in text
    assert (count(app, User), count(app, AuditEvent)) == before


@pytest.mark.parametrize(
    "content,message",
    [
        (b"name,office\nx,y\n", "Thiếu cột: username, full_name, office_code"),
        (b"username,full_name,office_code\n", "Tệp không có dòng nào"),
        ("username,full_name,office_code\nnv,Nguyễn,DIST\n".encode("utf-16"), "Thiếu cột"),
    ],
)
def test_csv_file_level_errors(client, cell, login, content, message):
    login("distadmin")
    assert message in upload(client, content).text


def test_csv_in_windows_vietnamese_encoding(app, client, cell, login):
    login("distadmin")
    # "Lê Văn Cơ" with its tone mark as cp1258 writes it: base letter, then a combining acute.
    content = "username,full_name,office_code\nlvc,Lê Văn Cơ\u0301,DIST\n".encode("cp1258", errors="strict")
    assert "Đã nhập 1 tài khoản" in upload(client, content).text
    with app.app_context():
        assert db.session.scalar(select(User.full_name).where(User.username == "lvc")) == "Lê Văn Cớ"


def test_upload_must_be_csv(client, cell, login):
    login("distadmin")
    assert "Hãy chọn tệp .csv." in upload(client, b"MZ\x90\x00", name="virus.exe").text


def test_audit_log_is_scoped_and_filterable(app, client, cell, login):
    login("distadmin")
    page = client.get("/admin/audit?action=user.")
    assert "user.create" in page.text and "othermember" not in page.text
    assert "plugin." not in client.get("/admin/audit?action=role.").text.split("<tbody>")[1]
    login("cityadmin")
    assert client.get("/admin/audit?page=999").status_code == 200


def test_import_template_round_trips(app, client, cell, login):
    login("distadmin")
    template = client.get("/admin/users/import/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert "Đã nhập 1 tài khoản" in upload(client, template.data).text
    login_member = app.test_client()
    login_member.post("/login", data={"username": "member1", "password": "correct horse battery"})
    assert login_member.get("/admin/users/import/template.csv").status_code == 403


def test_guest_from_another_office_is_listed_but_not_editable(app, client, data, cell, login):
    from intranet.admin.services import grant_role

    with app.app_context():
        guest = db.session.get(User, cell["other_member"])
        grant_role(guest, db.session.get(Office, office_id(app, "DIST")), Role.GUEST)
        db.session.commit()
    login("distadmin")
    roles = client.get("/admin/roles").text
    assert "Othermember" in roles and f"/admin/users/{cell['other_member']}" not in roles
