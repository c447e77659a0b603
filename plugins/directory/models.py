"""The directory plugin's one table: each office's directory settings. The bind secret stays here (or in
INTRANET_DIRECTORY_BIND_SECRET): never rendered, never in the audit or a log line."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intranet.extensions import db


class OfficeDirectory(db.Model):
    """An office's directory; a text field left empty takes the ``INTRANET_DIRECTORY_*`` setting."""

    __tablename__ = "directory_office_config"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    urls: Mapped[str] = mapped_column(Text, default="")  # one per line, tried in order
    ca_pem: Mapped[str] = mapped_column(Text, default="")
    bind_dn: Mapped[str] = mapped_column(String(500), default="")
    bind_secret: Mapped[str] = mapped_column(String(500), default="", info={"verbatim": True})  # as typed
    search_base: Mapped[str] = mapped_column(String(500), default="")
    user_filter: Mapped[str] = mapped_column(String(1000), default="")
    name_attribute: Mapped[str] = mapped_column(String(100), default="")
    email_attribute: Mapped[str] = mapped_column(String(100), default="")
    status_attribute: Mapped[str] = mapped_column(String(100), default="")
    nested_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    # "<group DN> = <role or party status>", one a line (intranet_directory.settings.MAPPED_TO)
    group_map: Mapped[str] = mapped_column(Text, default="")
