"""Backup and restore: a populated instance (demo seed plus an uploaded document) goes through
``backup create``, ``verify`` and ``restore`` into an empty instance, and every table (row by row),
file and the secret key must come back; damaged archives and archives from newer code are refused
before anything is touched. On SQLite always, on PostgreSQL when INTRANET_TEST_DATABASE_URL is one."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import docx
import flask_migrate
import pytest
from sqlalchemy import MetaData, create_engine, inspect, select, text
from support import PASSWORD, app_config, pg_only

from intranet import MIGRATIONS, create_app
from intranet.backup import DATABASE, MANIFEST
from intranet.extensions import db
from intranet.schema import code_heads

ENGINES = ["sqlite", pytest.param("postgresql", marks=pg_only)]


def instance(url: str, folder: Path, **extra):
    # No SECRET_KEY setting: the key lives in instance/secret_key, as in a default installation.
    return create_app(app_config(url, folder, SECRET_KEY="", **extra))


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def make_docx(text_: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text_)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def populate(app) -> None:
    """The demo, plus a document uploaded to one of the demo cell's meetings."""
    from intranet.models import User
    from intranet_scheduling import documents
    from intranet_scheduling.models import DocumentKind, Meeting

    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
        assert cli(app, "seed-demo").exit_code == 0
        session = db.session.scalars(select(Meeting).order_by(Meeting.id)).first()
        secretary = db.session.scalar(select(User).where(User.username == "bithu"))
        documents.upload(session, DocumentKind.REPORT, "bao-cao.docx", make_docx("Báo cáo chi bộ quý I"), secretary)
        secretary.set_password(PASSWORD)  # known, so a test can sign in to the restored copy
        secretary.must_change_password = False
        db.session.commit()


def table_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (in Python: JSON columns have no SQL ordering) so both sides
    compare row by row."""
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(db.engine)
        with db.engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in sorted(metadata.tables.items())
            }


def instance_files(app) -> dict[str, bytes]:
    """The instance folder's data files (the SQLite database is compared as tables)."""
    root = Path(app.instance_path)
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("intranet.sqlite3")
    }


def rewrite(
    archive: Path, target: Path, *, members: dict[str, bytes] | None = None, manifest: dict | None = None
) -> None:
    """Copy an archive, replacing some members' bytes and/or the manifest (as a damaged disk or a newer
    version would have left it)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == MANIFEST and manifest is not None:
                data = json.dumps(manifest).encode()
            elif members and member.name in members:
                data = members[member.name]
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


@pytest.mark.parametrize("databases", ENGINES, indirect=True)
def test_round_trip_restores_every_row_file_and_the_key(databases, tmp_path):
    source = instance(databases.new("bksrc"), tmp_path / "source")
    populate(source)
    archive = tmp_path / "nightly" / "intranet.tar.gz"

    created = cli(source, "backup", "create", str(archive))
    assert created.exit_code == 0, created.output
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the secret key
    manifest = read_manifest(archive)
    assert manifest["database"] == databases.engine
    with source.app_context():
        assert manifest["migration_heads"] == code_heads()
    assert {"scheduling", "questions", "evaluations", "meetings"} <= set(manifest["plugins"])
    assert DATABASE[databases.engine] in manifest["members"] and "secret_key" in manifest["members"]
    uploads = [name for name in manifest["members"] if name.startswith("files/instance/uploads/")]
    assert len(uploads) == 1

    verified = cli(source, "backup", "verify", str(archive))
    assert verified.exit_code == 0 and ": OK," in verified.output, verified.output

    target = instance(databases.new("bkdst"), tmp_path / "target")
    restored = cli(target, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "note:" not in restored.output  # same heads, same plugins, key taken from the instance folder

    expected, got = table_rows(source), table_rows(target)
    assert set(got) == set(expected)
    for name, rows in expected.items():
        assert got[name] == rows, f"table {name} differs after restore"
    assert sum(len(rows) for rows in got.values()) > 500  # the demo is really in there
    assert instance_files(target) == instance_files(source)  # uploads and secret_key, byte for byte
    assert (Path(target.instance_path) / "secret_key").stat().st_mode & 0o777 == 0o600

    # Now the target holds data: a second restore is refused unless forced.
    again = cli(target, "backup", "restore", str(archive))
    assert again.exit_code != 0 and "not empty" in again.output and "--force" in again.output
    forced = cli(target, "backup", "restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    assert table_rows(target) == expected


def test_restored_instance_serves_the_document(tmp_path):
    """Restored is usable: the archived password hash signs the secretary in, and the app serves the
    restored document's file."""
    source = instance(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "source")
    populate(source)
    archive = tmp_path / "a.tar.gz"
    assert cli(source, "backup", "create", str(archive)).exit_code == 0
    target = instance(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "target")
    assert cli(target, "backup", "restore", str(archive)).exit_code == 0
    from intranet_scheduling.models import Document

    client = target.test_client()
    assert client.post("/login", data={"username": "bithu", "password": PASSWORD}).status_code == 302
    with target.app_context():
        document = db.session.scalars(select(Document)).one()
    answer = client.get(f"/scheduling/documents/{document.id}")
    assert answer.status_code == 200 and answer.data[:2] == b"PK"
    assert "Báo cáo chi bộ quý I" in docx.Document(io.BytesIO(answer.data)).paragraphs[0].text


@pytest.fixture
def small(tmp_path):
    """A migrated instance with one uploaded file, backed up; and an empty target."""
    source = instance(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "source")
    with source.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
    uploads = Path(source.instance_path) / "uploads"
    uploads.mkdir()
    (uploads / "0123abcd").write_bytes(b"%PDF-1.4 minutes of the meeting")
    archive = tmp_path / "good.tar.gz"
    assert cli(source, "backup", "create", str(archive)).exit_code == 0
    target = instance(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "target")
    return archive, target


def untouched(target) -> bool:
    with target.app_context():
        no_tables = inspect(db.engine).get_table_names() == []
    return no_tables and not (Path(target.instance_path) / "uploads").exists()


def test_a_changed_member_fails_its_checksum(small, tmp_path):
    archive, target = small
    damaged = tmp_path / "damaged.tar.gz"
    rewrite(archive, damaged, members={"files/instance/uploads/0123abcd": b"%PDF-1.4 minutes, altered"})
    for command in (["verify"], ["restore"], ["restore", "--force"]):
        result = cli(target, "backup", *command, str(damaged))
        assert result.exit_code != 0
        assert "checksum mismatch for files/instance/uploads/0123abcd" in result.output
    assert untouched(target)


def test_a_truncated_or_flipped_archive_is_refused(small, tmp_path):
    archive, target = small
    data = archive.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = tmp_path / "flipped.tar.gz"
    middle = len(data) // 2
    flipped.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    for bad in (truncated, flipped):
        result = cli(target, "backup", "restore", str(bad))
        assert result.exit_code != 0
        assert "damaged" in result.output or "truncated" in result.output or "checksum" in result.output, result.output
    assert untouched(target)


def test_a_member_not_in_the_manifest_is_refused(small, tmp_path):
    archive, target = small
    manifest = read_manifest(archive)
    del manifest["members"]["files/instance/uploads/0123abcd"]
    extra = tmp_path / "extra.tar.gz"
    rewrite(archive, extra, manifest=manifest)
    result = cli(target, "backup", "verify", str(extra))
    assert result.exit_code != 0 and "which its manifest does not list" in result.output


def test_a_member_outside_the_backup_layout_is_refused(small, tmp_path):
    """A crafted archive cannot write outside the instance: a path with ``..`` is refused by name."""
    archive, target = small
    crafted = tmp_path / "crafted.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(crafted, "w:gz") as out:
        for member in source:
            out.addfile(member, source.extractfile(member))
        evil = tarfile.TarInfo("files/instance/../../escaped")
        evil.size = 4
        out.addfile(evil, io.BytesIO(b"evil"))
    result = cli(target, "backup", "restore", str(crafted))
    assert result.exit_code != 0 and "unsafe path" in result.output
    assert not (tmp_path / "escaped").exists() and untouched(target)


def test_an_archive_from_newer_code_is_refused(small, tmp_path):
    archive, target = small
    manifest = read_manifest(archive)
    manifest["migration_heads"] = ["9999_from_the_future"]
    manifest["app_version"] = "9.0.0"
    newer = tmp_path / "newer.tar.gz"
    rewrite(archive, newer, manifest=manifest)
    for command in (["verify"], ["restore"], ["restore", "--force"]):
        result = cli(target, "backup", *command, str(newer))
        assert result.exit_code != 0
        assert "9999_from_the_future" in result.output and "newer version" in result.output
    assert untouched(target)


def test_an_older_archive_restores_and_says_to_upgrade(tmp_path):
    source = instance(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "source")
    with source.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="0010")
    archive = tmp_path / "old.tar.gz"
    assert cli(source, "backup", "create", str(archive)).exit_code == 0
    target = instance(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "target")
    result = cli(target, "backup", "restore", str(archive))
    assert result.exit_code == 0 and "run `flask --app wsgi db upgrade`" in result.output


def test_backup_is_consistent_while_the_app_writes(tmp_path):
    """SQLite's backup API copies a snapshot: rows written by another connection during the backup are
    either wholly in it or not, and the copy passes SQLite's integrity check."""
    import threading

    source = instance(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "source")
    with source.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
    writer_engine = create_engine(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    stop = threading.Event()

    def write():
        n = 0
        while not stop.wait(0.002):  # a pause between transactions, as real traffic has, so readers get turns
            n += 1
            with writer_engine.begin() as connection:  # two rows per transaction
                for suffix in ("a", "b"):
                    connection.execute(
                        text(
                            "INSERT INTO office (code, name, party_committee, cell_name, "
                            "created_at) VALUES (:c, :n, '', '', CURRENT_TIMESTAMP)"
                        ),
                        {"c": f"W{n}{suffix}", "n": f"Office {n}"},
                    )

    thread = threading.Thread(target=write)
    thread.start()
    while not stop.wait(0.01):  # the writer is under way before the first backup
        with writer_engine.connect() as connection:
            if connection.execute(text("SELECT count(*) FROM office")).scalar():
                break
    try:
        archives = [tmp_path / f"{i}.tar.gz" for i in range(3)]
        for archive in archives:
            assert cli(source, "backup", "create", str(archive)).exit_code == 0
    finally:
        stop.set()
        thread.join()
        writer_engine.dispose()
    for i, archive in enumerate(archives):
        assert cli(source, "backup", "verify", str(archive)).exit_code == 0  # includes integrity_check
        target = instance(f"sqlite:///{tmp_path / f't{i}.sqlite3'}", tmp_path / f"t{i}")
        assert cli(target, "backup", "restore", str(archive)).exit_code == 0
        with target.app_context():
            codes = db.session.scalars(text("SELECT code FROM office")).all()
        assert len(codes) % 2 == 0 and {c[:-1] for c in codes if c.endswith("a")} == {
            c[:-1] for c in codes if c.endswith("b")
        }
