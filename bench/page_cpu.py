"""CPU per request of the question queue's pages, against a bare endpoint of the same app, in-process
(Flask's test client: no network, no server; the cost the server pays in Python). Run by hand:

    .venv/bin/python bench/page_cpu.py [--members 300] [--questions 20] [--requests 300] [--profile]

Seeds SQLite (as `make run`) with a cell of ``members``, a meeting in progress with ``questions``
questions and votes, signs in one member, and prints the mean CPU milliseconds per request for each
case; ``--profile`` adds cProfile's heaviest functions for the member page.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

from client import ROOT, seeded_cell

PASSWORD = "bench password 2026"


def cpu_ms(client, path: str, requests: int, headers: dict | None = None, expect: int = 200) -> tuple[float, int]:
    """Mean CPU ms per request, and the SQL statements of one request."""
    from sqlalchemy import event

    from intranet.extensions import db

    client.get(path, headers=headers or {})  # warm: templates compiled, shared renders made
    statements = []
    with client.application.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    response = client.get(path, headers=headers or {})
    event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == expect, (path, response.status_code)
    started = time.process_time()
    for _ in range(requests):
        client.get(path, headers=headers or {})
    return (time.process_time() - started) * 1000 / requests, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with seeded_cell("voted_queue", args.members, PASSWORD, args.questions, embedded=True) as (env, _, sid):
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        from wsgi import app

        app.config["WTF_CSRF_ENABLED"] = False
        app.add_url_rule("/bench-bare", "bench_bare", lambda: "<ol></ol>")
        client = app.test_client()
        assert client.post("/login", data={"username": "dv0001", "password": PASSWORD}).status_code == 302
        page = f"/questions/sessions/{sid}"
        poll = f"/questions/sessions/{sid}/poll/queue,speakers,mine?sort=votes"
        tag = client.get(poll).headers["ETag"]
        cases = [
            ("bare endpoint of the same app", "/bench-bare", None, 200),
            ("GET /healthz", "/healthz", None, 200),
            ("member queue page", page, None, 200),
            ("page poll, all regions rendered (shared ones from the cache)", poll, None, 200),
            ("page poll, unchanged (304)", poll, {"If-None-Match": tag}, 304),
        ]
        print(f"{args.members} members, {args.questions} questions; CPU ms per request over {args.requests}:")
        bare = None
        for label, path, headers, expect in cases:
            ms, statements = cpu_ms(client, path, args.requests, headers, expect)
            bare = bare or ms
            print(f"  {label:62s} {ms:6.2f} ms  ({ms / bare:4.1f}x bare), {statements} SQL statements", flush=True)
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(100):
                client.get(page)
            profile.disable()
            pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
