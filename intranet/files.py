"""Every file the intranet hands out (an uploaded document, an export, a feed) leaves through
``send``: the browser is told the type and must not guess another (``nosniff``), and the file is an
attachment, with its name encoded per RFC 6266 / RFC 5987, unless its type is one a browser shows
safely in the page. No view builds a Content-Disposition header itself."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file

# Types a browser renders without running anything of the file's in the intranet's origin.
SAFE_INLINE = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "video/webm"}
)
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()+,-]")  # what survives unquoted in the plain filename


def content_disposition(filename: str, inline: bool) -> str:
    """``inline`` or ``attachment`` with the name twice: an ASCII fallback and the exact UTF-8 name
    (``filename*``). Path parts, control and format characters are dropped first."""
    name = (
        "".join(c for c in filename.replace("\\", "/").rsplit("/", 1)[-1] if unicodedata.category(c)[0] != "C").strip(
            " ."
        )
        or "file"
    )
    fallback = _UNSAFE_ASCII.sub("_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    fallback = fallback.strip(" ._") or "file"
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def send(
    source: bytes | str | Path, *, content_type: str, filename: str, download: bool = False, max_age: int = 0
) -> Response:
    """The response for one file: ``source`` is its bytes (or text) or its path on disk (then ranges
    and conditional requests are answered, for video). Shown in the page only when its type is in
    SAFE_INLINE and ``download`` is not asked; cacheable by the user's browser alone."""
    if isinstance(source, str):
        source = source.encode()
    body = io.BytesIO(source) if isinstance(source, bytes) else source
    response = send_file(body, mimetype=content_type, conditional=True, max_age=max_age)
    response.headers["Content-Disposition"] = content_disposition(
        filename, content_type in SAFE_INLINE and not download
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = False
    response.cache_control.private = True
    return response
