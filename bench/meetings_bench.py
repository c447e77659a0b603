"""Meeting-room ingest benchmark, run by hand (figures go to the README):

    .venv/bin/python bench/meetings_bench.py [--participants 200] [--seconds 60]

Serves the app with gunicorn (2 workers, gthread) on PostgreSQL (a fresh database on BENCH_PG, default
postgresql://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS), seeds a cell with an online meeting in
progress and ``participants`` members, then every participant sends a batch of quality samples every
5 s (as the room page does) while the chair holds the connection board's stream open. Every 10 s one
participant reports a drop; the time from that POST to the board's frame showing them disconnected is
the board's delay. Reports the ingest's latency (client and gunicorn's own), errors, and the delays.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import random
import re
import statistics
import time
from pathlib import Path

from client import Client, seeded_cell, stop
from questions_bench import PASSWORD, AccessLog, _read_head, q, serve


async def post(port: int, path: str, cookie: str, body: bytes, conn):
    reader, writer = conn
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status, headers = await _read_head(reader)
    await reader.readexactly(int(headers.get("content-length", 0)))
    return status


async def participant(port, sid, user_id, cookie, token, stop, latencies, errors, drops, index):
    await asyncio.sleep(random.random() * 5)  # pages do not sample in step
    conn = await asyncio.open_connection("127.0.0.1", port)
    seq = 0
    joined = False
    while not stop.is_set():
        now = int(time.time() * 1000)
        events = [] if joined else [{"t": now, "kind": "joined"}]
        joined = True
        if drops is not None and drops.get("due") == index:
            drops["due"] = None
            events.append({"t": now, "kind": "dropped", "detail": {"name": "bench"}})
            drops["sent"][user_id] = time.monotonic()
        elif drops is not None and user_id in drops["sent"]:
            events.append({"t": now, "kind": "reconnected"})
        body = json.dumps(
            {
                "batch": f"b{user_id}-{seq:06d}",
                "token": token,
                "mode": "video",
                "events": events,
                "samples": [
                    {
                        "t": now,
                        "rtt": random.uniform(20, 80),
                        "loss": random.uniform(0, 1),
                        "quality": random.uniform(80, 100),
                    }
                ],
            }
        ).encode()
        seq += 1
        started = time.monotonic()
        try:
            status = await post(port, f"/meetings/sessions/{sid}/ingest", cookie, body, conn)
            latencies.append(time.monotonic() - started)
            if status != 200:
                errors.append(status)
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            errors.append(type(exc).__name__)
            conn = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(max(0.0, 5 - (time.monotonic() - started)))


async def board_watcher(port, sid, cookie, drops, delays, stop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /meetings/sessions/{sid}/stream?page=board HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\n"
        f"Accept: text/event-stream\r\n\r\n".encode()
    )
    await _read_head(reader)
    tail = ""
    while not stop.is_set():
        try:
            data = await asyncio.wait_for(reader.read(1 << 20), timeout=1)
        except TimeoutError:
            continue
        if not data:
            return
        text = tail + data.decode(errors="ignore")
        for user_id, sent in list(drops["sent"].items()):
            if f'id="board-{user_id}" class="state-disconnected"' in text:
                delays.append(time.monotonic() - sent)
                del drops["sent"][user_id]
        tail = text[-300:]


async def run(port, sid, people, chair_cookie, seconds):
    stop = asyncio.Event()
    latencies, errors, delays = [], [], []
    drops = {"due": None, "sent": {}}
    tasks = [asyncio.create_task(board_watcher(port, sid, chair_cookie, drops, delays, stop))]
    tasks += [
        asyncio.create_task(participant(port, sid, uid, cookie, token, stop, latencies, errors, drops, i))
        for i, (uid, cookie, token) in enumerate(people)
    ]
    await asyncio.sleep(8)  # everyone joined
    latencies.clear()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        drops["due"] = random.randrange(len(people))
        await asyncio.sleep(10)
    stop.set()
    await asyncio.sleep(1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies, errors, delays


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()

    servers = []
    with seeded_cell("jitsi_room", args.participants, PASSWORD) as (env, instance, sid):
        try:
            log = AccessLog(Path(instance) / "access.log")
            server, port = serve("wsgi:app", env, threads=64, log=log)
            servers.append(server)
            people = []
            for i in range(args.participants):
                client = Client(port).login(f"dv{i:04d}", PASSWORD)
                _, _, page = client.request("GET", f"/meetings/sessions/{sid}")
                page_data = json.loads(html.unescape(re.search(r'data-page="([^"]+)"', page).group(1)))
                user_id = int(re.search(r'data-user="(\d+)"', page).group(1))
                people.append((user_id, client.cookie(), page_data["ingestToken"]))
            chair = Client(port).login("bithu", PASSWORD)
            print(
                f"gunicorn 2 workers x 64 threads, PostgreSQL + Redis, {args.participants} participants "
                f"sampling every 5 s, {args.seconds} s",
                flush=True,
            )
            log.mark()
            latencies, errors, delays = asyncio.run(run(port, sid, people, chair.cookie(), args.seconds))
            server_times = log.since_mark("/ingest")
            print(
                f"  ingest: {len(latencies)} batches, {len(errors)} errors {sorted(set(map(str, errors)))[:5]}; "
                f"client p50 {q(latencies, 50) * 1000:.1f} ms, p99 {q(latencies, 99) * 1000:.1f} ms; "
                f"server p50 {q(server_times, 50):.1f} ms, p99 {q(server_times, 99):.1f} ms",
                flush=True,
            )
            if delays:
                print(
                    f"  board: {len(delays)} drops seen, delay p50 {statistics.median(delays) * 1000:.0f} ms, "
                    f"max {max(delays) * 1000:.0f} ms",
                    flush=True,
                )
        finally:
            stop(servers)


if __name__ == "__main__":
    main()
