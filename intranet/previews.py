"""The text shown in the browser for an uploaded document (paragraphs, list numbers, tables), read as a stream and cut at PREVIEW_LIMIT
characters: the archive is opened through ``archives.open_archive`` (so a bomb never gets here) and its
XML parts are fed to expat a chunk at a time, so the worker never holds a whole part, a parsed tree or
more than the limit of text. A new format is one more entry in ``_READERS``."""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from .archives import BadXML, NotAnArchive, open_archive, read_xml
from .filetypes import DOCX, PPTX, Damaged, office_main_part

PREVIEW_LIMIT = 1_000_000  # characters (about 1 MB); the rest of a longer document is not shown


@dataclass(frozen=True)
class Preview:
    """What a page shows of a document: blocks in reading order, each a paragraph (a string) or a
    table (``{"rows": [[cell lines, …] per cell, …] per row}``), as JSON stores them."""

    blocks: list[str | dict]
    cut: bool  # the document has more text than the preview holds


class _Full(Exception):
    """The preview is full: stop reading."""


class _Blocks:
    """Preview blocks up to a limit of characters; the block that reaches it is cut and ``_Full`` raised."""

    def __init__(self, limit: int):
        self.blocks: list[str | dict] = []
        self.room = limit
        self.cut = False

    def line(self, text: str) -> None:
        self.blocks.append(self._fit(text))
        self._stop_when_cut()

    def row(self, cells: list[list[str]], new_table: bool) -> None:
        if new_table or not self.blocks or not isinstance(self.blocks[-1], dict):
            self.blocks.append({"rows": []})
        self.blocks[-1]["rows"].append([[self._fit(text) for text in lines] for lines in cells])
        self._stop_when_cut()

    def _fit(self, text: str) -> str:
        """``text`` as far as the room left allows (the rest of the preview is then cut)."""
        if len(text) > self.room:
            text, self.cut = text[: self.room], True
        self.room -= len(text)
        return text

    def _stop_when_cut(self) -> None:
        if self.cut:
            raise _Full


class _Part:
    """One part's text, streamed into ``out``: each non-blank paragraph (``w:p`` in WordprocessingML,
    ``a:p`` in DrawingML) is a block, after its list label when the paragraph is numbered; a table's
    rows make one block, each cell a list of its paragraphs, and a table inside a cell is flattened into
    that cell. A tab or break inside a run is kept. A paragraph or row longer than the room left ends
    the preview as soon as it passes it, not at its end."""

    def __init__(self, out: _Blocks, numbering: _Numbering | None):
        self.out, self.numbering = out, numbering
        self.paragraphs: list[list[str]] = []  # pieces of each open paragraph; text boxes nest them
        self.depth = {"r": 0, "t": 0}
        self.number: dict[str, str] = {}  # the open paragraph's numPr / pStyle values
        self.rows: list[list[list[str]]] = []  # per open table: its current row's cells, each a list of lines
        self.new_table = False  # the next outermost row starts a table
        self.pending = 0  # characters held in open paragraphs and rows

    def start(self, tag, attrs):
        if tag == "p":
            self.paragraphs.append([])
            self.number = {}
        elif tag in self.depth:
            self.depth[tag] += 1
        elif tag == "tbl" and not self.rows:
            self.new_table = True
        elif tag == "tr":
            self.rows.append([])
        elif tag == "tc" and self.rows:
            self.rows[-1].append([])
        elif tag in ("ilvl", "numId", "pStyle") and self.paragraphs and not self.depth["r"]:
            self.number[tag] = _val(attrs)
        elif self.paragraphs and self.depth["r"] and tag in ("tab", "br", "cr"):
            self.paragraphs[-1].append("\t" if tag == "tab" else "\n")

    def end(self, tag):
        if tag == "p" and self.paragraphs:
            text = "".join(self.paragraphs.pop())
            label = self.numbering.label(self.number) if self.numbering and text.strip() else ""
            if text.strip():
                self._emit(f"{label} {text}" if label else text)
        elif tag in self.depth:
            self.depth[tag] -= 1
        elif tag == "tr" and self.rows:
            cells = self.rows.pop()
            if not any(cells):
                return
            if self.rows:  # a row of a table inside a cell
                self._emit(" | ".join(" ".join(lines) for lines in cells))
            else:
                self.out.row(cells, self.new_table)
                self.new_table, self.pending = False, 0

    def text(self, chars):
        if self.depth["t"] and self.paragraphs:
            self.paragraphs[-1].append(chars)
            self.pending += len(chars)
            if self.pending > self.out.room:  # longer than the room left: write what is held, cut
                self._write_held()

    def _write_held(self) -> None:
        """Writes the open row (or paragraph) as far as it has been read; it fills the room, so this
        ends the preview."""
        held = "".join(piece for open_ in self.paragraphs for piece in open_)
        if not self.rows:
            self.out.line(held)  # raises _Full: it is longer than the room left
            return
        inner = " ".join(line for row in self.rows[1:] for lines in row for line in lines)
        cells = [list(lines) for lines in self.rows[0]] or [[]]
        cells[-1].append(" ".join(filter(None, (inner, held))))
        self.out.row(cells, self.new_table)

    def _emit(self, text: str) -> None:
        if self.rows and self.rows[-1]:  # inside a table's cell: the row is written when it ends
            self.rows[-1][-1].append(text)
        else:
            self.out.line(text)
            self.pending = 0

    def read(self, archive: zipfile.ZipFile, name: str) -> None:
        read_xml(archive, name, start=self.start, end=self.end, text=self.text)


def _val(attrs: dict) -> str:
    return next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "val"), "")


class _Numbering:
    """A .docx's list numbering (``word/numbering.xml``, ECMA-376 part 1 §17.9), enough to write each
    numbered paragraph's label as Word shows it: per list, counters by level, deeper levels restarting;
    a paragraph is numbered directly (``w:numPr``) or by its style (``styles.xml``)."""

    def __init__(self, archive: zipfile.ZipFile, main: str):
        targets = _relationships(archive, main, kind="numbering")
        self.levels: dict[str, dict[str, tuple[str, str, int]]] = {}  # numId -> ilvl -> (format, text, start)
        self.styles: dict[str, dict[str, str]] = {}  # styleId -> its numPr
        self.counters: dict[str, list[int]] = {}
        if targets:
            self._read_levels(archive, next(iter(targets.values())))
        styles = _relationships(archive, main, kind="styles")
        if styles and self.levels:
            self._read_styles(archive, next(iter(styles.values())))

    def _read_levels(self, archive, name) -> None:
        abstract: dict[str, dict[str, list]] = {}
        nums: dict[str, str] = {}
        at = {"abstract": None, "level": None, "num": None}

        def start(tag, attrs):
            value = _val(attrs)
            if tag == "abstractNum":
                at["abstract"] = abstract.setdefault(
                    next((v for k, v in attrs.items() if k.endswith("abstractNumId")), ""), {}
                )
            elif tag == "lvl" and at["abstract"] is not None:
                at["level"] = at["abstract"].setdefault(
                    next((v for k, v in attrs.items() if k.endswith("ilvl")), "0"), ["decimal", "%1.", 1]
                )
            elif tag == "num":
                at["num"] = next((v for k, v in attrs.items() if k.endswith("numId")), "")
            elif tag == "abstractNumId" and at["num"] is not None:
                nums[at["num"]] = value
            elif at["level"] is not None and tag in ("numFmt", "lvlText", "start"):
                index = ("numFmt", "lvlText", "start").index(tag)
                at["level"][index] = int(value) if tag == "start" and value.isdecimal() else value

        def end(tag):
            if tag == "lvl":
                at["level"] = None
            elif tag == "abstractNum":
                at["abstract"] = None
            elif tag == "num":
                at["num"] = None

        read_xml(archive, name, start=start, end=end)
        self.levels = {
            num: {lvl: tuple(spec) for lvl, spec in abstract.get(ident, {}).items()} for num, ident in nums.items()
        }

    def _read_styles(self, archive, name) -> None:
        at: dict[str, str | None] = {"style": None}

        def start(tag, attrs):
            if tag == "style":
                at["style"] = next((v for k, v in attrs.items() if k.endswith("styleId")), None)
            elif tag in ("ilvl", "numId") and at["style"]:
                self.styles.setdefault(at["style"], {})[tag] = _val(attrs)

        read_xml(archive, name, start=start)

    def label(self, number: dict[str, str]) -> str:
        """The next label of the list this paragraph belongs to ("" when it is not numbered)."""
        number = {**self.styles.get(number.get("pStyle", ""), {}), **number}
        levels = self.levels.get(number.get("numId", ""))
        level = number.get("ilvl", "0")
        if not levels or level not in levels or not level.isdecimal():
            return ""
        depth = int(level)
        counters = self.counters.setdefault(number["numId"], [])
        counters[:] = counters[: depth + 1] + [0] * (depth + 1 - len(counters))
        counters[depth] = counters[depth] + 1 if counters[depth] else levels[level][2]
        fmt, text, _start = levels[level]
        if fmt == "bullet":
            return "•"
        for shallower in range(depth, -1, -1):
            spec = levels.get(str(shallower), ("decimal", "", 1))
            text = text.replace(f"%{shallower + 1}", _format(counters[shallower] or spec[2], spec[0]))
        return text


def _format(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(n)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalZero":
        return f"{n:02d}"
    return "" if fmt == "none" else str(n)


def _roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _relationships(archive: zipfile.ZipFile, part: str, kind: str | None = None) -> dict[str, str]:
    """Relationship id -> target part name, for one part (OPC, ECMA-376 part 2); only those of one
    ``kind`` (the last segment of the relationship type, e.g. "numbering") when given. A part with no
    relationships has none."""
    if posixpath.join(posixpath.dirname(part), "_rels", f"{posixpath.basename(part)}.rels") not in archive.namelist():
        return {}
    folder, base = posixpath.split(part)
    targets = {}

    def start(tag, attrs):
        if (
            tag == "Relationship"
            and attrs.get("TargetMode") != "External"
            and (kind is None or attrs.get("Type", "").rpartition("/")[2] == kind)
        ):
            target = attrs.get("Target", "")
            targets[attrs.get("Id", "")] = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            )

    read_xml(archive, posixpath.join(folder, "_rels", f"{base}.rels"), start=start)
    return targets


def _docx(archive: zipfile.ZipFile, main: str, out: _Blocks) -> None:
    _Part(out, _Numbering(archive, main)).read(archive, main)


def _pptx(archive: zipfile.ZipFile, main: str, out: _Blocks) -> None:
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
        _Part(out, None).read(archive, targets[ident])


_READERS: dict[str, Callable[[zipfile.ZipFile, str, _Blocks], None]] = {DOCX: _docx, PPTX: _pptx}


def extract(content_type: str, data: bytes, limit: int = PREVIEW_LIMIT) -> Preview:
    """The preview of a file ``filetypes.identify`` accepted; empty for formats shown as they are.
    ``Damaged`` for a broken part, ``DecompressionBomb`` as ``open_archive`` says."""
    reader = _READERS.get(content_type)
    if reader is None:
        return Preview([], False)
    out = _Blocks(limit)
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
    return Preview(out.blocks, out.cut)
