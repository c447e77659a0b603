"""Question-queue load benchmark, run by hand (figures go to the README):

    .venv/bin/python bench/questions_bench.py [--participants 300] [--seconds 60] [--ramp]

Serves the app with gunicorn (2 workers, gthread) on PostgreSQL (a fresh database on
BENCH_PG, default postgresql://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS, default
redis://127.0.0.1:6379/14), seeds one cell with a meeting in progress and ``participants`` members, then:

1. SSE: every participant holds the member page's live stream open while a driver posts 10 questions
   and 100 votes a minute; for each question, the time from the driver's POST to its text arriving on
   every client's stream.
2. Polling: every participant polls the queue region every 2 s with If-None-Match (as the browser does
   when the stream cannot hold) under the same traffic; the latency of each poll, and the delivery time.
3. ``--ramp``: more and more polling participants until the poll's p99 passes 200 ms, for the queue
   poll and for a bare Flask endpoint served the same way (the ceiling of this machine and server).

The clients are one asyncio process on the same 2 cores as the server: figures are a floor.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from client import BIN, ROOT, SEED_CELL, Client, free_port, seeded_cell, stop

PASSWORD = "bench password 2026"

SEED = SEED_CELL + """
from intranet_questions.models import QueueSettings
meeting = scheduling.create_session(office, kind=SessionKind.THEMATIC, title="Benchmark",
                                    starts_at=datetime.now(timezone.utc) + timedelta(minutes=5), duration_minutes=120,
                                    place="", mode=SessionMode.ONLINE)
scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
db.session.add(QueueSettings(session_id=meeting.id, office_id=office.id, open_limit=20))
db.session.commit()
print(meeting.id)
"""

BARE_APP = """
from flask import Flask
app = Flask(__name__)

@app.get("/poll")
def poll():
    return "<ol></ol>"
"""


def q(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --- the traffic driver (blocking, in a thread) ----------------------------------------------------


class Driver(threading.Thread):
    """10 questions and 100 votes a minute from a pool of members; records when each question left."""

    def __init__(self, port: int, session_id: int, askers: list[Client], stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.sid, self.askers, self.stop = port, session_id, askers, stop
        self.sent: dict[str, float] = {}
        self.errors = 0
        self.error_kinds: set[int] = set()
        self.votes = 0

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
                self.sent[marker] = time.monotonic()
                status, _, _ = asker.request("POST", f"/questions/sessions/{self.sid}/ask",
                                          urlencode({"text": f"Câu hỏi {marker} về chuyên đề?",
                                                     "csrf_token": asker.token}), {"X-Outbox": "1"})
                self.errors += status != 204
                status, _, page = asker.request("GET", f"/questions/sessions/{self.sid}/poll/queue")
                ids = [int(i) for i in re.findall(r'id="q(\d+)"', page)] or ids
                n += 1
                next_question += 6.0
            if ids:
                voter = rng.choice(self.askers)
                status, _, _ = voter.request("POST", f"/questions/questions/{rng.choice(ids)}/vote",
                                          urlencode({"on": "1", "csrf_token": voter.token}), {"HX-Request": "true"})
                # 422: a voter drew their own question — a refusal the UI never offers, not a failure
                if status not in (204, 422):
                    self.errors += 1
                    self.error_kinds.add(status)
                self.votes += status == 204
            self.stop.wait(0.6)


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


async def sse_participant(port, path, cookie, sent, arrivals, stop, errors):
    seen: set[str] = set()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\n"
                         f"Accept: text/event-stream\r\n\r\n".encode())
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


async def run_clients(kind, port, path, cookies, count, seconds, sent, warmup=0.0, on_warm=None):
    """``count`` participants for ``seconds``; with ``warmup``, what happened while they were all
    opening the page at once is left out of the latencies (``on_warm`` is called when counting starts)."""
    stop = asyncio.Event()
    arrivals: dict[str, list[float]] = {}
    latencies: list[float] = []
    errors: list[str] = []
    if kind == "sse":
        tasks = [asyncio.create_task(sse_participant(port, path, cookies[i % len(cookies)], sent, arrivals, stop, errors))
                 for i in range(count)]
    else:
        tasks = [asyncio.create_task(poll_participant(port, path, cookies[i % len(cookies)], sent, arrivals,
                                                      latencies, stop, errors)) for i in range(count)]
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
    the client's scheduling delays."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self, needle: str) -> list[float]:
        with self.path.open() as fh:
            fh.seek(self.offset)
            rows = [line.split() for line in fh if needle in line]
        return [int(r[2]) / 1000 for r in rows if len(r) == 3 and r[1] in ("200", "304")]


def server_figures(log: AccessLog, needle: str) -> dict:
    times = log.since_mark(needle.split("?")[0])
    return {"server_n": len(times), "server_p50_ms": round(q(times, 50), 1) if times else None,
            "server_p99_ms": round(q(times, 99), 1) if times else None}


def traffic_phase(kind, port, sid, cookies, askers, participants, seconds, log):
    log.mark()
    stop = threading.Event()
    driver = Driver(port, sid, askers, stop)
    path = (f"/questions/sessions/{sid}/stream?sort=votes" if kind == "sse"
            else f"/questions/sessions/{sid}/poll/queue?sort=votes")
    sent = driver.sent

    async def main():
        clients = asyncio.create_task(run_clients(kind, port, path, cookies, participants, seconds, sent))
        await asyncio.sleep(5 if kind == "sse" else 2)  # streams open (and first frames sent) before traffic
        driver.start()
        result = await clients
        stop.set()
        return result

    arrivals, latencies, errors = asyncio.run(main())
    driver.join(timeout=10)
    settled = [m for m, t0 in sent.items() if time.monotonic() - t0 > 3]  # the last ones may still be in flight
    delays = [d for m in settled for d in arrivals.get(m, [])]
    missing = sum(participants - len(arrivals.get(m, [])) for m in settled)
    return {"questions": len(sent), "votes": driver.votes, "driver_errors": driver.errors,
            "driver_error_kinds": sorted(driver.error_kinds),
            "client_errors": len(errors), "error_kinds": sorted(set(errors))[:5], "missing": missing,
            "delivery_p50": q(delays, 50), "delivery_p95": q(delays, 95), "delivery_max": max(delays or [0]),
            "poll_n": len(latencies), "poll_p50": q(latencies, 50) * 1000 if latencies else None,
            "poll_p99": q(latencies, 99) * 1000 if latencies else None,
            **(server_figures(log, "/poll/queue") if kind == "poll" else {})}


def ramp(port, path, cookies, start, step, limit, log, most=3000):
    """Polling participants (every 2 s, unchanged: 304 after their first poll) until the p99 passes
    ``limit`` ms. Each step opens all its pages in the same 2 s; the 8 s after that are left out, so
    the figures are the room in session, not the storm of its first seconds."""
    held, count, rows = 0, start, []
    while True:
        _, latencies, errors = asyncio.run(run_clients("poll", port, path, cookies, count, 20, {}, warmup=8,
                                                       on_warm=log.mark))
        p99 = q(latencies, 99) * 1000
        rows.append((count, len(latencies), q(latencies, 50) * 1000, p99, len(errors)))
        print(f"    {count:5d} polling participants: {len(latencies)} polls, client p50 {rows[-1][2]:.1f} ms, "
              f"p99 {p99:.1f} ms, {len(errors)} errors; {server_figures(log, path)}", flush=True)
        if p99 >= limit or errors:
            return held, rows
        held = count
        if count >= most:  # the client process is near its own limit here: report "at least"
            return held, rows
        count += step


def serve(app_spec: str, env: dict, threads: int, log: AccessLog) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--access-logfile", str(log.path), "--access-logformat", "%(U)s %(s)s %(D)s",
                               "--worker-class", "gthread", "--threads", str(threads), "--worker-connections", "4000", "--keep-alive", "75",
                               "--backlog", "4096", "--graceful-timeout", "2", app_spec],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app_spec} did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--ramp", action="store_true")
    args = parser.parse_args()

    servers = []
    with seeded_cell(SEED, args.participants, PASSWORD) as (env, instance, sid):
        try:
            log = AccessLog(Path(instance) / "access.log")
            server, port = serve("wsgi:app", env, threads=args.participants // 2 + 100, log=log)
            servers.append(server)
            print(f"gunicorn 2 workers x {args.participants // 2 + 100} threads, PostgreSQL + Redis, "
                  f"{args.participants} participants, {args.seconds} s per phase", flush=True)
            cookies = [Client(port).login(f"dv{i:04d}", PASSWORD).cookie() for i in range(args.participants)]
            askers = [Client(port).login(f"dv{i:04d}", PASSWORD) for i in range(min(20, args.participants))]
            for kind in ("sse", "poll"):
                result = traffic_phase(kind, port, sid, cookies, askers, args.participants, args.seconds, log)
                print(f"  {kind}: {result}", flush=True)
            if args.ramp:
                print("  ramp, queue poll (unchanged, 304):", flush=True)
                held, _ = ramp(port, f"/questions/sessions/{sid}/poll/queue?sort=votes", cookies, 300, 300, 200, log)
                print(f"  queue poll holds {held} participants at p99 < 200 ms", flush=True)
                Path(instance, "bare.py").write_text(BARE_APP)
                bare_log = AccessLog(Path(instance) / "bare-access.log")
                bare, bare_port = serve("bare:app", {**env, "PYTHONPATH": instance}, threads=100, log=bare_log)
                servers.append(bare)
                print("  ramp, bare Flask endpoint:", flush=True)
                held, _ = ramp(bare_port, "/poll", [""], 300, 300, 200, bare_log)
                print(f"  bare endpoint holds {held} participants at p99 < 200 ms", flush=True)
        finally:
            stop(servers)


if __name__ == "__main__":
    main()
