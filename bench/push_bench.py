"""Push engine capacity benchmark, run by hand (figures go to the README, "Push engine (production)"):

    .venv/bin/python bench/push_bench.py [--participants 3000] [--meetings 20] [--users 600] [--seconds 60]

The production form on this one machine: Debian's Pushpin (configured from deploy/pushpin/pushpin.conf,
on throwaway loopback ports) in front of gunicorn (2 workers, gthread) on PostgreSQL (a fresh database
on BENCH_PG) and Redis (BENCH_REDIS). ``participants`` live pages, spread evenly over ``meetings``
meetings in progress, each holding the member queue's stream through Pushpin (``users`` signed-in
members, each with several pages open); while they listen, every meeting gets a question every 6 s and a
vote every 0.6 s (the question bench's rate, in all meetings at once), and member pages are loaded
(directly from gunicorn, as nginx sends them) five times a second. Measured: for each question, the
time from its POST until it is on every page of its meeting; the page loads' latency; every error;
Pushpin's and gunicorn's memory before and after the streams opened.

The ceiling, in the same run: the same Pushpin and gunicorn with a bare Flask app that grants the hold
with no database or sign-in, a publisher posting to Pushpin directly, and a bare page.

The clients are one asyncio process on the same 2 cores as the servers: figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from client import BIN, ROOT, Client, answering, free_port, seeded_cell, stop
from questions_bench import _read_head, q

sys.path.insert(0, str(ROOT / "tests"))
from pushpin_harness import pushpin  # noqa: E402

PASSWORD = "bench password 2026"
KEY = "bench-pushpin-key-of-thirty-two-bytes"
MARKER = re.compile(r"BQ(\d+)M(\d+)X")


def rss_kib(root_pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        except (OSError, AttributeError):
            continue
    return total


def gunicorn(app_spec: str, env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "16",
            "--keep-alive",
            "75",
            "--backlog",
            "4096",
            "--graceful-timeout",
            "2",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(env["BENCH_LOG"], "ab"),
    )
    if answering(server, port):
        return server
    raise RuntimeError(f"{app_spec} did not start")


class Run:
    """What one phase records: when each marker left, when it reached each page, errors."""

    def __init__(self, meetings: int, per_meeting: int) -> None:
        self.meetings, self.per_meeting = meetings, per_meeting
        self.sent: dict[str, float] = {}
        self.arrivals: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.question_ids: list[set[int]] = [set() for _ in range(meetings)]
        self.opened = 0
        self.page_times: list[float] = []

    def summary(self) -> dict:
        settled = [m for m, t0 in self.sent.items() if time.monotonic() - t0 > 3]
        to_all = [max(self.arrivals[m]) for m in settled if len(self.arrivals.get(m, ())) >= self.per_meeting]
        missing = sum(self.per_meeting - len(self.arrivals.get(m, ())) for m in settled)
        each = [d for m in settled for d in self.arrivals.get(m, ())]
        return {
            "questions": len(settled),
            "to_every_client_p50_s": round(q(to_all, 50), 3),
            "to_every_client_p95_s": round(q(to_all, 95), 3),
            "to_every_client_max_s": round(max(to_all or [0]), 3),
            "each_delivery_p95_s": round(q(each, 95), 3),
            "missing_deliveries": missing,
            "page_loads": len(self.page_times),
            "page_p50_ms": round(q(self.page_times, 50) * 1000, 1),
            "page_p99_ms": round(q(self.page_times, 99) * 1000, 1),
            "errors": len(self.errors),
            "error_kinds": sorted(set(self.errors))[:5],
        }


async def listener(run: Run, port: int, path: str, cookie: str, meeting: int, stop: asyncio.Event) -> None:
    """One open page: holds the stream through Pushpin and notes when each question's text arrives."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status, _ = await _read_head(reader)
        if status != 200:
            run.errors.append(f"stream {status}")
            return
        run.opened += 1
        seen: set[str] = set()
        tail = ""
        while not stop.is_set():
            data = await reader.read(1 << 16)
            if not data:
                if not stop.is_set():
                    run.errors.append("stream closed")
                break
            now = time.monotonic()
            text = tail + data.decode(errors="ignore")
            for found in MARKER.finditer(text):
                marker = found.group(0)
                if marker not in seen and marker in run.sent:
                    seen.add(marker)
                    run.arrivals.setdefault(marker, []).append(now - run.sent[marker])
            run.question_ids[meeting].update(int(i) for i in re.findall(r'id="q(\d+)"', text))
            tail = text[-64:]
        writer.close()
    except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        if not stop.is_set():
            run.errors.append(f"stream {type(exc).__name__}")


async def open_listeners(
    run: Run, port: int, paths: list[str], cookies: list[str], stop: asyncio.Event, rate: float
) -> list[asyncio.Task]:
    """Pages open at ``rate`` a second (people arriving), not all in the same instant."""
    tasks = []
    for i, path in enumerate(paths):
        tasks.append(asyncio.create_task(listener(run, port, path, cookies[i % len(cookies)], i % run.meetings, stop)))
        await asyncio.sleep(1 / rate)
    deadline = time.monotonic() + 120
    while run.opened + len(run.errors) < len(paths) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    return tasks


def page_loader(run: Run, port: int, paths: list[str], cookies: list[str], halt: threading.Event) -> None:
    """Five page loads a second, each a new visitor's connection (as nginx would forward it)."""
    rng = random.Random(2)
    while not halt.is_set():
        started = time.monotonic()
        client = Client(port)
        client.cookies = dict(c.split("=", 1) for c in rng.choice(cookies).split("; ") if c) if cookies[0] else {}
        try:
            status, _, _ = client.request("GET", rng.choice(paths))
            if status == 200:
                run.page_times.append(time.monotonic() - started)
            else:
                run.errors.append(f"page {status}")
        except OSError as exc:
            run.errors.append(f"page {type(exc).__name__}")
        client.conn.close()
        halt.wait(max(0.0, 0.2 - (time.monotonic() - started)))


def meeting_driver(run: Run, meeting: int, sid: int, askers: list[Client], halt: threading.Event) -> None:
    """A question every 6 s and a vote every 0.6 s in one meeting."""
    rng = random.Random(meeting)
    n, next_question = 0, time.monotonic() + rng.random() * 6
    while not halt.is_set():
        if time.monotonic() >= next_question:
            marker = f"BQ{n}M{meeting}X"
            asker = askers[n % len(askers)]
            run.sent[marker] = time.monotonic()
            status, _, _ = asker.request(
                "POST",
                f"/questions/sessions/{sid}/ask",
                urlencode({"text": f"Câu hỏi {marker}?", "csrf_token": asker.token}),
                {"X-Outbox": "1"},
            )
            if status != 204:
                run.errors.append(f"ask {status}")
            n, next_question = n + 1, next_question + 6.0
        if run.question_ids[meeting]:
            voter = rng.choice(askers)
            status, _, _ = voter.request(
                "POST",
                f"/questions/questions/{rng.choice(sorted(run.question_ids[meeting]))}/vote",
                urlencode({"csrf_token": voter.token}),
                {"HX-Request": "true"},
            )
            if status not in (204, 422):  # 422: a voter drew their own question, which the UI never offers
                run.errors.append(f"vote {status}")
        halt.wait(0.6)


def bare_publisher(run: Run, control: str, halt: threading.Event) -> None:
    """The ceiling's publisher: the same frame size class, posted to Pushpin with no app in between."""
    n = 0
    while not halt.is_set():
        meeting = n % run.meetings
        marker = f"BQ{n}M{meeting}X"
        run.sent[marker] = time.monotonic()
        frame = f"event: queue\ndata: <li>{marker}</li>\n\n"
        body = json.dumps({"items": [{"channel": f"bare:{meeting}", "formats": {"http-stream": {"content": frame}}}]})
        urllib.request.urlopen(
            urllib.request.Request(
                control + "/publish/", data=body.encode(), headers={"Content-Type": "application/json"}
            ),
            timeout=5,
        ).read()
        n += 1
        halt.wait(6.0 / run.meetings)  # the same question rate as the intranet phase


def phase(
    name: str,
    args,
    engine,
    server: subprocess.Popen,
    stream_paths: list[str],
    cookies: list[str],
    start_traffic,
    page_port: int,
    page_paths: list[str],
) -> None:
    run = Run(args.meetings, args.participants // args.meetings)
    before = {"pushpin": rss_kib(engine.process.pid), "gunicorn": rss_kib(server.pid)}

    async def main():
        halt_async = asyncio.Event()
        started = time.monotonic()
        tasks = await open_listeners(run, engine.port, stream_paths, cookies, halt_async, args.open_rate)
        await asyncio.sleep(3)
        after = {"pushpin": rss_kib(engine.process.pid), "gunicorn": rss_kib(server.pid)}
        opening = time.monotonic() - started
        print(
            f"  {name}: {run.opened} streams open in {opening:.0f} s ({len(run.errors)} errors: "
            f"{sorted(set(run.errors))[:5]}); memory KiB before {before}, "
            f"after {after}; Pushpin per stream {(after['pushpin'] - before['pushpin']) / max(run.opened, 1):.1f} KiB",
            flush=True,
        )
        halt = threading.Event()
        threads = [
            threading.Thread(target=page_loader, args=(run, page_port, page_paths, cookies, halt), daemon=True),
            *start_traffic(run, halt),
        ]
        for thread in threads:
            thread.start()
        await asyncio.sleep(args.seconds)
        halt.set()
        await asyncio.sleep(3)  # the last questions' deliveries
        halt_async.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for thread in threads:
            thread.join(timeout=10)

    asyncio.run(main())
    print(f"  {name}: {run.summary()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=3000)
    parser.add_argument("--meetings", type=int, default=20)
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--open-rate", type=float, default=100.0, help="pages opened per second while filling")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)

    with seeded_cell("live_meetings", args.users, PASSWORD, args.meetings) as (env, instance, first):
        env = {**env, "BENCH_LOG": str(Path(instance) / "servers.log")}
        sids = [first + n for n in range(args.meetings)]
        print(
            f"{args.participants} pages over {args.meetings} meetings, {args.users} members; gunicorn 2x16 gthread, "
            f"PostgreSQL + Redis, Pushpin; {args.seconds} s of traffic per phase",
            flush=True,
        )

        # The ceiling: bare hold, bare publisher, bare page.
        port = free_port()
        with pushpin([f"127.0.0.1:{port}"], KEY, log_level=1) as engine:
            server = gunicorn("bench.bare_app:app", {**env, "PYTHONPATH": str(ROOT)}, port)
            try:
                phase(
                    "bare",
                    args,
                    engine,
                    server,
                    [f"/hold/{i % args.meetings}" for i in range(args.participants)],
                    [""],
                    lambda run, halt: [
                        threading.Thread(target=bare_publisher, args=(run, engine.control, halt), daemon=True)
                    ],
                    port,
                    ["/page"],
                )
            finally:
                stop([server])

        port = free_port()
        with pushpin([f"127.0.0.1:{port}"], KEY, log_level=1) as engine:
            app_env = {**env, "INTRANET_PUSHPIN_SIG_KEY": KEY, "INTRANET_PUSHPIN_PUBLISH_URLS": engine.control}
            server = gunicorn("wsgi:app", app_env, port)
            try:
                clients = [Client(port).login(f"dv{i:04d}", PASSWORD) for i in range(args.users)]
                cookies = [c.cookie() for c in clients]
                askers = [clients[i :: args.meetings][:3] for i in range(args.meetings)]

                def traffic(run, halt):
                    return [
                        threading.Thread(target=meeting_driver, args=(run, m, sid, askers[m], halt), daemon=True)
                        for m, sid in enumerate(sids)
                    ]

                phase(
                    "intranet",
                    args,
                    engine,
                    server,
                    [
                        f"/questions/sessions/{sids[i % args.meetings]}/stream?sort=votes"
                        for i in range(args.participants)
                    ],
                    cookies,
                    traffic,
                    port,
                    [f"/questions/sessions/{sid}" for sid in sids],
                )
            finally:
                stop([server])
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)


if __name__ == "__main__":
    main()
