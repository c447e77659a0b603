"""A vendored stylesheet trimmed to the rules our pages can use (at static-build time, see assets.py).

Pico CSS styles every component it has, and a member on a weak link pays for all of it before the
page can paint. Here a rule is dropped when none of its selectors can match anything our code can
produce: a selector needs each element (``nav``), class (``.secondary``), ``data-`` attribute and
attribute value (``[role=group]``) it tests to occur as a word somewhere in the templates, scripts or
Python of the app and its plugins (vendored scripts aside: their words are not ours); an input's
``type`` may also come from WTForms, for the field classes our code names. A word that occurs only in
a comment keeps its rules: trimming errs on the side of keeping (so this text names no component it
means to drop). Inside ``:is()``, ``:where()`` and ``:has()`` an alternative that cannot match is
dropped by the same test; ``:not()`` is left alone (what it excludes need not exist). Custom
properties and at-rules other than ``@media``/``@supports`` (``@keyframes``…) are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import tinycss2
import wtforms.fields
from tinycss2.ast import FunctionBlock, SquareBracketsBlock

_WORD = re.compile(r"[A-Za-z_][\w-]*")
_SOURCES = (".html", ".js", ".py")
_ALTERNATIVES = ("is", "where", "has", "-webkit-any", "-moz-any")


def used_words(folders: Iterable[str | Path]) -> frozenset[str]:
    """Every word in the templates, scripts and Python modules under ``folders``, outside ``vendor``
    folders, and the input types WTForms writes for the fields they name."""
    words = set()
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.suffix in _SOURCES and "vendor" not in path.parts and path.is_file():
                words.update(_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(words | _input_types(words))


def _input_types(words: set[str]) -> set[str]:
    """``DateField`` renders ``<input type="date">``, ``RadioField`` options ``type="radio"``…"""
    types = set()
    for name in words & set(dir(wtforms.fields)):
        field = getattr(wtforms.fields, name)
        for widget in (getattr(field, "widget", None), getattr(field, "option_widget", None)):
            types.add(getattr(widget, "input_type", None))
    return types - {None}


def trim(css: str, words: frozenset[str], color_scheme: str | None = None) -> str:
    """``css`` without the rules no selector of which can match. With ``color_scheme`` (the one every
    page fixes with data-theme on its root), ``@media`` blocks for a browser preferring another go whole."""
    other_scheme = re.compile(rf"prefers-color-scheme:(?!{color_scheme}\b)") if color_scheme else None
    rules = tinycss2.parse_stylesheet(css, skip_comments=True)
    return tinycss2.serialize(_trim_rules(rules, words, other_scheme))


def _trim_rules(rules: list, words: frozenset[str], other_scheme: re.Pattern | None) -> list:
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s for s in _split(rule.prelude) if _can_match(s, words)]
            if not selectors:
                continue
            rule.prelude = _join(selectors)
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content:
            condition = tinycss2.serialize(rule.prelude).replace(" ", "")
            if other_scheme and other_scheme.search(condition):
                continue
            inner = _trim_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True), words, other_scheme)
            if not any(r.type == "qualified-rule" or r.type == "at-rule" for r in inner):
                continue
            rule.content = inner
        kept.append(rule)
    return kept


def _split(tokens: list) -> list[list]:
    """A selector list's selectors (split at its top-level commas), each without surrounding spaces."""
    selectors, current = [], []
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    selectors.append(current)
    return [_strip(s) for s in selectors if _strip(s)]


def _strip(tokens: list) -> list:
    start, end = 0, len(tokens)
    while start < end and tokens[start].type in ("whitespace", "comment"):
        start += 1
    while end > start and tokens[end - 1].type in ("whitespace", "comment"):
        end -= 1
    return tokens[start:end]


def _join(selectors: list[list]) -> list:
    joined = []
    for i, selector in enumerate(selectors):
        if i:
            joined.append(tinycss2.ast.LiteralToken(0, 0, ","))
        joined.extend(selector)
    return joined


def _can_match(selector: list, words: frozenset[str]) -> bool:
    """False when the selector names an element, a class or an attribute value our code never writes. Drops the
    alternatives of ``:is()``/``:where()``/``:has()`` that cannot match (in place)."""
    for i, token in enumerate(selector):
        before = selector[i - 1] if i else None
        if token.type == "ident" and not (before and before.type == "literal" and before.value in ".:"):
            if token.lower_value not in words:  # an element: a template or a script writes its name
                return False
        elif token.type == "literal" and token.value == "." and i + 1 < len(selector):
            following = selector[i + 1]
            if following.type == "ident" and following.value not in words:
                return False
        elif isinstance(token, SquareBracketsBlock):
            name, value = _attribute(token)
            if (name.startswith("data-") and name not in words) or (value is not None and value not in words):
                return False
        elif isinstance(token, FunctionBlock) and token.lower_name in _ALTERNATIVES:
            alternatives = [s for s in _split(token.arguments) if _can_match(s, words)]
            if not alternatives:
                return False
            token.arguments = _join(alternatives)
    return True


def _attribute(block: SquareBracketsBlock) -> tuple[str, str | None]:
    """The attribute an ``[attr…]`` selector tests, and the value when it is a single word compared
    whole (``=``, ``~=``, ``|=``); None for ``[attr]``, substring tests and values that are not words."""
    tokens = [t for t in block.content if t.type != "whitespace"]
    name = tokens[0].value if tokens and tokens[0].type == "ident" else ""
    operators = "".join(t.value for t in tokens if t.type == "literal")
    value = tokens[-1] if tokens else None
    if operators not in ("=", "~=", "|=") or value.type not in ("ident", "string"):
        return name, None
    return name, value.value if _WORD.fullmatch(value.value) else None
