"""Vendored stylesheets trimmed to the rules our code can use (intranet/css_trim.py), and the trimmed
Pico as the pages get it."""

from __future__ import annotations

import tinycss2

from intranet.css_trim import trim, used_words

WORDS = frozenset({"secondary", "group", "light", "container", "a", "p", "button"})


def _selectors(css: str) -> list[str]:
    return [tinycss2.serialize(r.prelude) for r in tinycss2.parse_stylesheet(css, skip_comments=True)]


def test_a_rule_goes_when_its_element_class_or_attribute_value_is_never_written():
    css = ".secondary{a:1}.modal{a:2}[role=group]{a:3}[role=switch]{a:4}[data-theme=dark]{a:5}button{a:6}dialog{a:7}"
    assert _selectors(trim(css, WORDS)) == [".secondary", "[role=group]", "button"]
    assert trim("button:hover,a::after,p:is(:hover){x:1}", WORDS) == "button:hover,a::after,p:is(:hover){x:1}"


def test_a_selector_list_keeps_only_the_selectors_that_can_match():
    assert trim(".modal,.container>p,a.tooltip{x:1}", WORDS) == ".container>p{x:1}"


def test_alternatives_inside_is_and_where_are_trimmed_but_not_does_not_need_its_class():
    assert trim(":is(.modal,.secondary) a{x:1}", WORDS) == ":is(.secondary) a{x:1}"
    assert trim(":where(.modal,.tooltip) a{x:1}", WORDS) == ""
    assert trim("a:not(.modal){x:1}", WORDS) == "a:not(.modal){x:1}"


def test_attributes_without_a_word_value_and_custom_properties_are_kept():
    css = "[aria-current]{x:1}[href^=http]{x:2}:root{--pico-unused:1px}"
    assert trim(css, WORDS) == css


def test_media_blocks_are_trimmed_inside_and_dropped_when_empty_or_for_another_color_scheme():
    css = "@media (min-width:576px){.modal{x:1}.container{x:2}}@media (hover:hover){.tooltip{x:3}}"
    assert trim(css, WORDS) == "@media (min-width:576px){.container{x:2}}"
    dark = "@media only screen and (prefers-color-scheme: dark){:root:not([data-theme]){x:1}}a{x:2}"
    assert trim(dark, WORDS, color_scheme="light") == "a{x:2}"
    assert trim(dark, WORDS, color_scheme="dark") == dark
    keyframes = "@keyframes modal{0%{opacity:0}}"
    assert trim(keyframes, WORDS) == keyframes


def test_words_come_from_templates_scripts_and_python_not_vendored_code_and_include_form_input_types(tmp_path):
    (tmp_path / "page.html").write_text('<p class="lead striped">{{ form.day() }}</p>')
    (tmp_path / "forms.py").write_text("from wtforms import DateField\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.js").write_text("el.classList.add('tooltip')")
    words = used_words([tmp_path])
    assert {"lead", "striped", "date"} <= words and "tooltip" not in words


def test_pico_reaches_the_pages_trimmed_and_every_class_our_templates_name_is_still_styled(app, client):
    from pathlib import Path

    from flask import url_for

    with app.test_request_context():
        link = url_for("static", filename="vendor/pico/pico.red.min.css")
    served = client.get(link, headers={"Accept-Encoding": "identity"}).text
    original = Path(app.static_folder, "vendor/pico/pico.red.min.css").read_text()
    assert len(served) < len(original) * 0.8
    assert "[data-theme=dark]" not in _selectors(served) and "prefers-color-scheme:dark" not in served
    for kept in (".secondary", ".container", "[role=group]", "[type=checkbox]", "[type=date]"):
        assert kept in served, kept
