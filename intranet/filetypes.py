"""What a user's file really is, from its structure, never from its name or a magic number alone: a
PDF must have its header, cross-reference trailer and catalogue (pypdf reads them), an image must open
in Pillow as the format its header claims, an MP4 must be a sequence of ISO boxes that fills the file
exactly with its ``moov``, a WebM an EBML header of doctype ``webm`` followed by its Segment, and a
.docx/.pptx a zip (bounded, see ``archives``) whose ``[Content_Types].xml`` names the main part.

No maintained pure-Python library checks the MP4 or WebM container strictly (mutagen reads tags and
lets boxes run past the end of the file), so their top-level structure is walked here, to the
standards (ISO/IEC 14496-12, RFC 8794 / RFC 9559)."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader, apply_configuration
from pypdf.errors import PyPdfError

from .archives import BadXML, DecompressionBomb, NotAnArchive, open_archive, read_xml

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MP4 = "video/mp4"
WEBM = "video/webm"
IMAGES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# The content type [Content_Types].xml gives the main part of each accepted Office format (macro-enabled
# variants have other types and are not accepted).
OFFICE_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
MAX_PIXELS = 50_000_000  # an image a browser must decode; a "pixel bomb" is refused like a zip bomb
# Reading a PDF's structure decompresses only cross-reference and object streams, which are small: a
# PDF whose streams would unpack past these is refused as damaged, not read into memory.
PDF_LIMITS = {
    f"{name}_maximum_output_length": 16 * 1024 * 1024 for name in ("zlib", "lzw", "run_length", "jbig2", "brotli")
}


class Damaged(ValueError):
    """The file starts like a format it then does not follow."""


def identify(data: bytes) -> str | None:
    """The content type ``data`` really has, or None for none we know; ``Damaged`` when it claims a
    format by its first bytes and breaks its structure, ``DecompressionBomb`` for a bomb."""
    for looks_like, check in _FORMATS:
        if looks_like(data):
            return check(data)
    return None


def office_main_part(archive) -> tuple[str, str] | None:
    """(content type, part name) of the main part of an Office archive, or None when the zip is no
    .docx/.pptx; ``Damaged`` when its [Content_Types].xml cannot be read."""
    if "[Content_Types].xml" not in archive.namelist():
        return None
    overrides = {}

    def start(tag, attrs):
        if tag == "Override":
            overrides[attrs.get("PartName", "").lstrip("/")] = attrs.get("ContentType", "")

    try:
        read_xml(archive, "[Content_Types].xml", start=start)
    except BadXML as exc:
        raise Damaged(str(exc)) from exc
    for name, declared in overrides.items():
        if declared in OFFICE_MAIN:
            if name not in archive.namelist():
                raise Damaged(f"{name} is declared but missing")
            return OFFICE_MAIN[declared], name
    return None


def _office(data: bytes) -> str | None:
    try:
        archive = open_archive(data)
    except NotAnArchive as exc:
        raise Damaged("not a readable zip") from exc
    main = office_main_part(archive)
    return main[0] if main else None


def _pdf(data: bytes) -> str:
    if b"%%EOF" not in data[-1024:] or b"startxref" not in data[-1024:]:
        raise Damaged("no PDF trailer")
    try:
        with apply_configuration(**PDF_LIMITS):
            reader = PdfReader(io.BytesIO(data))
            if reader.trailer["/Root"].get_object().get("/Type") != "/Catalog" or len(reader.pages) < 1:
                raise Damaged("no catalogue or no page")
    except (PyPdfError, KeyError, ValueError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise Damaged(str(exc)) from exc
    return PDF


def _image(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            found, pixels = image.format, image.width * image.height
            if found in IMAGES and pixels <= MAX_PIXELS:
                image.verify()  # walks the chunks (and their checksums, for PNG) without decoding pixels
    except Image.DecompressionBombError as exc:
        raise DecompressionBomb from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
        raise Damaged(str(exc)) from exc
    if found not in IMAGES:
        raise Damaged(f"an image of another format ({found})")
    if pixels > MAX_PIXELS:
        raise DecompressionBomb
    return IMAGES[found]


def _boxes(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """ISO base media boxes that fill ``data[start:end]`` exactly: type -> (payload start, end)."""
    found, offset = {}, start
    while offset < end:
        if end - offset < 8:
            raise Damaged("a truncated box")
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if end - offset < 16:
                raise Damaged("a truncated box")
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:  # "to the end of the file", allowed for the last box
            size = end - offset
        if size < header or offset + size > end or not all(0x20 <= c < 0x7F for c in kind):
            raise Damaged("a box that does not fit")
        found.setdefault(kind, (offset + header, offset + size))
        offset += size
    return found


def _mp4(data: bytes) -> str:
    top = _boxes(data, 0, len(data))
    if next(iter(top)) != b"ftyp" or b"moov" not in top or not ({b"mdat", b"moof"} & top.keys()):
        raise Damaged("no ftyp, moov or media data")
    if b"mvhd" not in _boxes(data, *top[b"moov"]):
        raise Damaged("no movie header")
    return MP4


def _vint(data: bytes, offset: int, marker: bool) -> tuple[int, int, bool]:
    """An EBML variable-length integer at ``offset``: (value, next offset, all value bits set)."""
    if offset >= len(data) or data[offset] == 0:
        raise Damaged("a bad EBML number")
    length = 9 - data[offset].bit_length()
    if offset + length > len(data):
        raise Damaged("a truncated EBML number")
    first = data[offset] if marker else data[offset] & (0xFF >> length)
    value = int.from_bytes(bytes([first]) + data[offset + 1 : offset + length], "big")
    return value, offset + length, value == (1 << (7 * length)) - 1


def _ebml(data: bytes, offset: int, end: int):
    """The EBML elements from ``offset``: (id, payload start, payload end), until ``end`` or an element
    of unknown size (a live stream's last cluster)."""
    while offset < end:
        ident, offset, _ = _vint(data, offset, marker=True)
        size, offset, unknown = _vint(data, offset, marker=False)
        if unknown:
            yield ident, offset, end
            return
        if offset + size > end:
            raise Damaged("an element that does not fit")
        yield ident, offset, offset + size
        offset += size


EBML_HEADER, DOCTYPE, SEGMENT, INFO, TRACKS = 0x1A45DFA3, 0x4282, 0x18538067, 0x1549A966, 0x1654AE6B


def _webm(data: bytes) -> str:
    elements = _ebml(data, 0, len(data))
    _, start, end = next(elements)  # the EBML header, as the first bytes said
    doctype = next((data[s:e] for i, s, e in _ebml(data, start, end) if i == DOCTYPE), b"")
    ident, start, end = next(elements, (None, 0, 0))
    if doctype.rstrip(b"\0") != b"webm" or ident != SEGMENT:
        raise Damaged("no webm doctype or no segment")
    inside = {i for i, _, _ in _ebml(data, start, end)}
    if not {INFO, TRACKS} <= inside:
        raise Damaged("no segment info or tracks")
    return WEBM


_FORMATS: list[tuple[Callable[[bytes], bool], Callable[[bytes], str | None]]] = [
    (lambda d: d.startswith(b"%PDF-"), _pdf),
    (
        lambda d: (
            d.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a"))
            or (d[:4] == b"RIFF" and d[8:12] == b"WEBP")
        ),
        _image,
    ),
    (lambda d: d[4:8] == b"ftyp", _mp4),
    (lambda d: d.startswith(b"\x1a\x45\xdf\xa3"), _webm),
    (lambda d: d.startswith(b"PK\x03\x04"), _office),
]
