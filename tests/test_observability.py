"""Observability: request ids, JSON log lines, /metrics (protected; summed over gunicorn workers),
/healthz (liveness, no database query) and /readyz (dependencies)."""

from __future__ import annotations

import io
import json
import logging
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import current_app
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event
from support import Browser, app_config, free_port, serve
from test_questions import _meeting
from werkzeug.middleware.proxy_fix import ProxyFix

from intranet import create_app, live, logs
from intranet.extensions import db

GENERATED = re.compile(r"[0-9a-f]{32}")


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return _samples(response.text)


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode()


def _until(check, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.25)
    raise AssertionError(f"{check.__name__} never held")


# --- request ids and log lines ----------------------------------------------------------------------


def test_json_log_lines_carry_the_request_id(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path, LOG_FORMAT="json"))

    @app.get("/_test/log")
    def _log():
        current_app.logger.warning("something happened")
        logging.getLogger("intranet_questions").info("a plugin's line")
        return "ok"

    ours = [h for h in logging.getLogger().handlers if getattr(h, "_intranet", False)]
    assert len(ours) == 1  # configured again, not doubled
    out = io.StringIO()
    ours[0].setStream(out)
    try:
        response = app.test_client().get("/_test/log")
        logging.getLogger("intranet").warning("outside any request")
    finally:
        logs.configure()  # plain text again for the rest of the suite
    rid = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(rid)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]  # every line is one JSON object
    by_message = {line["message"]: line for line in lines}
    assert by_message["something happened"]["request_id"] == rid
    assert by_message["something happened"]["level"] == "WARNING"
    assert by_message["something happened"]["logger"] == "intranet" and by_message["something happened"]["time"]
    assert by_message["a plugin's line"]["request_id"] == rid
    assert by_message["outside any request"]["request_id"] == "-"


def test_text_log_lines_carry_the_request_id(app):
    out = io.StringIO()
    handler = logs.handler("text")
    handler.setStream(out)
    logging.getLogger("intranet").addHandler(handler)
    try:
        with app.test_request_context(headers={"X-Request-ID": "ignored-untrusted"}):
            logging.getLogger("intranet").warning("hello")
            rid = logs.request_id()
    finally:
        logging.getLogger("intranet").removeHandler(handler)
    assert GENERATED.fullmatch(rid) and f"WARNING [{rid}] intranet: hello" in out.getvalue()


def test_request_id_is_trusted_only_when_configured_and_well_formed(app, client, monkeypatch):
    # Not trusted by default: a client cannot choose the id its requests are logged under.
    first = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"}).headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second

    monkeypatch.setitem(app.config, "TRUST_REQUEST_ID", True)
    for good in ("0123456789abcdef0123456789abcdef", "3f2b9c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"):
        assert client.get("/healthz", headers={"X-Request-ID": good}).headers["X-Request-ID"] == good
    for bad in ("short", "x" * 200, "has spaces in it", "-leading-dash-id", '{"level":"ERROR"}'):
        taken = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert GENERATED.fullmatch(taken), bad
    # Error pages and the 304 shortcut carry it too (it is set after every response).
    assert GENERATED.fullmatch(client.get("/no/such/page").headers["X-Request-ID"])


def test_a_bad_log_format_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://", "LOG_FORMAT": "xml"})
    logs.configure()


# --- /metrics ---------------------------------------------------------------------------------------


def test_metrics_are_protected(app, client, monkeypatch):
    far = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics").status_code == 200  # loopback: allowed by default
    assert client.get("/metrics", environ_base=far).status_code == 404
    # Forwarded by a proxy the app was not told to trust: the address is the proxy's, so refused.
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404

    monkeypatch.setitem(app.config, "METRICS_ALLOW", "192.168.0.0/16, 10.0.0.0/8")
    assert client.get("/metrics", environ_base=far).status_code == 200
    assert client.get("/metrics").status_code == 404  # the list replaces the default

    monkeypatch.setitem(app.config, "METRICS_ALLOW", "")
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer anything"}).status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert (
        client.get(
            "/metrics", headers={"X-Forwarded-For": "1.2.3.4", "Authorization": "Bearer s3cret-token"}
        ).status_code
        == 200
    )
    for wrong in ("Bearer s3cret-tokeN", "s3cret-token", "Basic s3cret-token", "Bearer "):
        assert client.get("/metrics", environ_base=far, headers={"Authorization": wrong}).status_code == 404


def test_metrics_behind_a_trusted_proxy_judge_the_clients_address(app, client, monkeypatch):
    # The trusted-proxy setting applies Werkzeug's ProxyFix: the allow-list then sees the client.
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "127.0.0.1, 10.9.8.0/24")
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.9.8.7"}).status_code == 200
    # The proxy appends the address it saw; what the client wrote before it counts for nothing.
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.9.8.7, 10.1.1.1"}).status_code == 404
    # A client whose address is the proxy's own cannot be told from the proxy: refused.
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404
    # Fewer hops than the setting expects: the address stays the proxy's, so it proves nothing.
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app.app, x_for=2))
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.9.8.7"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.9.8.7, 10.1.1.1"}).status_code == 200  # 2 hops


def test_metrics_after_requests(app, client, data, login, qcell):
    sid = _meeting(app)
    before = _scrape(client)
    # A failed sign-in, then a good one.
    assert "Sai tên đăng nhập" in client.post("/login", data={"username": "member1", "password": "wrong"}).text
    login("member1")
    # A poll, and the same poll unchanged: 304.
    poll = f"/questions/sessions/{sid}/poll/queue"
    first = client.get(poll)
    assert client.get(poll, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # An event published, and a stream's subscription open.
    with app.app_context():
        live.publish(f"test-channel-{sid}")
        subscription = live.bus().subscribe("test-channel")
    try:
        after = _scrape(client)
    finally:
        subscription.close()
    after_close = _scrape(client)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("intranet_signin_failures_total", reason="wrong_credentials") == 1
    assert grew("intranet_live_polls_unchanged_total") == 1
    assert grew("intranet_live_events_published_total") >= 1
    assert _value(after, "intranet_live_streams_open") - _value(after_close, "intranet_live_streams_open") == 1
    # Latency by URL rule, never by raw path: the meeting's id is in no label.
    rule = "/questions/sessions/<int:session_id>/poll/<regions>"
    assert grew("intranet_http_request_duration_seconds_count", method="GET", endpoint=rule, status="200") == 1
    assert grew("intranet_http_request_duration_seconds_count", method="GET", endpoint=rule, status="304") == 1
    assert grew("intranet_http_request_duration_seconds_count", method="POST", endpoint="/login", status="200") == 1
    assert not any(value == poll for (_name, labels) in after for _key, value in labels)
    assert client.get("/no/such/page").status_code == 404
    assert (
        _value(
            _scrape(client),
            "intranet_http_request_duration_seconds_count",
            method="GET",
            endpoint="<unmatched>",
            status="404",
        )
        >= 1
    )


# --- /healthz and /readyz ---------------------------------------------------------------------------


def test_healthz_answers_without_a_database_query(app, client):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/healthz")
        assert response.status_code == 200 and response.get_json() == {"status": "ok"}
        assert statements == []
        assert client.get("/readyz").status_code == 200
        assert statements  # the same counter sees /readyz's queries: it does count
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_readyz_reports_every_dependency(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["database"]["status"] == "ok"
    assert body["migrations"]["status"] == "ok" and body["migrations"]["current"] == body["migrations"]["head"]
    assert body["live_bus"]["status"] == "ok" and body["rate_limits"]["status"] == "ok"


def test_readyz_is_503_without_the_database_or_its_migrations_while_healthz_lives(tmp_path):
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    unmigrated = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    for url, failing in ((dead, "database"), (unmigrated, "migrations")):
        app = create_app(app_config(url, tmp_path / failing))
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
        body = response.get_json()
        assert response.status_code == 503 and body["status"] == "down" and body[failing]["status"] == "down", body
    logs.configure()


def test_readyz_degrades_on_a_dead_redis(app, database_url, tmp_path):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    server, base = serve(app, database_url, tmp_path / "instance", REDIS_URL=dead_redis)
    try:
        code, _headers, body = _get(base + "/healthz")
        assert code == 200 and json.loads(body) == {"status": "ok"}
        code, _headers, body = _get(base + "/readyz")
        ready = json.loads(body)
        # Documented: Redis away degrades the intranet, it does not take the instance out (200).
        assert code == 200 and ready["status"] == "degraded", ready
        assert ready["database"]["status"] == "ok" and ready["migrations"]["status"] == "ok"
        assert ready["live_bus"] == {"backend": "redis", "status": "down", "subscribers": 0, "streams": 0}
        assert ready["rate_limits"] == {"backend": "redis", "status": "fallback"}
    finally:
        server.terminate()
        server.wait(timeout=20)


# --- under gunicorn: several workers, JSON lines --------------------------------------------------

GUNICORN_CONF = """
from intranet import logs, metrics

logconfig_dict = logs.gunicorn_logconfig_dict("json")
child_exit = metrics.child_exit
"""


def test_metrics_and_json_logs_under_gunicorn_workers(app, database_url, tmp_path, qcell):
    sid = _meeting(app)
    conf, multiproc = tmp_path / "gunicorn.conf.py", tmp_path / "prometheus"
    conf.write_text(GUNICORN_CONF)
    multiproc.mkdir()
    server, base = serve(
        app,
        database_url,
        tmp_path / "instance",
        workers=2,
        GUNICORN_CMD_ARGS=f"--config {conf}",
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        INTRANET_LOG_FORMAT="json",
    )
    try:

        def healthz_count() -> float:
            code, _headers, body = _get(base + "/metrics")
            assert code == 200
            return _value(
                _samples(body),
                "intranet_http_request_duration_seconds_count",
                method="GET",
                endpoint="/healthz",
                status="200",
            )

        start, ids, made = healthz_count(), set(), 0
        # Concurrent requests until both workers have answered (each keeps its own file, by pid).
        with ThreadPoolExecutor(16) as pool:
            while len(list(multiproc.glob("histogram_*.db"))) < 2 and made < 1600:
                ids |= {got[1]["X-Request-ID"] for got in pool.map(_get, [base + "/healthz"] * 32)}
                made += 32
        assert len(list(multiproc.glob("histogram_*.db"))) == 2 and len(ids) == made
        # Whichever worker answers the scrape, it counts every worker's requests.
        assert {healthz_count() - start for _ in range(6)} == {made}

        # A live stream held open in one worker shows in the gauge, whichever worker is scraped.
        member = Browser()
        member.sign_in(base, "member1")

        def streams_open() -> float:
            return _value(_samples(_get(base + "/metrics")[2]), "intranet_live_streams_open")

        stream = member.opener.open(f"{base}/questions/sessions/{sid}/stream", timeout=10)
        assert stream.read(6) == b"retry:"
        _until(lambda: streams_open() == 1)
        stream.close()
        _until(lambda: streams_open() == 0)
    finally:
        server.terminate()
        server.wait(timeout=20)

    lines = [line for line in (tmp_path / "instance" / "server.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # gunicorn's own lines and the app's: all JSON
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert ids <= {r["request_id"] for r in access}
    assert any(r["path"] == "/healthz" and r["status"] == "200" and r["method"] == "GET" for r in access)
    # No access line holds an address or a browser (anonymity of questions).
    assert not [r for r in access if "127.0.0.1" in json.dumps(r) or "Python-urllib" in json.dumps(r)]
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)


def test_metrics_under_one_gevent_worker(app, database_url, tmp_path, qcell):
    pytest.importorskip("gevent")  # the worker class a deployment may choose for live streams
    sid = _meeting(app)
    server, base = serve(app, database_url, tmp_path / "instance", worker_class="gevent")
    try:

        def scrape() -> dict:
            code, _headers, body = _get(base + "/metrics")
            assert code == 200
            return _samples(body)

        before = scrape()
        member = Browser()
        member.sign_in(base, "member1")
        poll = member.opener.open(f"{base}/questions/sessions/{sid}/poll/queue", timeout=10)
        unchanged = urllib.request.Request(
            f"{base}/questions/sessions/{sid}/poll/queue", headers={"If-None-Match": poll.headers["ETag"]}
        )
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            member.opener.open(unchanged, timeout=10)
        assert not_modified.value.code == 304
        stream = member.opener.open(f"{base}/questions/sessions/{sid}/stream", timeout=10)
        assert stream.read(6) == b"retry:"
        during = scrape()  # the one worker reads its stream count when scraped
        stream.close()
        assert _value(during, "intranet_live_streams_open") == 1
        assert (
            _value(during, "intranet_live_polls_unchanged_total")
            - _value(before, "intranet_live_polls_unchanged_total")
        ) == 1
        _until(lambda: _value(scrape(), "intranet_live_streams_open") == 0)
    finally:
        server.terminate()
        server.wait(timeout=20)
