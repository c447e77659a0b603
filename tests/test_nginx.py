"""Through real nginx: Debian's nginx runs deploy/nginx/intranet.conf — the file the admin installs,
with only its ports, paths and certificate swapped — in front of the app in gunicorn, over HTTPS with
a throwaway certificate, everything on loopback. Clients connect from two loopback source addresses
(127.0.0.2 and 127.0.0.3), so nginx's X-Forwarded-For tells them apart as it would two offices; the
server's rate-limit counters outlive a test, so the other tests use other source addresses.

Needs Debian's nginx (`make test` installs it when run as root); skipped with a message otherwise."""

from __future__ import annotations

import getpass
import http.client
import io
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from support import PASSWORD, ROOT, free_port, serve, throwaway_certificate
from test_scheduling_documents import meeting  # noqa: F401  (a fixture: a planned meeting of DIST)

from intranet.config import DEFAULTS
from intranet.extensions import db

SITE = ROOT / "deploy" / "nginx" / "intranet.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed: `sudo apt-get install nginx` (make test does it as root)"
)
UPLOAD_LIMIT = DEFAULTS["MAX_CONTENT_LENGTH"]


def test_nginx_refuses_bodies_where_the_app_does():
    size = re.search(r"^\s*client_max_body_size (\d+)m;", SITE.read_text(), re.M)
    assert size and int(size.group(1)) * 1024 * 1024 == UPLOAD_LIMIT


# ---- the harness (test_scale_out.py uses it too) ------------------------------------------------------


def certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 and localhost."""
    return throwaway_certificate(directory, "localhost", ips=("127.0.0.1",), dns=("localhost",))


def site(app_ports: list[int], http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """The repo's site file with the test's ports, paths and certificate. Streams go straight to the app
    servers: the in-process form the site file documents (Pushpin has its own tests)."""
    text = SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in app_ports)
    swaps = [
        ("upstream intranet_app {\n    server 127.0.0.1:8000;\n", "upstream intranet_app {\n" + servers),
        ("upstream intranet_stream {\n    server 127.0.0.1:7999;\n", "upstream intranet_stream {\n" + servers),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("https://$host$request_uri", f"https://$host:{https_port}$request_uri"),
        ("/etc/intranet/tls/fullchain.pem", str(cert)),
        ("/etc/intranet/tls/privkey.pem", str(key)),
        ("/opt/intranet/", f"{ROOT}/"),
    ]
    for old, new in swaps:
        assert old in text, f"{SITE} no longer contains {old!r}: update this test's swaps"
        text = text.replace(old, new)
    return text


class Nginx:
    """Debian's nginx with a main config of the test's own that includes the site, on loopback ports."""

    def __init__(self, workdir: Path, app_ports: list[int]) -> None:
        self.workdir, self.http_port, self.https_port = workdir, free_port(), free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.cafile, key = certificate(workdir)
        (workdir / "site.conf").write_text(site(app_ports, self.http_port, self.https_port, self.cafile, key))
        temp = "\n".join(
            f"    {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (workdir / "nginx.conf").write_text(f"""
user {getpass.getuser()};
worker_processes 1;
daemon off;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {workdir / "access.log"};
{temp}
    include {workdir / "site.conf"};
}}
""")
        self.process = None

    def start(self) -> Nginx:
        check = subprocess.run(
            [NGINX, "-t", "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=1).request("HEAD", "/")
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError((self.workdir / "error.log").read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Client:
    """A browser on one loopback source address: keeps cookies, reads CSRF tokens, speaks HTTPS to nginx."""

    def __init__(self, proxy: Nginx, source: str = "127.0.0.6") -> None:
        self.proxy, self.source, self.cookies = proxy, source, SimpleCookie()
        self.tls = ssl.create_default_context(cafile=str(proxy.cafile))
        self.last_set_cookie: list[str] = []

    def connect(self, timeout: float = 30) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.proxy.https_port, context=self.tls, timeout=timeout, source_address=(self.source, 0)
        )

    def open(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 30
    ) -> http.client.HTTPResponse:
        """Send a request; the caller reads the response (a stream stays open)."""
        conn = self.connect(timeout)
        cookie = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        sent = {"Referer": f"https://127.0.0.1:{self.proxy.https_port}{path}"}  # checked by CSRF over https
        if cookie:
            sent["Cookie"] = cookie
        conn.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = conn.getresponse()
        self.last_set_cookie = response.headers.get_all("Set-Cookie") or []
        for raw in self.last_set_cookie:
            self.cookies.load(raw)
        return response

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        response = self.open(method, path, body, headers)
        return response, response.read()

    def token(self, path: str) -> str:
        _, page = self.request("GET", path)
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.decode()).group(1)

    def post_form(self, path: str, fields: dict, headers: dict | None = None):
        return self.request(
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def sign_in(self, username: str, password: str = PASSWORD):
        return self.post_form(
            "/login", {"username": username, "password": password, "csrf_token": self.token("/login")}
        )


class Stream:
    """An open live stream, read in a thread; ``wait_for`` waits for a text to arrive."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.response, self.text, self.ended = response, "", False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while chunk := self.response.read1(65536):
                self.text += chunk.decode(errors="replace")
        except (OSError, ValueError, AttributeError):  # closed by the test when it ends
            pass
        self.ended = True

    def wait_for(self, needle: str, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while needle not in self.text and time.monotonic() < deadline:
            time.sleep(0.02)
        return needle in self.text


def production_env(**extra: str) -> dict[str, str]:
    """The app as deployed behind nginx: production cookies, one trusted proxy."""
    return {
        "INTRANET_ENV": "production",
        "INTRANET_TRUSTED_PROXIES": "1",
        "GUNICORN_CMD_ARGS": "--keep-alive 75",
        **extra,
    }  # as intranet/gunicorn_conf.py: above nginx's 60 s


def ask(client: Client, sid: int, text: str) -> int:
    token = client.token(f"/questions/sessions/{sid}")
    response, _ = client.post_form(
        f"/questions/sessions/{sid}/ask", {"text": text, "csrf_token": token}, {"X-Outbox": "1"}
    )
    return response.status


# ---- through nginx ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(app, database_url, tmp_path_factory):
    """gunicorn (as deployed) behind nginx (the repo's site), for the whole module."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed: `sudo apt-get install nginx` (make test does it as root)")
    work = tmp_path_factory.mktemp("nginx")
    server, base = serve(
        app,
        database_url,
        work / "app",
        **production_env(INTRANET_LOGIN_IP_LIMIT="3 per 10 minutes", INTRANET_SCHEDULING_MAX_UPLOAD=str(UPLOAD_LIMIT)),
    )
    proxy = Nginx(work / "nginx", [int(base.rsplit(":", 1)[1])])
    try:
        yield proxy.start()
    finally:
        proxy.stop()
        server.terminate()
        server.wait(timeout=20)


@needs_nginx
def test_plain_http_is_sent_to_https(stack):
    conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
    conn.request("GET", "/login?next=%2F")
    response = conn.getresponse()
    assert response.status == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{stack.https_port}/login?next=%2F"


@needs_nginx
def test_sign_in_over_https_with_secure_cookies_and_hsts(stack, cell):
    browser = Client(stack)
    response, _ = browser.request("GET", "/login")
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    response, _ = browser.sign_in("bithu")
    assert response.status == 302
    session = [c for c in browser.last_set_cookie if c.startswith("session=")]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]
    response, page = browser.request("GET", "/account")
    assert response.status == 200 and b"bithu" in page


@needs_nginx
def test_the_sign_in_limit_is_kept_per_client_address(stack, cell):
    wrong = {"password": "not the password"}
    first, second = Client(stack, "127.0.0.2"), Client(stack, "127.0.0.3")
    for i in range(3):  # different usernames: the per-address limit, not the per-username lock-out
        assert first.sign_in(f"nobody{i}", **wrong)[0].status == 200
    # The fourth is refused, whatever address the client claims: nginx replaces X-Forwarded-For.
    token = first.token("/login")
    response, _ = first.post_form(
        "/login", {"username": "nobody3", "password": "x", "csrf_token": token}, {"X-Forwarded-For": "127.0.0.9"}
    )
    assert response.status == 429
    assert second.sign_in("nobody4", **wrong)[0].status == 200  # another office is not affected
    assert second.sign_in("member1")[0].status == 302


@needs_nginx
def test_a_live_event_passes_nginx_at_once(stack, app, cell):
    from test_questions import _meeting

    sid = _meeting(app)
    listener, asker = Client(stack, "127.0.0.4"), Client(stack, "127.0.0.5")
    assert listener.sign_in("member1")[0].status == asker.sign_in("bithu")[0].status == 302
    response = listener.open("GET", f"/questions/sessions/{sid}/stream", timeout=60)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    assert "Content-Encoding" not in response.headers
    stream = Stream(response)
    assert stream.wait_for("event: queue\n"), "the stream's first frame did not pass nginx"
    assert ask(asker, sid, "Qua nginx, không bị giữ lại") == 204
    # The stream stays open for LIVE_STREAM_MAX_SECONDS (300 s): the event arrives long before it ends.
    assert stream.wait_for("Qua nginx, không bị giữ lại"), stream.text[-500:]
    assert not stream.ended
    response.close()


def _multipart(size: int) -> tuple[bytes, str]:
    """A form whose whole body is ``size`` bytes: the kind field and a PNG image padded to fit."""
    boundary = "intranet-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nimage\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="anh.png"\r\n'
        f"Content-Type: image/png\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")  # a real image (uploads are checked), then padding
    png = buffer.getvalue()
    return head + png + bytes(size - len(head) - len(tail) - len(png)) + tail, boundary


@needs_nginx
def test_an_upload_at_the_limit_passes_and_one_byte_more_is_refused(stack, app, meeting):
    from intranet_scheduling.models import Document

    sid = meeting
    secretary = Client(stack)
    assert secretary.sign_in("bithu")[0].status == 302
    token = secretary.token(f"/scheduling/sessions/{sid}")
    for size, status in ((UPLOAD_LIMIT + 1, 413), (UPLOAD_LIMIT, 302)):
        body, boundary = _multipart(size)
        response, _ = secretary.request(
            "POST",
            f"/scheduling/sessions/{sid}/documents",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": token},
        )
        assert response.status == status
    with app.app_context():
        stored = db.session.scalars(select(Document)).all()
        assert [d.filename for d in stored] == ["anh.png"] and stored[0].size > UPLOAD_LIMIT - 1024


@needs_nginx
@pytest.mark.parametrize("path", ["/static/css/intranet.css", "/questions/static/questions/questions.js"])
def test_static_files_come_from_nginx_with_cache_headers_and_gzip(stack, path):
    local = ROOT / (
        "intranet" + path if path.startswith("/static/") else "plugins/questions" + path[len("/questions") :]
    )
    assert local.is_file(), f"{local} moved: update this test"
    response, body = Client(stack).request("GET", path, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=86400"  # nginx's; the app says no-cache
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@needs_nginx
def test_pages_are_compressed(stack):
    response, body = Client(stack).request("GET", "/login", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    import gzip

    assert b"csrf_token" in gzip.decompress(body)
