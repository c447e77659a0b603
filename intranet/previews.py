"""The text shown in the browser for an uploaded document, read as a stream and cut at PREVIEW_LIMIT
characters: the archive is opened through ``archives.open_archive`` (so a bomb never gets here) and its
XML parts are fed to expat a chunk at a time, so the worker never holds a whole part, a parsed tree or
more than the limit of text. A new format is one more entry in ``_READERS``."""
from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from typing import Callable

from .archives import BadXML, NotAnArchive, open_archive, read_xml
from .filetypes import DOCX, PPTX, Damaged, office_main_part

PREVIEW_LIMIT = 1_000_000  # characters (about 1 MB); the rest of a longer document is not shown


@dataclass(frozen=True)
class Preview:
    text: str
    cut: bool  # the document has more text than the preview holds


class _Full(Exception):
    """The preview is full: stop reading."""


class _Text:
    """Lines of preview text, up to a limit; the line that reaches it is cut and ``_Full`` raised."""

    def __init__(self, limit: int):
        self.parts: list[str] = []
        self.room = limit
        self.cut = False

    def line(self, text: str) -> None:
        piece = f"\n{text}" if self.parts else text
        if len(piece) > self.room:
            self.parts.append(piece[:self.room])
            self.room, self.cut = 0, True
            raise _Full
        self.parts.append(piece)
        self.room -= len(piece)


def _paragraphs(archive: zipfile.ZipFile, name: str, out: _Text) -> None:
    """Each non-blank paragraph (``w:p`` in WordprocessingML, ``a:p`` in DrawingML) of one part as a
    line; a tab or break inside a run is kept. A paragraph longer than the room left ends the preview
    as soon as it passes it, not at its end."""
    paragraphs: list[tuple[list[str], list[int]]] = []  # (pieces, [length]); text boxes nest them
    depth = {"r": 0, "t": 0}

    def start(tag, _attrs):
        if tag == "p":
            paragraphs.append(([], [0]))
        elif tag in depth:
            depth[tag] += 1
        elif paragraphs and depth["r"] and tag in ("tab", "br", "cr"):
            paragraphs[-1][0].append("\t" if tag == "tab" else "\n")

    def end(tag):
        if tag == "p" and paragraphs:
            text = "".join(paragraphs.pop()[0])
            if text.strip():
                out.line(text)
        elif tag in depth:
            depth[tag] -= 1

    def text(chars):
        if depth["t"] and paragraphs:
            pieces, length = paragraphs[-1]
            pieces.append(chars)
            length[0] += len(chars)
            if length[0] > out.room:
                out.line("".join(pieces))

    read_xml(archive, name, start=start, end=end, text=text)


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> target part name, for one part (OPC, ECMA-376 part 2)."""
    folder, base = posixpath.split(part)
    targets = {}

    def start(tag, attrs):
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            targets[attrs.get("Id", "")] = (target.lstrip("/") if target.startswith("/")
                                            else posixpath.normpath(posixpath.join(folder, target)))

    read_xml(archive, posixpath.join(folder, "_rels", f"{base}.rels"), start=start)
    return targets


def _docx(archive: zipfile.ZipFile, main: str, out: _Text) -> None:
    _paragraphs(archive, main, out)


def _pptx(archive: zipfile.ZipFile, main: str, out: _Text) -> None:
    """Each slide, in the presentation's order, as "— n —" and its paragraphs, a blank line between."""
    order = []

    def start(tag, attrs):
        if tag == "sldId":
            order.extend(v for k, v in attrs.items() if k.endswith("relationships id"))

    read_xml(archive, main, start=start)
    targets = _relationships(archive, main)
    for number, ident in enumerate(order, start=1):
        if number > 1:
            out.line("")
        out.line(f"— {number} —")
        _paragraphs(archive, targets[ident], out)


_READERS: dict[str, Callable[[zipfile.ZipFile, str, _Text], None]] = {DOCX: _docx, PPTX: _pptx}


def extract(content_type: str, data: bytes, limit: int = PREVIEW_LIMIT) -> Preview:
    """The preview of a file ``filetypes.identify`` accepted; empty for formats shown as they are.
    ``Damaged`` for a broken part, ``DecompressionBomb`` as ``open_archive`` says."""
    reader = _READERS.get(content_type)
    if reader is None:
        return Preview("", False)
    out = _Text(limit)
    try:
        archive = open_archive(data)
        main = office_main_part(archive)
        if main is None:
            raise Damaged("no main part")
        reader(archive, main[1], out)
    except _Full:
        pass
    except (BadXML, KeyError, NotAnArchive) as exc:
        raise Damaged(str(exc)) from exc
    return Preview("".join(out.parts), out.cut)
