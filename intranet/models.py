"""Core tables: offices, users, roles per office, permission grants, plugin switches, audit events."""

from __future__ import annotations

import enum
import functools
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .serving import off_loop

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def utcnow() -> datetime:
    return datetime.now(UTC)


def text_enum(cls, length: int = 24):
    """A Python enum stored as its string values in a plain column (no native database enum, so a new
    value needs no type migration); every model's enum columns use it."""
    return db.Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class UTCDateTime(TypeDecorator):
    """Stores UTC, always returns aware datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use intranet.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def render_migration_type(type_, obj, autogen_context):
    """Alembic hook: write UTCDateTime as the plain column type it stores, so migrations never
    import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


class Role(str, enum.Enum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    DEPUTY = "deputy"
    COMMITTEE = "committee"
    MEMBER = "member"
    GUEST = "guest"


# Those who take part in a cell's meetings (an admin or a guest role alone does not).
CELL_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY, Role.COMMITTEE, Role.MEMBER})


class AuthSource(str, enum.Enum):
    """Where an account's password is checked. A local account is always checked here (the break-glass
    admin); a directory account never has a local password (an authentication plugin checks it)."""

    LOCAL = "local"
    DIRECTORY = "directory"


class PartyStatus(str, enum.Enum):
    OFFICIAL = "official"
    PROBATIONARY = "probationary"


class Office(db.Model):
    __tablename__ = "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The names printed in the header of party documents ("ĐẢNG BỘ …", "CHI BỘ …").
    party_committee: Mapped[str] = mapped_column(String(200), default="")
    cell_name: Mapped[str] = mapped_column(String(200), default="")
    # The rest of its documents' layout (intranet.party_docx): the place on the date line ("Phong Điền,
    # ngày …"), the issuer's code after the number ("Số 05-NQ/CB"), the recipients one a line (empty:
    # the superior committee, the members, the file).
    document_place: Mapped[str] = mapped_column(String(100), default="")
    document_number_suffix: Mapped[str] = mapped_column(String(20), default="CB")
    document_recipients: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("office.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Changed with every plugin switch or permission grant of the office (intranet.office_state): what
    # each process keeps of them is valid while it is unchanged.
    state_stamp: Mapped[str] = mapped_column(String(16), default=lambda: secrets.token_hex(8))

    parent: Mapped[Office | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Office]] = relationship(back_populates="parent", order_by="Office.name")

    def __repr__(self) -> str:
        return f"<Office {self.code}>"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="RESTRICT"), index=True)
    party_status: Mapped[PartyStatus | None] = mapped_column(text_enum(PartyStatus, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_source: Mapped[AuthSource] = mapped_column(
        text_enum(AuthSource, 16), default=AuthSource.LOCAL, server_default=AuthSource.LOCAL.value
    )
    # Bumped on password change/reset and deactivation: every older session cookie stops working.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changed with every change of the user's notifications (intranet.notifications.restamp): the bell's
    # unread count each process keeps is valid while it is unchanged, and it comes with the user's query.
    notice_stamp: Mapped[str] = mapped_column(String(16), default=lambda: secrets.token_hex(8))

    office: Mapped[Office] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # The session this object was loaded for (set by intranet.sessions); Flask-Login stores get_id()
    # in the session cookie and the remember-me cookie, so both name the server-side session.
    session_token = None

    def get_id(self) -> str:
        return f"{self.id}.{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = off_loop(_hasher.hash, password)
        self.auth_version = (self.auth_version or 0) + 1

    def check_password(self, password: str) -> bool:
        if self.auth_source != AuthSource.LOCAL:
            return False  # its password lives in the directory
        try:
            off_loop(_hasher.verify, self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = off_loop(_hasher.hash, password)
        return True

    def roles_in(self, office_id: int) -> set[Role]:
        return {r.role for r in self.roles if r.office_id == office_id}

    def __repr__(self) -> str:
        return f"<User {self.username}>"


def verify_dummy_password(password: str) -> None:
    """Spend the same time as a real check so a missing account cannot be told apart by timing."""
    try:
        off_loop(_hasher.verify, _dummy_hash(), password)
    except VerificationError:
        pass


@functools.cache
def _dummy_hash() -> str:
    return off_loop(_hasher.hash, "not-a-real-password")


class UserSession(db.Model):
    """One signed-in browser. The cookie (and the remember-me cookie) carry the user id and a random
    token whose hash is kept here; deleting the row ends that session wherever the cookie was copied."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The user's auth_version at sign-in: a password change/reset or deactivation ends older sessions.
    auth_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed sign-ins of one username from one address (see intranet/lockout.py)."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RoleAssignment(db.Model):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "office_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(text_enum(Role, 16))

    user: Mapped[User] = relationship(back_populates="roles")
    office: Mapped[Office] = relationship()


class PluginState(db.Model):
    """One office's switch for one plugin; a missing row means the plugin's declared default."""

    __tablename__ = "plugin_state"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class PermissionGrant(db.Model):
    """One office's choice whether ``role`` holds ``permission``; a missing row means the declared
    default (``Permission.roles``), so a new office or a newly installed plugin needs no rows."""

    __tablename__ = "permission_grant"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[Role] = mapped_column(text_enum(Role, 16), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    office: Mapped[Office | None] = relationship()
