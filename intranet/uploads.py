"""Every file a user uploads goes through ``inspect`` before anything is stored: its size, what it
really is (``filetypes``: structure, not name), whether it would unpack into a bomb (``archives``),
and the text preview, read as a stream and cut at ``previews.PREVIEW_LIMIT``. The rules are written
down in docs/security/uploads.md."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from . import previews
from .archives import MAX_RATIO, MAX_UNPACKED, DecompressionBomb
from .filetypes import MAX_PIXELS, Damaged, identify


class UploadRefused(ValueError):
    """The file is refused; ``str(err)`` is already translated for the user."""


@dataclass(frozen=True)
class Inspected:
    content_type: str
    preview: previews.Preview


def inspect(data: bytes, accepted: set[str], max_size: int, not_accepted: str) -> Inspected:
    """The checked file's real type and preview, or ``UploadRefused``; ``not_accepted`` is the caller's
    message for a file of a type it does not take."""
    if not data:
        raise UploadRefused(_("The file is empty."))
    if len(data) > max_size:
        raise UploadRefused(_("The file is larger than %(mb)d MB.", mb=max_size // (1024 * 1024)))
    try:
        content_type = identify(data)
        if content_type not in accepted:
            raise UploadRefused(not_accepted)
        return Inspected(content_type, previews.extract(content_type, data))
    except Damaged as exc:
        current_app.logger.info("upload refused as damaged: %s", exc)
        raise UploadRefused(_("The file is damaged and cannot be opened.")) from exc
    except DecompressionBomb as exc:
        raise UploadRefused(
            _(
                "This file would unpack to far more than its size, so it was refused (it may be a "
                "“zip bomb”). Accepted: at most %(mb)d MB once unpacked, packed at most %(ratio)d "
                "times, images up to %(mp)d megapixels. Save it again from the office program, or "
                "send it as PDF.",
                mb=MAX_UNPACKED // (1024 * 1024),
                ratio=MAX_RATIO,
                mp=MAX_PIXELS // 1_000_000,
            )
        ) from exc
