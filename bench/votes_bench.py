"""Votes under a whole cell, run by hand (figures go to the README):

    .venv/bin/python bench/votes_bench.py [--members 300] [--seconds 10] [--embedded]

Serves the app with gunicorn (2 workers, gthread) on PostgreSQL (a fresh database on BENCH_PG) and Redis
(BENCH_REDIS) — or, with ``--embedded``, as `make run` does (intranet/gunicorn_conf.py: one gevent
worker, SQLite, the in-process bus) — seeds one cell of ``members`` official members, all marked present
at a meeting in progress, and has each of them hold the meeting's votes page open on its live stream.
Then, for an open vote and for a secret ballot: the chair opens it; every member presses a button at a
random moment within ``seconds`` (an outbox post with its Idempotency-Key, as the browser sends it);
the chair closes it (and the counting committee's head confirms a secret ballot's count). Reported:
ballots answered 2xx, the cast's latency (server-side from gunicorn's access log, client-side), the
time for the opening and for the result to reach every member's stream, that a secret ballot's counts
are hidden until its count is confirmed and that the final count equals the ballots acknowledged, and
errors. A bare Flask endpoint served the same way is asked every 0.1 s during the ballots (the ceiling
of the machine under that load), and `uptime` is printed before and after each vote.

The clients (one thread per voter, the streams in one asyncio loop) share the machine with the server:
figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from client import ROOT, Client, seeded_cell, stop
from questions_bench import AccessLog, q, serve, server_errors, sse_participant

PASSWORD = "bench password 2026"
CHOICES = ("for", "against", "other")
HTMX = {"HX-Request": "true"}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def worker_cpu(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn master's workers (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    used = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        used += int(fields[11]) + int(fields[12])  # utime, stime
    return used / ticks


def percentiles(name: str, values: list[float]) -> dict:
    """n, p50, p95, p99 and max of ``values`` (milliseconds)."""
    if not values:
        return {f"{name}_n": 0}
    return {
        f"{name}_n": len(values),
        **{f"{name}_p{p}_ms": round(q(values, p), 1) for p in (50, 95, 99)},
        f"{name}_max_ms": round(max(values), 1),
    }


class Streams(threading.Thread):
    """Every member's votes page, opened as a browser does and then held on its live stream; ``sent``
    maps a marker to the moment it was sent, ``arrivals`` to the delays at which streams saw it."""

    def __init__(self, port: int, sid: int, cookies: list[str]):
        super().__init__(daemon=True)
        self.port, self.page, self.cookies = port, f"/votes/sessions/{sid}", cookies
        self.sent: dict[str, float] = {}
        self.arrivals: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.ready: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        async def main():
            await asyncio.gather(
                *(
                    sse_participant(
                        self.port, None, c, self.sent, self.arrivals, self.stop, self.errors, self.ready, self.page, 5.0
                    )
                    for c in self.cookies
                )
            )

        asyncio.run(main())

    def expect(self, marker: str) -> None:
        """``marker`` is about to be sent: streams look for it from now on."""
        self.sent[marker] = time.monotonic()

    def delivered(self, marker: str, within: float = 15.0) -> dict:
        """Wait until every stream saw ``marker``, at most ``within`` seconds after it was sent."""
        t0 = self.sent[marker]
        while len(self.arrivals.get(marker, [])) < len(self.cookies) and time.monotonic() - t0 < within:
            time.sleep(0.05)
        delays = [d * 1000 for d in self.arrivals.get(marker, [])]
        return {"missing": len(self.cookies) - len(delays), **percentiles("to_every_stream", delays)}


class Bare(threading.Thread):
    """The ceiling: the bare endpoint asked every 0.1 s on a kept-alive connection, until stopped."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.client, self.times, self.errors, self.stop = Client(port), [], 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            started = time.monotonic()
            status, _, _ = self.client.request("GET", "/poll")
            self.times.append((time.monotonic() - started) * 1000)
            self.errors += status != 200


def cast_all(vote_id: int, voters: list[Client], seconds: float, rng: random.Random) -> list[tuple[str, object, float]]:
    """Each voter presses a button at a random moment within ``seconds``: (choice, status, client ms)."""
    results: list = [None] * len(voters)
    start = time.monotonic() + 0.5

    def press(i: int, voter: Client, at: float, choice: str) -> None:
        time.sleep(max(0.0, start + at - time.monotonic()))
        body = urlencode({"choice": choice, "csrf_token": voter.token})
        headers = {"X-Outbox": "1", "Idempotency-Key": uuid.uuid4().hex}
        began = time.monotonic()
        try:
            status, _, _ = voter.request("POST", f"/votes/votes/{vote_id}/cast", body, headers)
        except OSError as exc:
            status = type(exc).__name__
        results[i] = (choice, status, (time.monotonic() - began) * 1000)

    threads = [
        threading.Thread(target=press, args=(i, v, rng.uniform(0, seconds), rng.choice(CHOICES)), daemon=True)
        for i, v in enumerate(voters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return [r or ("?", "no answer", float("nan")) for r in results]


def _article(page: str, vote_id: int) -> str:
    return page.split(f'id="vote-{vote_id}"', 1)[1].split("</article>", 1)[0]


def shown_counts(chair: Client, sid: int, vote_id: int) -> list[int] | None:
    """In favour, against, other as the votes page shows them, or None while it shows no counts."""
    _, _, page = chair.request("GET", f"/votes/sessions/{sid}")
    counts = _article(page, vote_id).split('class="vote-counts"', 1)
    return [int(n) for n in re.findall(r"<strong>(\d+)</strong>", counts[1])[:3]] if len(counts) > 1 else None


def one_vote(kind: str, port: int, sid: int, chair: Client, voters: list[Client], committee: list[str], args, logs):
    """Open, cast within ``args.seconds``, close (and confirm): the figures of one vote."""
    log, bare_log, streams, bare_port, master_pid = logs
    secret = kind == "secret"
    print(f"  {kind}: load before: {uptime()}", flush=True)
    title = f"BENCH-{kind}-{uuid.uuid4().hex[:8]}"
    fields = [("subject", "motion"), ("title", title), ("secret", "1" if secret else "0"), ("minutes", "10")]
    fields += [("committee", c) for c in committee] if secret else [("live_counts", "1")]
    streams.expect(title)
    status, _, body = chair.request(
        "POST", f"/votes/sessions/{sid}/open", urlencode(fields + [("csrf_token", chair.token)]), HTMX
    )
    assert status == 204, f"open: {status} {body[:200]}"
    opening = streams.delivered(title)
    _, _, page = chair.request("GET", f"/votes/sessions/{sid}")
    vote_id = max(int(i) for i in re.findall(r'id="vote-(\d+)"', page))

    log.mark()
    bare_log.mark()
    bare = Bare(bare_port)
    bare.start()
    cpu, window = worker_cpu(master_pid), time.monotonic()
    results = cast_all(vote_id, voters, args.seconds, random.Random(kind))
    cpu, window = worker_cpu(master_pid) - cpu, time.monotonic() - window
    bare.stop.set()
    bare.join(timeout=10)
    cast_rows = [(s, ms) for path, s, ms in log.rows() if path.endswith("/cast")]
    acknowledged = [c for c, s, _ in results if isinstance(s, int) and 200 <= s < 300]
    hidden_while_open = shown_counts(chair, sid, vote_id) is None

    final_marker = f'vote-final" id="vote-{vote_id}"'
    if not secret:
        streams.expect(final_marker)
    status, _, body = chair.request(
        "POST", f"/votes/votes/{vote_id}/close", urlencode({"csrf_token": chair.token}), HTMX
    )
    assert status == 204, f"close: {status} {body[:200]}"
    if secret:  # the count is final once the committee's head confirms it (no paper ballots here)
        hidden_until_confirmed = shown_counts(chair, sid, vote_id) is None
        head = voters[0]
        streams.expect(final_marker)
        status, _, body = head.request(
            "POST", f"/votes/votes/{vote_id}/confirm", urlencode({"csrf_token": head.token}), HTMX
        )
        assert status == 204, f"confirm: {status} {body[:200]}"
    result = streams.delivered(final_marker)
    counts = shown_counts(chair, sid, vote_id)
    expected = [acknowledged.count(c) for c in CHOICES]
    figures = {
        "ballots": len(results),
        "acknowledged_2xx": len(acknowledged),
        "errors": sorted({str(s) for _, s, _ in results if not (isinstance(s, int) and 200 <= s < 300)}),
        "count_shown": counts,
        "count_expected": expected,
        "count_correct": counts == expected,
        **({"counts_hidden_while_open": hidden_while_open} if secret else {}),
        **({"counts_hidden_until_confirmed": hidden_until_confirmed} if secret else {}),
        "server_statuses": sorted({s for s, _ in cast_rows}),
        **percentiles("cast_server", [ms for _, ms in cast_rows]),
        **percentiles("cast_client", [ms for _, _, ms in results if ms == ms]),
        **percentiles("bare_client", bare.times),
        **percentiles("bare_server", [ms for _, _, ms in bare_log.rows()]),
        "bare_errors": bare.errors,
        "app_worker_cpu_s": f"{cpu:.1f} in {window:.1f} s",
        "opening": opening,
        "result": result,
        "stream_errors": sorted(set(streams.errors))[:5],
    }
    print(f"  {kind}: {figures}", flush=True)
    print(f"  {kind}: load after:  {uptime()}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--streams", type=int, help="members holding the live stream (default: every member)")
    parser.add_argument("--embedded", action="store_true", help="serve as `make run`: gevent, SQLite, in-process bus")
    args = parser.parse_args()

    servers = []
    with seeded_cell("everyone_present", args.members, PASSWORD, embedded=args.embedded) as (env, instance, sid):
        try:
            env = {**env, "PYTHONPATH": str(ROOT)}
            threads = args.members // 2 + 100
            log = AccessLog(Path(instance) / "access.log")
            server, port = serve("bench.cheap_app:app", env, threads, log, args.embedded)
            servers.append(server)
            bare_log = AccessLog(Path(instance) / "bare-access.log")
            bare, bare_port = serve("bench.bare_app:app", env, 100, bare_log, args.embedded)
            servers.append(bare)
            print(
                (
                    "gunicorn -c intranet/gunicorn_conf.py (1 gevent worker), SQLite, in-process bus"
                    if args.embedded
                    else f"gunicorn 2 workers x {threads} threads, PostgreSQL + Redis"
                )
                + f"; {args.members} members present, ballots within {args.seconds:g} s",
                flush=True,
            )
            chair = Client(port).login("bithu", PASSWORD)
            voters = [Client(port).login(f"dv{i:04d}", PASSWORD) for i in range(args.members)]
            _, _, page = chair.request("GET", f"/votes/sessions/{sid}")
            committee = [re.search(rf'<option value="(\d+)">Đảng viên {i:04d}<', page).group(1) for i in (0, 1)]
            streams = Streams(port, sid, [v.cookie() for v in voters[: args.streams]])
            streams.start()
            began = time.monotonic()
            while len(streams.ready) + len(streams.errors) < len(streams.cookies) and time.monotonic() - began < 180:
                time.sleep(0.2)
            print(f"  {len(streams.ready)} streams open ({len(streams.errors)} errors)", flush=True)
            for kind in ("open", "secret"):
                one_vote(
                    kind, port, sid, chair, voters, committee, args, (log, bare_log, streams, bare_port, server.pid)
                )
            streams.stop.set()
        finally:
            stop(servers)
            print(f"  app: {server_errors(log)}", flush=True)


if __name__ == "__main__":
    main()
