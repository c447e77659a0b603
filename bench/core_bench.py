"""Core latency benchmark, run by hand: `.venv/bin/python bench/core_bench.py [--requests N] [--clients C]`.

Serves the app with gunicorn (1 worker, gthread) on a free loopback port with a fresh SQLite database
(or DATABASE_URL / REDIS_URL if set), seeds the demo, turns on the tests' `hello` plugin for its live
poll endpoint, then measures with C concurrent keep-alive clients:
  healthz, sign-in page, signed-in home page (nav and slots from hooks), admin user list,
  an unchanged live poll (304 from the ETag, no database query) and a changed poll (200, rendered).
The client runs on the same 2 cores as the server, so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from client import Client, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def measure(port, clients, requests, path, password, headers_for=None, expect=200):
    latencies, errors = [], []
    lock = threading.Lock()
    per_client = requests // clients

    def worker():
        client = Client(port)
        client.login("bithu", password)
        local = []
        headers = headers_for(client) if headers_for else {}
        for _ in range(per_client):
            start = time.perf_counter()
            status, _, _ = client.request("GET", path, headers=headers)
            local.append(time.perf_counter() - start)
            if status != expect:
                errors.append(status)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {
        "n": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="intranet-bench-")
    env = {
        **os.environ,
        "INTRANET_INSTANCE_PATH": instance,
        "INTRANET_ENV": "development",
        "PYTHONPATH": str(ROOT / "tests" / "outside_plugin"),
        "INTRANET_LOGIN_IP_LIMIT": "100000 per minute",
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    # Migrates the test plugin's table too: its branch is found through PYTHONPATH like any installed plugin.
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    seeded = subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    password = next(ln.split()[-1] for ln in seeded.stdout.splitlines() if ln.strip().startswith("bithu "))
    subprocess.run(
        [*flask, "plugins", "enable", "hello", "--office", "VKS-PD"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "32",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                Client(port).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        probe = Client(port)
        probe.login("bithu", password)
        status, _, home = probe.request("GET", "/hello/")
        assert status == 200 and 'id="hello-page"' in home, f"hello plugin not serving: {status}"
        office_id = 2  # VKS-PD is the second office the demo creates

        def etag_headers(client):
            _, headers, _ = client.request("GET", f"/hello/{office_id}/poll")
            return {"If-None-Match": headers["ETag"]}

        cases = [
            ("GET /healthz", "/healthz", None, 200),
            ("GET / (signed in)", "/", None, 200),
            ("GET /admin/users (secretary: 403)", "/admin/users", None, 403),
            ("GET live poll, unchanged (304)", f"/hello/{office_id}/poll", etag_headers, 304),
            ("GET live poll, full render", f"/hello/{office_id}/poll", None, 200),
        ]
        print(
            f"{args.clients} clients, {args.requests} requests per case, gunicorn 1 worker x 32 threads, "
            f"{'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}, "
            f"{'Redis' if os.environ.get('REDIS_URL') else 'in-process'} bus"
        )
        print(f"{'case':<38} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, path, headers_for, expect in cases:
            r = measure(port, args.clients, args.requests, path, password, headers_for, expect)
            print(f"{name:<38} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} {r['errors']:>7}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
