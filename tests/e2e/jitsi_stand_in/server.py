"""The Jitsi stand-in's own server: a second origin (https://127.0.0.2:<port>, a throwaway certificate)
that serves what a Jitsi deployment serves the room page — ``/external_api.js`` (the page-side shim,
after Jitsi's postMessage transport bundled from npm) and, at every other path, the conference page the
shim frames (``meet.html`` with ``frame.js``). The two talk through ``@jitsi/js-utils``' transport, as
jitsi-meet's external API and its iframe do. It counts the script's loads and plays a far server
(``head_delay``), a slow one that allows CORS on its script (``cors_trickle``: seconds over which the
script's bytes are sent, with ``Access-Control-Allow-Origin: *``) or a build from before July 2026
(``stats`` False: no ``getConnectionStats``)."""

from __future__ import annotations

import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import throwaway_certificate

HERE = Path(__file__).parent
TRANSPORT = HERE / "vendor" / "jitsi-transport.js"  # built by `make test` (tests/e2e/jitsi_stand_in/package.json)
ADDRESS = "127.0.0.2"


class StandInServer:
    def __init__(self) -> None:
        if not TRANSPORT.exists():
            raise RuntimeError(f"{TRANSPORT} is missing: run `make test-setup` (it bundles @jitsi/js-utils)")
        self.reset()
        self._server = ThreadingHTTPServer((ADDRESS, 0), _handler(self))
        self._server.socket = _tls().wrap_socket(self._server.socket, server_side=True)
        self.host = f"{ADDRESS}:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        self.script_loads, self.head_delay, self.cors_trickle, self.stats = 0, 0.0, None, True
        self.down = False  # a server gone down mid-meeting: every connection is dropped unanswered

    def script(self) -> bytes:
        shim = (HERE / "external_api.js").read_text().replace("__HAS_STATS__", "true" if self.stats else "false")
        return TRANSPORT.read_bytes() + b"\n" + shim.encode()

    def close(self) -> None:
        self._server.shutdown()


def _handler(stand_in: StandInServer):
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self):
            if stand_in.down:
                return self._drop()
            time.sleep(stand_in.head_delay)
            self._answer(b"", "application/javascript")

        def do_GET(self):
            if stand_in.down:
                return self._drop()
            path = self.path.split("?")[0].split("#")[0]
            if path == "/external_api.js":
                if self.headers.get("Sec-Fetch-Dest") == "script":
                    stand_in.script_loads += 1
                self._answer(stand_in.script(), "application/javascript", trickle=stand_in.cors_trickle)
            elif path in ("/frame.js", "/vendor/jitsi-transport.js"):
                self._answer((HERE / path.lstrip("/")).read_bytes(), "application/javascript")
            else:  # a room: the conference page
                self._answer((HERE / "meet.html").read_bytes(), "text/html; charset=utf-8")

        def _drop(self) -> None:
            self.close_connection = True

        def _answer(self, body: bytes, content_type: str, trickle: float | None = None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if trickle is not None:
                self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            if self.command == "HEAD":
                return
            pieces = 10 if trickle else 1
            for i in range(pieces):
                self.wfile.write(body[i * len(body) // pieces : (i + 1) * len(body) // pieces])
                self.wfile.flush()
                time.sleep((trickle or 0) / pieces)

        def log_message(self, *args) -> None:
            pass

    return Handler


def _tls() -> ssl.SSLContext:
    """A certificate made for this run (the browser contexts ignore that nobody vouches for it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(
        *throwaway_certificate(Path(tempfile.mkdtemp(prefix="jitsi-stand-in-")), ADDRESS, ips=(ADDRESS,))
    )
    return context
