"""Bad input gets a clear message in the user's language, never a 500; CSRF is enforced."""

import io
import re

from support import PASSWORD
from test_uploads_hardening import docx_with_body, meeting, paragraph  # noqa: F401  (meeting is a fixture)


def test_csrf_is_required_on_every_form(app, client, cell):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/login", data={"username": "member1", "password": PASSWORD})
        assert refused.status_code == 400 and "Biểu mẫu đã hết hạn" in refused.text
        page = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        ok = client.post("/login", data={"username": "member1", "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
        assert client.post("/logout").status_code == 400  # even sign-out
        assert client.post("/lang/en").status_code == 400
        bad = client.post("/account", data={"full_name": "x", "csrf_token": "forged"})
        assert bad.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_unknown_page_is_a_translated_404(client, cell, login):
    login("member1")
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Trang này không tồn tại" in response.text


def test_oversize_form_is_413_with_message(app, client, cell, login):
    login("member1")
    response = client.post("/account", data={"full_name": "x" * (app.config["MAX_FORM_SIZE"] + 10)})
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    # An upload view accepts more than a plain form.
    client.post("/logout")
    login("distadmin")
    import io

    big = b"username,full_name,office_code\n" + b"x" * (app.config["MAX_FORM_SIZE"] + 10)
    upload = client.post(
        "/admin/users/import", data={"file": (io.BytesIO(big), "big.csv")}, content_type="multipart/form-data"
    )
    assert upload.status_code == 200


def test_overlong_field_is_a_form_error(client, cell, login):
    login("member1")
    response = client.post("/account", data={"full_name": "x" * 300, "email": "", "locale": "vi"})
    assert response.status_code == 200 and "Tối đa 200 ký tự." in response.text


def test_wrong_method_is_405_page(client, cell, login):
    login("member1")
    assert client.get("/logout").status_code == 405


def test_unknown_language_is_404(client):
    assert client.post("/lang/fr").status_code == 404


def test_json_clients_get_json_errors(client, cell, login):
    login("member1")
    response = client.get("/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404 and "error" in response.get_json()


def test_a_posted_action_answers_each_client_its_way(app, client, cell, login):
    """One responder (``intranet.refusals.respond``) for every posted action: a page gets a flash and a
    redirect, htmx and the browser's outbox get 204, or 422 with the refusal as plain text."""
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import User

    login("distadmin")
    with app.app_context():
        me, member = (
            db.session.scalar(select(User.id).where(User.username == name)) for name in ("distadmin", "member1")
        )
    refused = client.post(f"/admin/users/{me}/active")
    assert (
        refused.status_code == 302
        and "Bạn không thể tự khóa tài khoản của mình" in client.get(refused.headers["Location"]).text
    )
    quiet = client.post(f"/admin/users/{me}/active", headers={"X-Outbox": "1"})
    assert quiet.status_code == 422 and quiet.mimetype == "text/plain"
    assert quiet.text == "Bạn không thể tự khóa tài khoản của mình."
    done = client.post(f"/admin/users/{member}/active", headers={"HX-Request": "true"})
    assert done.status_code == 204
    with app.app_context():
        assert db.session.get(User, me).active and not db.session.get(User, member).active


def test_a_boosted_form_is_a_page_that_stays_put_when_refused(app, client, meeting, login):
    """A file sent by a boosted form (its progress shown): refused, 422 and the reason, so the page keeps
    the form and the chosen file; done, the flash waits for the page ``HX-Redirect`` sends it to; an
    error page (too large) reaches htmx as its text."""
    sid = meeting
    login("member1")
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}

    def send(content: bytes, name: str, **extra):
        return client.post(
            f"/scheduling/sessions/{sid}/documents",
            headers={**boosted, **extra},
            data={"kind": "report", "file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )

    refused = send(b"<html>not a report</html>", "bao-cao.docx")
    assert refused.status_code == 422 and refused.mimetype == "text/plain"
    assert refused.text.startswith("Không nhận loại tệp này.")
    done = send(docx_with_body([paragraph("Phần I")]), "bao-cao.docx")
    assert done.status_code == 204 and done.headers["HX-Redirect"] == f"/scheduling/sessions/{sid}#documents"
    assert "“bao-cao.docx” đã được tải lên (phiên bản 1)." in client.get(f"/scheduling/sessions/{sid}").text
    app.config["MAX_CONTENT_LENGTH"], before = 1000, app.config["MAX_CONTENT_LENGTH"]
    try:
        too_large = send(b"x" * 5000, "lon.docx")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert too_large.status_code == 413 and too_large.mimetype == "text/plain"
    assert too_large.text == "Dữ liệu gửi lên quá lớn."


def test_services_refuse_with_the_one_error_class():
    """One refusal for the core and every plugin: no module defines its own ``XError(message, field)``."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = []
    for path in [
        *(root / "intranet").rglob("*.py"),
        *(root / "plugins").rglob("*.py"),
        *(root / "examples").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(n, ast.Attribute) and n.attr == "field" and getattr(n.value, "id", "") == "self"
                for n in ast.walk(node)
            ):
                found.append(f"{path.relative_to(root)}:{node.name}")
    assert found == ["intranet/refusals.py:ServiceError"]
