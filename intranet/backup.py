"""Backup and restore of a whole instance as one archive (``flask --app wsgi backup …``).

An archive is a gzipped tar holding:

* ``database/intranet.sqlite3`` (SQLite's online backup API: a consistent copy while the app runs) or
  ``database/intranet.pgdump`` (``pg_dump --format=custom``);
* ``files/instance/…``: every file of the instance folder (the uploaded documents in ``uploads/``)
  except the live database and temporaries, and ``files/<KEY>/…`` for each ``*_UPLOAD_DIR`` setting
  that points outside the instance folder;
* ``secret_key``: the key that signs sessions and links;
* ``manifest.json`` (last): versions, migration heads, plugins, creation time and the SHA-256 of every
  other member. Nothing is restored before every checksum matched.

The archive holds the secret key and every document: it is written with mode 600.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

import click
from alembic.runtime.migration import MigrationContext
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import MetaData, inspect, select, table
from sqlalchemy.engine import URL, Engine

from .assets import static_build_dir
from .schema import code_heads, scripts

FORMAT = 1
MANIFEST = "manifest.json"
SECRET = "secret_key"
DATABASE = {"sqlite": "database/intranet.sqlite3", "postgresql": "database/intranet.pgdump"}
INSTANCE = "instance"
CHUNK = 1024 * 1024
SCRATCH = (".intranet-backup-", ".restore-")  # our own working folders, never data


class BackupError(Exception):
    """An archive that cannot be made, trusted or restored; ``str(err)`` says why, for the console."""


# --- what an instance is made of ------------------------------------------------------------------


def app_version() -> str:
    try:
        return version("intranet")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def known_revision(revision: str) -> bool:
    return any(script.revision == revision for script in scripts().walk_revisions())


def database_heads(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(MigrationContext.configure(connection).get_current_heads())


def engine_kind(engine: Engine) -> str:
    name = engine.url.get_backend_name()
    if name not in DATABASE:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_files(engine: Engine) -> set[Path]:
    """The SQLite database file and its journals (never copied as files: the backup API copies it)."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return set()
    main = Path(engine.url.database).resolve()
    return {main, *(main.with_name(main.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}


def data_dirs(app: Flask) -> dict[str, Path]:
    """Folders whose files belong in a backup, by archive name: the instance folder, and every
    ``*_UPLOAD_DIR`` setting that points outside it (inside, the instance folder already has it)."""
    instance = Path(app.instance_path).resolve()
    dirs = {INSTANCE: instance}
    for key, value in sorted(app.config.items()):
        if key.endswith("_UPLOAD_DIR") and value:
            path = Path(value).resolve()
            if not path.is_relative_to(instance):
                dirs[key] = path
    return dirs


def _skipped(app: Flask, engine: Engine) -> set[Path]:
    return _sqlite_files(engine) | {Path(app.instance_path).resolve() / SECRET}


def _data_files(app: Flask, engine: Engine, exclude: set[Path]) -> list[tuple[str, Path]]:
    """(archive name, path) of every regular file to back up. Upload temporaries (``*.part``) and
    a restore's staging folder are not data."""
    skipped = _skipped(app, engine) | exclude
    derived = static_build_dir(app).resolve()  # rebuilt from the code at every start: not data
    found = []
    for name, root in data_dirs(app).items():
        if not root.is_dir():
            continue
        for folder, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(SCRATCH))
            if Path(folder).resolve().is_relative_to(derived):
                subdirs[:] = []
                continue
            for file in sorted(files):
                path = Path(folder, file)
                if path.suffix == ".part" or path.resolve() in skipped or not path.is_file() or path.is_symlink():
                    continue
                found.append((f"files/{name}/{path.relative_to(root).as_posix()}", path))
    return found


def installed_plugins() -> dict[str, str]:
    from .plugins import manager

    return {name: info.version for name, info in sorted(manager().infos.items())}


# --- PostgreSQL through its own tools ---------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore, and an environment carrying the password (never on the
    command line, where ``ps`` would show it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)") from None
    if result.returncode:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")


# --- create ---------------------------------------------------------------------------------------


class _Hashing:
    """A read-only file wrapper that hashes what tarfile copies, so each file is read once."""

    def __init__(self, raw):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, members: dict) -> None:
    with open(path, "rb") as raw:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = os.fstat(raw.fileno()).st_size, int(path.stat().st_mtime), 0o600
        hashing = _Hashing(raw)
        tar.addfile(info, hashing)
    members[name] = {"sha256": hashing.sha256.hexdigest(), "size": hashing.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _dump_database(engine: Engine, target: Path) -> None:
    if engine_kind(engine) == "sqlite":
        source = sqlite3.connect(f"file:{Path(engine.url.database).resolve()}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # one step: a consistent snapshot even while the app writes
        finally:
            copy.close()
            source.close()
        return
    uri, env = _libpq(engine.url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={target}", f"--dbname={uri}"], env)


def create(path: Path, app: Flask | None = None) -> dict:
    """Write the archive to ``path`` (through a temporary name, so a failed run leaves no half archive);
    return its manifest. The database copy is made next to it, not in /tmp, which may be a small tmpfs."""
    from .extensions import db

    app = app or current_app
    engine = db.engine
    kind = engine_kind(engine)
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    members: dict[str, dict] = {}
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": app_version(),
        "database": kind,
        "migration_heads": database_heads(engine),
        "code_heads": code_heads(),
        "plugins": installed_plugins(),
        "members": members,
    }
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar,
            tempfile.TemporaryDirectory(prefix=".intranet-backup-", dir=path.parent) as scratch,
        ):
            dump = Path(scratch) / "database"
            _dump_database(engine, dump)
            _add(tar, DATABASE[kind], dump, members)
            secret = Path(scratch) / SECRET
            secret.write_text(app.config["SECRET_KEY"])
            _add(tar, SECRET, secret, members)
            for name, file in _data_files(app, engine, exclude={path, partial}):
                try:
                    _add(tar, name, file, members)
                except FileNotFoundError:  # deleted while we ran: it is no longer data
                    continue
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


# --- verify ---------------------------------------------------------------------------------------


@dataclass
class Checked:
    manifest: dict
    notes: list[str] = field(default_factory=list)  # restorable, but the admin should know


def _safe_name(name: str) -> PurePosixPath:
    """A member's name, if it is one a backup writes: the manifest, the key, a database, or a file
    ``files/<folder>/<path>``; anything else (absolute, ``..``, unknown) is refused before use."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or str(pure) != name:
        raise BackupError(f"the archive holds an unsafe path: {name!r}")
    if name not in (MANIFEST, SECRET, *DATABASE.values()) and not (pure.parts[0] == "files" and len(pure.parts) >= 3):
        raise BackupError(f"the archive holds {name!r}, which no intranet backup contains")
    return pure


def _read(path: Path, stage: Path, keep=lambda name: True) -> dict:
    """One pass over the archive: hash every member (writing those ``keep`` accepts under ``stage``),
    then hold the hashes against the manifest. Returns the manifest."""
    seen: dict[str, dict] = {}
    manifest_bytes = None
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                pure = _safe_name(member.name)
                if member.name in seen or (member.name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"the archive holds {member.name} twice")
                if not member.isfile():
                    raise BackupError(f"the archive holds something other than a file: {member.name!r}")
                source = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest_bytes = source.read()
                    continue
                sha256, size = hashlib.sha256(), 0
                out = None
                if keep(member.name):
                    target = stage.joinpath(*pure.parts)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    out = open(target, "wb")
                try:
                    while chunk := source.read(CHUNK):
                        sha256.update(chunk)
                        size += len(chunk)
                        if out:
                            out.write(chunk)
                finally:
                    if out:
                        out.close()
                seen[member.name] = {"sha256": sha256.hexdigest(), "size": size}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError) and not Path(path).exists():
            raise BackupError(f"no archive at {path}") from None
        raise BackupError(f"the archive is damaged or truncated ({type(exc).__name__}: {exc})") from None
    if manifest_bytes is None:
        raise BackupError(f"the archive has no {MANIFEST}: it is not an intranet backup or it is truncated")
    try:
        manifest = json.loads(manifest_bytes)
        if manifest.get("format") != FORMAT:
            raise BackupError(
                f"archive format {manifest.get('format')!r} is not supported (this version reads {FORMAT})"
            )
        expected = manifest["members"]
        required = {SECRET, DATABASE[manifest["database"]]}
        if not (
            isinstance(manifest["migration_heads"], list)
            and isinstance(manifest["plugins"], dict)
            and isinstance(manifest["app_version"], str)
            and isinstance(manifest["created_at"], str)
        ):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupError(f"the archive's {MANIFEST} is unreadable or incomplete") from None
    if not required <= set(expected):
        raise BackupError(f"the archive's {MANIFEST} lists no {', '.join(sorted(required - set(expected)))}")
    for name in sorted(set(expected) | set(seen)):
        if name not in seen:
            raise BackupError(f"the archive lacks {name}, which its manifest lists")
        if name not in expected:
            raise BackupError(f"the archive holds {name}, which its manifest does not list")
        if seen[name] != expected[name]:
            raise BackupError(f"checksum mismatch for {name}: the archive is damaged")
    return manifest


def _check_database_member(manifest: dict, file: Path) -> None:
    if manifest["database"] == "sqlite":
        connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"the database in the archive is unreadable: {exc}") from None
        finally:
            connection.close()
        if result != "ok":
            raise BackupError(f"the database in the archive fails SQLite's integrity check: {result}")
    else:
        _run(["pg_restore", "--list", str(file)], dict(os.environ))


def _check_restorable(manifest: dict) -> list[str]:
    """Refuse an archive from newer code; return notes on what the admin does next."""
    newer = [head for head in manifest["migration_heads"] if not known_revision(head)]
    if newer:
        raise BackupError(
            f"the archive's database is at migration {', '.join(newer)}, which this code does not know: it was "
            f"made by a newer version (app {manifest['app_version']}). Install that version or a later one to "
            "restore it."
        )
    notes = []
    if manifest["migration_heads"] != code_heads():
        notes.append(
            f"the archive's database is at migration {', '.join(manifest['migration_heads']) or 'none'}; "
            f"this code's head is {', '.join(code_heads())}: after restoring, run "
            "`flask --app wsgi db upgrade`"
        )
    here = installed_plugins()
    for name, plugin_version in sorted(manifest["plugins"].items()):
        if name not in here:
            notes.append(
                f"plugin {name} {plugin_version} is in the archive but not installed here: its data is "
                "restored, and unused until it is installed"
            )
    return notes


def verify(path: Path) -> Checked:
    """Check every checksum, the database member and that this code can restore it, restoring nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no archive at {path}")
    with tempfile.TemporaryDirectory(prefix=".intranet-backup-", dir=path.parent) as scratch:
        manifest = _read(path, Path(scratch), keep=lambda name: name.startswith("database/"))
        _check_database_member(manifest, Path(scratch, DATABASE[manifest["database"]]))
    return Checked(manifest, _check_restorable(manifest))


# --- restore --------------------------------------------------------------------------------------


def _tables_with_rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [
            name
            for name in inspect(connection).get_table_names()
            if name != "alembic_version"
            and connection.execute(select(1).select_from(table(name)).limit(1)).first() is not None
        ]


def _existing_files(app: Flask, engine: Engine) -> list[Path]:
    return [path for _, path in _data_files(app, engine, exclude=set())]


def _restore_database(engine: Engine, kind: str, dump: Path) -> None:
    engine.dispose()  # no pooled connection may outlive the old content
    if kind == "sqlite":
        target = Path(engine.url.database).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        source, copy = sqlite3.connect(dump), sqlite3.connect(target)
        try:
            source.backup(copy)  # replaces the whole target database, journals included
        finally:
            copy.close()
            source.close()
        return
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()
    uri, env = _libpq(engine.url)
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-acl",
            "--clean",
            "--if-exists",
            "--exit-on-error",
            f"--dbname={uri}",
            str(dump),
        ],
        env,
    )


def _write_secret(instance: Path, key: str) -> None:
    partial = instance / (SECRET + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    os.replace(partial, instance / SECRET)


def restore(path: Path, force: bool = False, app: Flask | None = None) -> list[str]:
    """Restore the archive into this app's database and folders. The target must be empty (no row in
    any table, no data file) unless ``force``; nothing is touched before the archive checked out.
    Returns notes for the admin."""
    from .extensions import db

    app = app or current_app
    engine = db.engine
    kind = engine_kind(engine)
    if not force:
        rows, files = _tables_with_rows(engine), _existing_files(app, engine)
        if rows or files:
            what = ([f"rows in {', '.join(rows[:5])}{' …' if len(rows) > 5 else ''}"] if rows else []) + (
                [f"{len(files)} file(s), e.g. {files[0]}"] if files else []
            )
            raise BackupError(
                f"the target instance is not empty ({'; '.join(what)}). Restore into an empty "
                "instance, or pass --force to replace its database and overwrite its files."
            )
    instance = Path(app.instance_path).resolve()
    dirs = data_dirs(app)
    stage = Path(tempfile.mkdtemp(prefix=".restore-", dir=instance))
    try:
        manifest = _read(Path(path), stage)
        if manifest["database"] != kind:
            raise BackupError(
                f"the archive holds a {manifest['database']} database and this instance uses {kind}; "
                "restore into an instance with the same database engine"
            )
        missing = sorted(
            {PurePosixPath(name).parts[1] for name in manifest["members"] if name.startswith("files/")} - set(dirs)
        )
        if missing:
            raise BackupError(
                f"the archive holds files of {', '.join(missing)}: set that folder in this instance's "
                "configuration before restoring"
            )
        dump = stage / DATABASE[kind]
        _check_database_member(manifest, dump)
        notes = _check_restorable(manifest)
        _restore_database(engine, kind, dump)
        files_root = stage / "files"
        for name in sorted(manifest["members"]):
            parts = PurePosixPath(name).parts
            if parts[0] != "files":
                continue
            target = dirs[parts[1]].joinpath(*parts[2:])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(files_root.joinpath(*parts[1:]), target)
        key, key_file = (stage / SECRET).read_text(), instance / SECRET
        from_file = key_file.exists() and key_file.read_text().strip() == app.config.get("SECRET_KEY")
        _write_secret(instance, key)
        if app.config.get("SECRET_KEY") != key and not from_file:
            notes.append(
                f"the archive's secret key was written to {instance / SECRET}; this instance's SECRET_KEY "
                "setting differs and overrides it: unset it (or set it to the archived key) so that "
                "sessions and signed links stay valid"
            )
        return notes
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# --- console --------------------------------------------------------------------------------------


@click.group("backup", cls=AppGroup, help="Back up the whole instance to one archive; verify; restore.")
def backup_group() -> None:
    pass


@backup_group.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path) -> None:
    """Write the database, uploaded files, secret key and a manifest to PATH (.tar.gz, mode 600)."""
    try:
        manifest = create(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    size = sum(m["size"] for m in manifest["members"].values())
    click.echo(
        f"{path}: {len(manifest['members'])} members, {size} bytes before compression, "
        f"migration {', '.join(manifest['migration_heads']) or 'none'}"
    )


@backup_group.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def verify_command(path: Path) -> None:
    """Check an archive's checksums and database, and that this code can restore it."""
    try:
        checked = verify(path)
    except BackupError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    manifest = checked.manifest
    click.echo(
        f"{path}: OK, made {manifest['created_at']} by app {manifest['app_version']}, "
        f"{manifest['database']} at migration {', '.join(manifest['migration_heads']) or 'none'}, "
        f"{len(manifest['members'])} members"
    )
    for note in checked.notes:
        click.echo(f"note: {note}")


@backup_group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database and overwrite files of a non-empty instance.")
def restore_command(path: Path, force: bool) -> None:
    """Restore PATH into this (empty) instance. Stop the app first."""
    try:
        notes = restore(path, force=force)
    except BackupError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    click.echo(f"{path}: restored")
    for note in notes:
        click.echo(f"note: {note}")
