"""Upgrading from the previous release (``intranet/release.py``): a database built at that release's
migration head and filled with rows written in its SQL goes through ``flask db upgrade``; every row
keeps its values (new columns may appear) and the app serves the data. On SQLite always, on
PostgreSQL when INTRANET_TEST_DATABASE_URL is one."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import inspect, text
from support import PASSWORD, app_config, pg_only

import intranet.models as models
from intranet import MIGRATIONS, create_app
from intranet.backup import code_heads, database_heads
from intranet.extensions import db
from intranet.release import PREVIOUS_RELEASE, PREVIOUS_RELEASE_HEAD

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
PDF = b"%PDF-1.4\n% minutes of the cell meeting\n%%EOF\n"
STORED = "5f1c0de0c0ffee5f1c0de0c0ffee5f1c"


def rows_of_the_previous_release(password_hash: str) -> list[tuple[str, dict]]:
    """(table, row) in the previous release's schema: an office, its secretary and a member, roles, a
    plugin switch, an audit record, a notification, a meeting with a document, a queue question, the
    office's Jitsi settings."""
    return [
        (
            "office",
            {
                "id": 1,
                "code": "DIST",
                "name": "Viện kiểm sát nhân dân quận Ninh Kiều",
                "party_committee": "",
                "cell_name": "CHI BỘ 1",
                "parent_id": None,
                "created_at": NOW,
            },
        ),
        *[
            (
                "user_account",
                {
                    "id": uid,
                    "username": name,
                    "full_name": full,
                    "email": f"{name}@vks.gov.vn",
                    "password_hash": password_hash,
                    "office_id": 1,
                    "party_status": "official",
                    "active": True,
                    "must_change_password": False,
                    "auth_version": 1,
                    "locale": "vi",
                    "created_at": NOW,
                    "last_login_at": None,
                },
            )
            for uid, name, full in [(1, "bithu", "Nguyễn Văn Hùng"), (2, "dangvien1", "Phạm Quốc Bảo")]
        ],
        *[
            ("role_assignment", {"id": rid, "user_id": uid, "office_id": 1, "role": role})
            for rid, uid, role in [(1, 1, "secretary"), (2, 1, "member"), (3, 2, "member")]
        ],
        (
            "plugin_state",
            {"office_id": 1, "plugin": "questions", "enabled": True, "updated_at": NOW, "updated_by_id": 1},
        ),
        (
            "audit_event",
            {
                "id": 1,
                "created_at": NOW,
                "actor_id": 1,
                "office_id": 1,
                "action": "core.office.create",
                "object_type": "office",
                "object_id": "1",
                "details": json.dumps({"code": "DIST"}),
            },
        ),
        (
            "notification",
            {
                "id": 1,
                "user_id": 2,
                "office_id": 1,
                "key": "welcome",
                "title": "Họp chi bộ tháng 12",
                "body": "Mời đồng chí dự họp.",
                "link": "/scheduling/",
                "created_at": NOW,
                "read_at": None,
            },
        ),
        (
            "scheduling_session",
            {
                "id": 1,
                "office_id": 1,
                "kind": "regular",
                "title": "Sinh hoạt chi bộ thường kỳ tháng 12",
                "starts_at": NOW + timedelta(days=3),
                "duration_minutes": 120,
                "place": "Hội trường cơ quan",
                "mode": "in_person",
                "mode_before_distancing": None,
                "status": "planned",
                "programme_item_id": None,
                "report_due": None,
                "created_at": NOW,
            },
        ),
        (
            "scheduling_document",
            {
                "id": 1,
                "office_id": 1,
                "session_id": 1,
                "kind": "report",
                "version": 1,
                "filename": "bao-cao-thang-12.pdf",
                "stored_name": STORED,
                "content_type": "application/pdf",
                "size": len(PDF),
                "preview_text": "Phần I\nPhần II",
                "uploaded_by_id": 1,
                "uploaded_at": NOW,
            },
        ),
        (
            "questions_question",
            {
                "id": 1,
                "office_id": 1,
                "session_id": 1,
                "author_id": 2,
                "anonymity": "named",
                "through_chair": False,
                "discussion_question_id": None,
                "from_report": False,
                "text": "Đề nghị làm rõ chỉ tiêu phát triển đảng viên năm tới",
                "original_text": None,
                "edited_at": None,
                "status": "open",
                "hidden_reason": "",
                "merged_into_id": None,
                "votes": 0,
                "created_at": NOW,
                "answered_at": None,
            },
        ),
        (
            "meetings_office_config",
            {
                "office_id": 1,
                "jitsi_domain": "meet.vks.gov.vn",
                "backup_domains": "",
                "auth": "hs256",
                "app_id": "intranet",
                "app_secret": "a-prosody-app-secret-of-32-bytes-or-more",
                "jaas_key_id": "",
                "jaas_private_key": "",
                "open_minutes_before": 30,
                "rtt_degraded_ms": 400,
                "rtt_poor_ms": 1000,
                "loss_degraded_pct": 3.0,
                "loss_poor_pct": 10.0,
                "quality_degraded": 60,
                "quality_poor": 30,
                "samples_to_change": 3,
            },
        ),
    ]


def insert(connection, table: str, row: dict) -> None:
    columns = ", ".join(f'"{c}"' for c in row)
    values = ", ".join(f":{c}" for c in row)
    connection.execute(text(f'INSERT INTO "{table}" ({columns}) VALUES ({values})'), row)


def restart_sequences(connection, tables: set[str]) -> None:
    """Rows inserted with explicit ids leave PostgreSQL's sequences behind; a real database would not."""
    for table in sorted(tables):
        if "id" in {c["name"] for c in inspect(connection).get_columns(table)}:
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))")
            )


def snapshot(connection, tables: set[str]) -> dict[str, list[dict]]:
    return {
        table: [dict(row._mapping) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
        for table in sorted(tables)
    }


def primary_key(connection, table: str) -> list[str]:
    return inspect(connection).get_pk_constraint(table)["constrained_columns"]


# Columns a later revision converts on purpose: (table, old column) -> (new column, expected value).
CONVERTED = {
    ("scheduling_document", "preview_text"): ("preview", lambda text: text.split("\n")),  # lines -> paragraphs
}


@pytest.mark.parametrize("databases", ["sqlite", pytest.param("postgresql", marks=pg_only)], indirect=True)
def test_a_database_of_the_previous_release_upgrades_and_is_served(databases, tmp_path):
    app = create_app(app_config(databases.new("upgrade"), tmp_path / "instance"))
    rows = rows_of_the_previous_release(models._hasher.hash(PASSWORD))
    tables = {table for table, _ in rows}
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision=PREVIOUS_RELEASE_HEAD)
        assert database_heads(db.engine) == [PREVIOUS_RELEASE_HEAD]
        with db.engine.begin() as connection:
            for table, row in rows:
                insert(connection, table, row)
            if db.engine.url.get_backend_name() == "postgresql":
                restart_sequences(connection, tables)
        with db.engine.connect() as connection:
            before = snapshot(connection, tables)
    (Path(app.instance_path) / "uploads").mkdir()
    (Path(app.instance_path) / "uploads" / STORED).write_bytes(PDF)

    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    with app.app_context():
        assert database_heads(db.engine) == code_heads()
        with db.engine.connect() as connection:
            after = snapshot(connection, tables)
            for table in sorted(tables):
                key = primary_key(connection, table)
                assert len(after[table]) == len(before[table]), f"{table} lost or gained rows"
                now_by_key = {tuple(r[c] for c in key): r for r in after[table]}
                for old in before[table]:
                    new = now_by_key[tuple(old[c] for c in key)]
                    kept = {c: v for c, v in old.items() if (table, c) not in CONVERTED}
                    assert {c: new[c] for c in kept} == kept, f"a row of {table} changed in the upgrade"
                    for (_, column), (into, convert) in ((k, v) for k, v in CONVERTED.items() if k[0] == table):
                        value = json.loads(new[into]) if isinstance(new[into], str) else new[into]  # SQLite: text
                        assert value == convert(old[column]), f"{table}.{column} converted wrongly"
        db.engine.dispose()

    client = app.test_client()
    assert client.post("/login", data={"username": "bithu", "password": PASSWORD}).status_code == 302
    assert "Sinh hoạt chi bộ thường kỳ tháng 12" in client.get("/scheduling/sessions/1").text
    document = client.get("/scheduling/documents/1")
    assert document.status_code == 200 and document.data == PDF
    assert "Đề nghị làm rõ chỉ tiêu phát triển đảng viên năm tới" in client.get("/questions/sessions/1").text
    assert "Họp chi bộ tháng 12" not in client.get("/notifications/").text  # someone else's
    client.post("/logout")
    assert client.post("/login", data={"username": "dangvien1", "password": PASSWORD}).status_code == 302
    assert "Họp chi bộ tháng 12" in client.get("/notifications/").text


def test_the_changelog_names_the_previous_release_and_its_migration():
    changelog = (Path(__file__).resolve().parent.parent / "CHANGELOG.md").read_text()
    newest = re.search(r"^## (\d+\.\d+\.\d+)\b.*?\n(.*?)(?=^## |\Z)", changelog, re.M | re.S)
    assert newest and newest.group(1) == PREVIOUS_RELEASE
    assert f"Migration head: `{PREVIOUS_RELEASE_HEAD}`" in newest.group(2)
