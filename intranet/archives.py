"""Zip archives from users (.docx, .pptx and any later zip-based format), opened only after their
directory shows they cannot blow up: few entries, a bounded total once unpacked, no entry packed more
tightly than real documents are. Every read of an uploaded archive goes through ``open_archive``."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from xml.parsers import expat

# Real Office files stay far inside these; a zip bomb is far outside them.
MAX_ENTRIES = 10_000
MAX_UNPACKED = 100 * 1024 * 1024  # bytes, all entries together
MAX_RATIO = 100  # unpacked / packed, for the archive and for every entry past RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024  # a small entry may compress well without being a threat
MAX_DIRECTORY = 2 * 1024 * 1024  # bytes of central directory: ``zipfile`` makes one object per 46 of them

_END = b"PK\x05\x06"  # end of central directory record (APPNOTE 4.3.16)
_END_FORMAT = "<4s4H2LH"
_ZIP64_LOCATOR = b"PK\x06\x07"


class DecompressionBomb(Exception):
    """The file would unpack past the bounds (its zip directory says so, or its image header)."""


class NotAnArchive(ValueError):
    """The bytes are no zip archive at all."""


def _directory_size(data: bytes) -> tuple[int, int]:
    """(entries, central directory bytes) as the end record states them, read before ``zipfile``
    builds an object per entry: a 50 MB file could otherwise hold a million of them."""
    start = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF))
    if start < 0 or len(data) - start < 22:
        raise NotAnArchive
    _, _, _, _, entries, size, _, _ = struct.unpack(_END_FORMAT, data[start : start + 22])
    if data[max(0, start - 20) : start].startswith(_ZIP64_LOCATOR):
        entries = size = 0xFFFFFFFF  # zip64 is for archives far larger than a meeting document
    return entries, size


def open_archive(data: bytes) -> zipfile.ZipFile:
    """The archive, once its directory passes every bound; ``NotAnArchive`` for bytes that are no zip,
    ``DecompressionBomb`` for a bomb. Entries read from it cannot yield more than their stated size:
    ``zipfile`` stops at ``file_size`` and checks the CRC."""
    entries, directory = _directory_size(data)
    if entries > MAX_ENTRIES or directory > MAX_DIRECTORY:
        raise DecompressionBomb
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise NotAnArchive from exc
    members = archive.infolist()
    unpacked = sum(info.file_size for info in members)
    if (
        len(members) > MAX_ENTRIES
        or unpacked > MAX_UNPACKED
        or unpacked > MAX_RATIO * len(data)
        or any(
            info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1) for info in members
        )
    ):
        raise DecompressionBomb
    return archive


class BadXML(ValueError):
    """A part of the archive is no well-formed XML (or declares a DTD, which no Office part does)."""


def read_xml(archive: zipfile.ZipFile, name: str, start=None, end=None, text=None) -> None:
    """Stream one XML part of ``archive`` through expat, 64 KiB at a time, calling ``start(tag, attrs)``,
    ``end(tag)`` and ``text(chars)``; tags are local names, attributes keep their namespace
    (``"<uri> id"``; plain names for unprefixed ones). A handler stops the reading by
    raising. Memory stays at a chunk, whatever the size of the part."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = False

    def refuse_dtd(*_args):
        raise BadXML("a DTD in an Office part")

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    if start:
        parser.StartElementHandler = lambda tag, attrs: start(_local(tag), attrs)
    if end:
        parser.EndElementHandler = lambda tag: end(_local(tag))
    if text:
        parser.CharacterDataHandler = text
    try:
        with archive.open(name) as part:
            while chunk := part.read(64 * 1024):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    # A missing part, a damaged or encrypted entry, an unknown compression method.
    except (
        expat.ExpatError,
        KeyError,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise BadXML(str(exc)) from exc


def _local(tag: str) -> str:
    return tag.rpartition(" ")[2]
