"""Static files: content-hashed names, cached for good, pre-compressed; pages compressed on the fly.

Every static folder — the app's and each plugin blueprint's — is copied at start into
``STATIC_BUILD_DIR`` (default ``<instance>/static-build``) under content-hashed names
(``css/intranet.3f9a0c1d2e4b.css``) with a gzip and a brotli copy beside each text file (WhiteNoise's
compressor). A ``url_defaults`` hook makes every ``url_for('static', …)`` and ``url_for('<plugin>.static',
…)`` give the hashed name, so templates keep writing ``url_for`` as usual; WhiteNoise, wrapping the WSGI
app, serves those names with ``Cache-Control: public, max-age=31536000, immutable`` and the encoding the
browser accepts. A changed file gets a new name, so a page never meets a stale copy and a browser never
asks again. A name without its hash still reaches Flask's own static view (revalidated, not cached).
The scripts every page runs are joined into one bundle (``BUNDLES``: ``js/base.js``, reached through
``url_for`` only). Vendored stylesheets (``vendor/**/*.css``: Pico) are built trimmed to the rules our
templates, scripts and forms can use (``intranet/css_trim.py``), so the hash names the trimmed copy.

Pages and fragments are compressed by Flask-Compress (brotli, else gzip). Never compressed: streams
(server-sent events must reach the browser frame by frame, not buffered into a compressor), 304s and
anything under 500 bytes — a live poll stays a few bytes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from intranet import css_trim

IMMUTABLE = "public, max-age=31536000, immutable"
_HASH_LENGTH = 12
# The scripts every page runs, joined at build time into one file, in the order they run (as separate
# deferred scripts they ran in that order too). On a weak link every file in flight takes its share of
# the bandwidth that the stylesheets need before anything is painted: one file, one share.
BUNDLES = {"static": {"js/base.js": ("vendor/htmx/htmx.min.js", "js/live.js", "js/intranet.js", "js/offline.js")}}
# Every page fixes data-theme="light" (base.html, the projector's screen.html): Pico's rules for a
# browser that prefers another colour scheme never apply.
_COLOR_SCHEME = "light"
_compress = Compress()


def static_build_dir(app: Flask) -> Path:
    """Where the hashed, pre-compressed copies are built: derived from the code at every start."""
    return Path(app.config.get("STATIC_BUILD_DIR") or Path(app.instance_path) / "static-build")


def init_app(app: Flask) -> None:
    """Call once every blueprint is registered (their static folders are read here)."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    _compress.init_app(app)

    build = static_build_dir(app)
    names: dict[str, dict[str, str]] = {}  # endpoint -> {filename: hashed filename}
    served = WhiteNoise(app.wsgi_app, autorefresh=False, allow_all_origins=False, add_headers_function=_cache_for_good)
    transform = _vendor_css_trimmer(app)
    for endpoint, folder, prefix in _static_folders(app):
        names[endpoint] = _build(Path(folder), build / endpoint, transform, endpoint)
        served.add_files(str(build / endpoint), prefix=prefix)
    app.wsgi_app = _identity_validators(served)

    @app.url_defaults
    def hashed_name(endpoint: str, values: dict) -> None:
        table = names.get(endpoint)
        if table and values.get("filename") in table:
            values["filename"] = table[values["filename"]]


def _static_folders(app: Flask):
    """(endpoint, folder, URL prefix) of every static route: the app's and each blueprint's."""
    folders = {"static": app.static_folder}
    folders.update({f"{name}.static": bp.static_folder for name, bp in app.blueprints.items() if bp.static_folder})
    for rule in app.url_map.iter_rules():
        folder = folders.get(rule.endpoint)
        if folder and os.path.isdir(folder) and rule.rule.endswith("/<path:filename>"):
            yield rule.endpoint, folder, rule.rule[: -len("<path:filename>")]


def _vendor_css_trimmer(app: Flask) -> Callable[[str, bytes], bytes]:
    """What ``_build`` does to a file's content: vendored stylesheets are trimmed to the words of the
    app's and its plugins' code (read once, at the first such stylesheet); other files are unchanged."""
    roots = {Path(app.root_path), *(Path(bp.root_path) for bp in app.blueprints.values())}
    roots = tuple(sorted(r for r in roots if not any(r != o and r.is_relative_to(o) for o in roots)))

    def transform(name: str, data: bytes) -> bytes:
        if not (name.startswith("vendor/") and name.endswith(".css")):
            return data
        return _trimmed(data, _words(roots))

    return transform


@functools.cache
def _words(roots: tuple[Path, ...]) -> frozenset[str]:
    return css_trim.used_words(roots)  # once per process: the code does not change while it runs


@functools.cache
def _trimmed(css: bytes, words: frozenset[str]) -> bytes:
    return css_trim.trim(css.decode("utf-8"), words, _COLOR_SCHEME).encode("utf-8")


def _sources(folder: Path, transform: Callable[[str, bytes], bytes], bundles: dict[str, tuple[str, ...]]):
    """(name, content) of each file of ``folder`` through ``transform``, then of each bundle."""
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
    }
    for name, data in files.items():
        yield name, transform(name, data)
    for name, parts in bundles.items():
        yield name, b"\n;\n".join(files[part].rstrip() for part in parts) + b"\n"


def _build(folder: Path, target: Path, transform: Callable[[str, bytes], bytes], endpoint: str) -> dict[str, str]:
    """Copy ``folder`` into ``target`` under hashed names (with .gz/.br copies), each file's content
    through ``transform``, and build the endpoint's ``BUNDLES``; return the name table. Idempotent and
    safe with several workers starting at once: a file is written under a temporary name, then renamed;
    one already there (same content, same name) is left alone."""
    table = {}
    compressor = Compressor(quiet=True)
    for name, data in _sources(folder, transform, BUNDLES.get(endpoint, {})):
        digest = hashlib.sha256(data).hexdigest()[:_HASH_LENGTH]
        stem, dot, ext = name.rpartition(".")
        hashed = f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{name}.{digest}"
        table[name] = hashed
        destination = target / hashed
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        if compressor.should_compress(hashed):
            for suffix, encode in ((".br", compressor.compress_brotli), (".gz", compressor.compress_gzip)):
                encoded = encode(data)
                if compressor.is_compressed_effectively(suffix, hashed, len(data), encoded):
                    _write(destination.with_name(destination.name + suffix), encoded)
        _write(destination, data)  # last: its presence means the compressed copies are there too
    return table


def _write(destination: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temporary, destination)


# Flask-Compress marks a compressed response's strong ETag "v" as "v:br" (or ":gzip"): the live polls'
# ETag names a version of the content, whatever its encoding, so the suffix is taken off what the
# browser sends back, and an unchanged poll is still answered 304 at once.
_ENCODED_TAG = re.compile(r':(?:br|gzip|deflate|zstd)"')


def _identity_validators(wsgi_app):
    def app(environ, start_response):
        tags = environ.get("HTTP_IF_NONE_MATCH")
        if tags and ":" in tags:
            environ["HTTP_IF_NONE_MATCH"] = _ENCODED_TAG.sub('"', tags)
        return wsgi_app(environ, start_response)

    return app


def _cache_for_good(headers, path: str, url: str) -> None:
    headers["Cache-Control"] = IMMUTABLE
    headers["X-Content-Type-Options"] = "nosniff"
