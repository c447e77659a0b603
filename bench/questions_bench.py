"""Question-queue load benchmark, run by hand (figures go to the README):

    .venv/bin/python bench/questions_bench.py [--participants 300] [--seconds 60] [--ramp] [--embedded]

Serves the app with gunicorn (2 workers, gthread) on PostgreSQL (a fresh database on
BENCH_PG, default postgresql://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS, default
redis://127.0.0.1:6379/14) — or, with ``--embedded``, as `make run` does (intranet/gunicorn_conf.py: one
gevent worker, SQLite, the in-process bus) — seeds one cell with a meeting in progress and
``participants`` members, then:

1. SSE: every participant holds the member page's live stream open while a driver posts 10 questions
   and 100 votes a minute; for each question, the time from the driver's POST to its text arriving on
   every client's stream.
2. Polling: every participant polls the queue region every 2 s with If-None-Match (as the browser does
   when the stream cannot hold) under the same traffic; the latency of each poll, and the delivery time.
3. ``--ramp``: more and more polling participants until the poll's p99 passes 200 ms, for the queue
   poll and for a bare Flask endpoint served the same way (the ceiling of this machine and server).

In both traffic phases the driver's asks and votes are timed, and a newcomer opens the member page
every 0.5 s (page load); a bare Flask endpoint served the same way is requested at the same pace in
the same run, the ceiling of the machine under that load. The server's error output is kept in the
instance folder, and the cause of every 5xx is reported from it.

The clients are one asyncio process on the same 2 cores as the server: figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import random
import re
import statistics
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from client import BIN, ROOT, Client, answering, free_port, seeded_cell, stop

PASSWORD = "bench password 2026"


def q(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --- the traffic driver (blocking, in a thread) ----------------------------------------------------


class Driver(threading.Thread):
    """10 questions and 100 votes a minute from a pool of members; records when each question left,
    and how long each ask and vote took."""

    def __init__(self, port: int, session_id: int, askers: list[Client], stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.sid, self.askers, self.stop = port, session_id, askers, stop
        self.sent: dict[str, float] = {}
        self.errors = 0
        self.error_kinds: set[int] = set()
        self.votes = 0
        self.ask_times: list[float] = []
        self.vote_times: list[float] = []

    def run(self) -> None:
        rng = random.Random(1)
        next_question = time.monotonic()
        n = 0
        ids: list[int] = []
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_question:
                marker = f"BENCHQ{n:05d}X"
                asker = self.askers[n % len(self.askers)]
                self.sent[marker] = started = time.monotonic()
                status, _, _ = asker.request(
                    "POST",
                    f"/questions/sessions/{self.sid}/ask",
                    urlencode({"text": f"Câu hỏi {marker} về chuyên đề?", "csrf_token": asker.token}),
                    {"X-Outbox": "1"},
                )
                self.ask_times.append(time.monotonic() - started)
                if status != 204:
                    self.errors += 1
                    self.error_kinds.add(status)
                status, _, page = asker.request("GET", f"/questions/sessions/{self.sid}/poll/queue")
                ids = [int(i) for i in re.findall(r'id="q(\d+)"', page)] or ids
                n += 1
                next_question += 6.0
            if ids:
                voter = rng.choice(self.askers)
                started = time.monotonic()
                status, _, _ = voter.request(
                    "POST",
                    f"/questions/questions/{rng.choice(ids)}/vote",
                    urlencode({"on": "1", "csrf_token": voter.token}),
                    {"HX-Request": "true"},
                )
                self.vote_times.append(time.monotonic() - started)
                # 422: a voter drew their own question — a refusal the UI never offers, not a failure
                if status not in (204, 422):
                    self.errors += 1
                    self.error_kinds.add(status)
                self.votes += status == 204
            self.stop.wait(0.6)


class Newcomers(threading.Thread):
    """Every 0.5 s a member opens the meeting's page (a fresh connection, as a new tab does), and the
    bare endpoint is asked as often: the page-load latency and its ceiling under the same load."""

    def __init__(self, port: int, path: str, cookies: list[str], bare_port: int | None, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.path, self.cookies, self.bare_port, self.stop = port, path, cookies, bare_port, stop
        self.times: list[float] = []
        self.bare_times: list[float] = []
        self.errors: list[str] = []

    def _get(self, port: int, path: str, cookie: str) -> float:
        import http.client

        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                self.errors.append(f"page {response.status}")
        except OSError as exc:
            self.errors.append(f"page {type(exc).__name__}")
        finally:
            conn.close()
        return time.monotonic() - started

    def run(self) -> None:
        n = 0
        while not self.stop.wait(0.5):
            self.times.append(self._get(self.port, self.path, self.cookies[n % len(self.cookies)]))
            if self.bare_port:
                self.bare_times.append(self._get(self.bare_port, "/poll", ""))
            n += 1


# --- the participants (asyncio, raw HTTP/1.1) ------------------------------------------------------


async def _read_head(reader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            return status, headers
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()


async def _page_stream_url(port, page, cookie) -> str:
    """Open the member page as a browser does and return its stream's URL (which names the versions the
    page was rendered at, so the stream sends only what changed since)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {page} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode())
    body = (await reader.read()).decode(errors="ignore")
    writer.close()
    return html.unescape(re.search(r'data-live-stream="([^"]+)"', body).group(1))


async def sse_participant(port, path, cookie, sent, arrivals, stop, errors, ready, page=None, arrive=0.0):
    """A member's page: with ``page``, arriving within ``arrive`` seconds, loading the page, then
    holding its stream; ``ready`` counts the streams open and framed."""
    seen: set[str] = set()
    if page:
        await asyncio.sleep(random.random() * arrive)
        try:
            path = await _page_stream_url(port, page, cookie)
        except (OSError, AttributeError) as exc:
            errors.append(f"page {type(exc).__name__}")
            return
    counted = False
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            status, _ = await _read_head(reader)
            if status != 200:
                errors.append(f"sse {status}")
                return
            tail = ""
            while not stop.is_set():
                data = await reader.read(65536)
                if not data:
                    break
                now = time.monotonic()
                text = tail + data.decode(errors="ignore")
                if not counted and "event: ready" in text:
                    counted = True
                    ready.append(now)
                for marker, t0 in list(sent.items()):
                    if marker not in seen and marker in text:
                        seen.add(marker)
                        arrivals.setdefault(marker, []).append(now - t0)
                tail = text[-64:]
            writer.close()
        except (OSError, ConnectionError, ValueError, IndexError) as exc:
            if not stop.is_set():
                errors.append(f"sse {type(exc).__name__}")
                await asyncio.sleep(1)


async def poll_participant(port, path, cookie, sent, arrivals, latencies, stop, errors, every=2.0):
    """Polls every ``every`` s like live.js; its first poll (connection set-up, a full render) is the
    warm-up of a page load and is not counted in ``latencies``."""
    seen: set[str] = set()
    await asyncio.sleep(random.random() * every)  # browsers do not poll in step
    etag = None
    first = True
    reader = writer = None
    while not stop.is_set():
        started = time.monotonic()
        try:
            conditional = f"If-None-Match: {etag}\r\n" if etag else ""
            request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\n{conditional}\r\n".encode()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, headers = await _read_head(reader)
            except (OSError, ConnectionError):  # the server closed the idle keep-alive: reconnect once
                started = time.monotonic()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, headers = await _read_head(reader)
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            done = time.monotonic()
            if not first:
                latencies.append(done - started)
            first = False
            if status == 200:
                etag = headers.get("etag")
                text = body.decode(errors="ignore")
                for marker, t0 in list(sent.items()):
                    if marker not in seen and marker in text:
                        seen.add(marker)
                        arrivals.setdefault(marker, []).append(done - t0)
            elif status != 304:
                errors.append(f"poll {status}")
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except (OSError, ConnectionError, ValueError, asyncio.IncompleteReadError) as exc:
            errors.append(f"poll {type(exc).__name__}")
            writer = None
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


async def run_clients(kind, port, path, cookies, count, seconds, sent, warmup=0.0, on_warm=None, page=None):
    """``count`` participants for ``seconds``; with ``warmup``, what happened while they were all
    opening the page at once is left out of the latencies (``on_warm`` is called when counting starts).
    Streams (``kind`` "sse") open their ``page`` first, arriving over 10 s as a meeting starts; the
    ``seconds`` are counted once every stream is open (at most 3 minutes of waiting)."""
    stop = asyncio.Event()
    arrivals: dict[str, list[float]] = {}
    latencies: list[float] = []
    errors: list[str] = []
    if kind == "sse":
        ready: list[float] = []
        began = time.monotonic()
        tasks = [
            asyncio.create_task(
                sse_participant(
                    port, path, cookies[i % len(cookies)], sent, arrivals, stop, errors, ready, page, arrive=10.0
                )
            )
            for i in range(count)
        ]
        while len(ready) + len(errors) < count and time.monotonic() - began < 180:
            await asyncio.sleep(0.2)
        print(
            f"    {len(ready)} streams open and framed {time.monotonic() - began:.1f} s after the first "
            f"arrival ({len(errors)} errors)",
            flush=True,
        )
        if on_warm:
            on_warm()
    else:
        tasks = [
            asyncio.create_task(
                poll_participant(port, path, cookies[i % len(cookies)], sent, arrivals, latencies, stop, errors)
            )
            for i in range(count)
        ]
    if warmup:
        await asyncio.sleep(warmup)
        latencies.clear()
        if on_warm:
            on_warm()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return arrivals, latencies, errors


class AccessLog:
    """Gunicorn's own timing of each request (``%(D)s``, microseconds): the server latency, free of
    the client's scheduling delays. Served as `make run`, gunicorn_conf.py sends the access lines through
    the app's log handler to the error output, prefixed: a line's last three fields are the ones asked for."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path  # where the access lines end up (see ``serve``)
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.lines.stat().st_size if self.lines.exists() else 0

    def rows(self, since_mark: bool = True) -> list[tuple[str, str, float]]:
        """(path, status, milliseconds) of each answered request: ``%(D)s`` (microseconds) as asked, or
        the app's access format, which ends ``<path> <status> <n>ms``."""
        with self.lines.open(errors="replace") as fh:
            fh.seek(self.offset if since_mark else 0)
            rows = [line.split()[-3:] for line in fh]
        return [
            (path, status, int(took) / 1000 if took.isdigit() else float(took[:-2]))
            for path, status, took in (r for r in rows if len(r) == 3)
            if path.startswith("/") and status.isdigit() and (took.isdigit() or took[:-2].isdigit())
        ]

    def since_mark(self, needle: str, exact: bool = False) -> list[float]:
        """Server times (ms) of the answered requests whose path contains ``needle`` (or is it)."""
        return [
            ms
            for path, status, ms in self.rows()
            if needle in path and status in ("200", "204", "304", "422") and (not exact or path == needle)
        ]


def server_figures(log: AccessLog, needle: str, name: str = "server", exact: bool = False) -> dict:
    times = log.since_mark(needle.split("?")[0], exact)
    return {
        f"{name}_n": len(times),
        f"{name}_p50_ms": round(q(times, 50), 1) if times else None,
        f"{name}_p99_ms": round(q(times, 99), 1) if times else None,
    }


def traffic_phase(kind, port, sid, cookies, askers, participants, seconds, log, bare_port=None):
    log.mark()
    stop = threading.Event()
    driver = Driver(port, sid, askers, stop)
    newcomers = Newcomers(port, f"/questions/sessions/{sid}", cookies, bare_port, stop)
    path = (
        f"/questions/sessions/{sid}/stream?sort=votes"
        if kind == "sse"
        else f"/questions/sessions/{sid}/poll/queue,speakers,mine?sort=votes"
    )
    sent = driver.sent

    def traffic() -> None:
        log.mark()
        driver.start()
        newcomers.start()

    async def main():
        if kind == "sse":  # the traffic starts once every stream is open
            result = await run_clients(
                kind,
                port,
                path,
                cookies,
                participants,
                seconds,
                sent,
                on_warm=traffic,
                page=f"/questions/sessions/{sid}",
            )
        else:
            clients = asyncio.create_task(run_clients(kind, port, path, cookies, participants, seconds, sent))
            await asyncio.sleep(2)
            traffic()
            result = await clients
        stop.set()
        return result

    arrivals, latencies, errors = asyncio.run(main())
    driver.join(timeout=10)
    newcomers.join(timeout=40)
    settled = [m for m, t0 in sent.items() if time.monotonic() - t0 > 3]  # the last ones may still be in flight
    delays = [d for m in settled for d in arrivals.get(m, [])]
    missing = sum(participants - len(arrivals.get(m, [])) for m in settled)
    return {
        "questions": len(sent),
        "votes": driver.votes,
        "driver_errors": driver.errors,
        "driver_error_kinds": sorted(driver.error_kinds),
        "client_errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "missing": missing,
        "delivery_p50": q(delays, 50),
        "delivery_p95": q(delays, 95),
        "delivery_max": max(delays or [0]),
        "poll_n": len(latencies),
        "poll_p50": q(latencies, 50) * 1000 if latencies else None,
        "poll_p99": q(latencies, 99) * 1000 if latencies else None,
        **_ms("ask", driver.ask_times),
        **_ms("vote", driver.vote_times),
        **_ms("page", newcomers.times),
        **_ms("bare", newcomers.bare_times),
        "page_errors": sorted(set(newcomers.errors))[:5],
        **(server_figures(log, "/poll/queue") if kind == "poll" else {}),
        **server_figures(log, "/ask", "server_ask"),
        **server_figures(log, "/vote", "server_vote"),
        **server_figures(log, f"/questions/sessions/{sid}", "server_page", exact=True),
    }


def _ms(name: str, times: list[float]) -> dict:
    """Count, p50 and p99 in milliseconds."""
    if not times:
        return {}
    return {
        f"{name}_n": len(times),
        f"{name}_p50_ms": round(q(times, 50) * 1000, 1),
        f"{name}_p99_ms": round(q(times, 99) * 1000, 1),
    }


def ramp(port, path, cookies, start, step, limit, log, most=3000):
    """Polling participants (every 2 s, unchanged: 304 after their first poll) until the p99 passes
    ``limit`` ms. Each step opens all its pages in the same 2 s; the 8 s after that are left out, so
    the figures are the room in session, not the storm of its first seconds."""
    held, count, rows = 0, start, []
    while True:
        _, latencies, errors = asyncio.run(
            run_clients("poll", port, path, cookies, count, 20, {}, warmup=8, on_warm=log.mark)
        )
        p99 = q(latencies, 99) * 1000
        rows.append((count, len(latencies), q(latencies, 50) * 1000, p99, len(errors)))
        print(
            f"    {count:5d} polling participants: {len(latencies)} polls, client p50 {rows[-1][2]:.1f} ms, "
            f"p99 {p99:.1f} ms, {len(errors)} errors; {server_figures(log, path)}",
            flush=True,
        )
        if p99 >= limit or errors:
            return held, rows
        held = count
        if count >= most:  # the client process is near its own limit here: report "at least"
            return held, rows
        count += step


def serve(app_spec: str, env: dict, threads: int, log: AccessLog, embedded: bool) -> tuple[subprocess.Popen, int]:
    """gunicorn on a free port: as `make run` (``embedded``: intranet/gunicorn_conf.py), or 2 gthread
    workers of ``threads``. Its error output goes to ``<access log>.err`` (see ``server_errors``)."""
    port = free_port()
    served = (
        ["-c", "intranet/gunicorn_conf.py"]
        if embedded
        else [
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--worker-connections",
            "4000",
            "--keep-alive",
            "75",
            "--backlog",
            "4096",
            "--graceful-timeout",
            "2",
        ]
    )
    errors = open(f"{log.path}.err", "w")
    if embedded:
        log.lines = Path(f"{log.path}.err")
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            *served,
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log.path),
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
        stdout=errors,
        stderr=errors,
    )
    if answering(server, port):
        return server, port
    raise RuntimeError(f"{app_spec} did not start: {Path(f'{log.path}.err').read_text()}")


def server_errors(log: AccessLog) -> str:
    """The 5xx answers in the access log, by path, and the exceptions the server logged."""
    from collections import Counter

    answers = Counter(" ".join(r[:2]) for r in log.rows(since_mark=False) if r[1].startswith("5"))
    text = Path(f"{log.path}.err").read_text(errors="replace")
    causes = Counter(
        block.strip().splitlines()[-1]
        for block in re.split(r"^(?=Traceback)", text, flags=re.M)
        if block.startswith("Traceback")
    )
    causes.update(
        line.strip()
        for line in text.splitlines()  # gunicorn's own format, or the app's (make run)
        if re.search(r"\[(ERROR|CRITICAL)\]| (ERROR|CRITICAL) \[", line)
    )
    return f"5xx answers: {dict(answers) or 'none'}; server errors: {dict(causes.most_common(8)) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--ramp", action="store_true")
    parser.add_argument("--embedded", action="store_true", help="serve as `make run`: gevent, SQLite, in-process bus")
    args = parser.parse_args()

    servers = []
    with seeded_cell("live_one", args.participants, PASSWORD, embedded=args.embedded) as (env, instance, sid):
        try:
            log = AccessLog(Path(instance) / "access.log")
            threads = args.participants // 2 + 100
            server, port = serve("bench.cheap_app:app", {**env, "PYTHONPATH": str(ROOT)}, threads, log, args.embedded)
            servers.append(server)
            bare_log = AccessLog(Path(instance) / "bare-access.log")
            bare, bare_port = serve(
                "bench.bare_app:app", {**env, "PYTHONPATH": str(ROOT)}, 100, bare_log, args.embedded
            )
            servers.append(bare)
            print(
                (
                    "gunicorn -c intranet/gunicorn_conf.py (1 gevent worker), SQLite, in-process bus"
                    if args.embedded
                    else f"gunicorn 2 workers x {threads} threads, PostgreSQL + Redis"
                )
                + f", {args.participants} participants, {args.seconds} s per phase",
                flush=True,
            )
            cookies = [Client(port).login(f"dv{i:04d}", PASSWORD).cookie() for i in range(args.participants)]
            askers = [Client(port).login(f"dv{i:04d}", PASSWORD) for i in range(min(20, args.participants))]
            for kind in ("sse", "poll"):
                result = traffic_phase(
                    kind, port, sid, cookies, askers, args.participants, args.seconds, log, bare_port
                )
                print(f"  {kind}: {result}", flush=True)
            if args.ramp:
                print("  ramp, page poll (unchanged, 304):", flush=True)
                held, _ = ramp(
                    port, f"/questions/sessions/{sid}/poll/queue,speakers,mine?sort=votes", cookies, 300, 300, 200, log
                )
                print(f"  page poll holds {held} participants at p99 < 200 ms", flush=True)
                print("  ramp, bare Flask endpoint:", flush=True)
                held, _ = ramp(bare_port, "/poll", [""], 300, 300, 200, bare_log)
                print(f"  bare endpoint holds {held} participants at p99 < 200 ms", flush=True)
        finally:
            stop(servers)
            print(f"  app: {server_errors(log)}", flush=True)


if __name__ == "__main__":
    main()
