"""Thin-link benchmark, run by hand (figures go to the README's "Thin links" section):

    .venv/bin/python bench/thin_bench.py [--tree PATH] [--profiles weak,modest] [--waterfall]

Serves the app as `make run` does (gunicorn with intranet/gunicorn_conf.py: one gevent worker) from
``--tree`` (default: this checkout; point it at another checkout to measure that code) on a fresh
PostgreSQL database (BENCH_PG) and Redis (BENCH_REDIS), seeds a cell with a meeting in progress
(report and slides with text, discussion questions, a question in the queue), and drives Debian's
headless Chromium through Playwright with CDP network throttling. For each profile and each page — the
member's queue page, the follow-along page, the meeting page and the start page — a fresh browser
(empty cache) opens the page once (first visit), then opens it again (repeat visit). Reported per
visit: the requests that reached the server and the bytes it sent (bodies as sent, compressed or not;
headers not counted), the time until the page's main content is painted (first contentful paint:
stylesheets block it) and until its live stream is open (live.js says "live"; pages without one: "—").
``--waterfall`` also prints each visit's requests with their start, first byte and end, to see where
the time goes. Bounded: every wait has a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from client import BIN, ROOT, free_port, seeded_cell, stop

PASSWORD = "bench-password-123"
CHROMIUM = os.environ.get("INTRANET_CHROMIUM", "/usr/bin/chromium")
# Chromium's throughput is in bytes per second.
PROFILES = {
    "weak": {"latency": 600, "downloadThroughput": 64_000 / 8, "uploadThroughput": 32_000 / 8},
    "modest": {"latency": 300, "downloadThroughput": 256_000 / 8, "uploadThroughput": 256_000 / 8},
}


# The first time a live region's status says "live" (live.js: its stream is open, updates arrive from now on).
INIT = """
window.__bench = {live: null};
new MutationObserver((changes) => {
  if (window.__bench.live === null && changes.some((c) => c.target.dataset.state === "live")) {
    window.__bench.live = performance.now();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state"]});
"""


def serve(tree: Path, env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn on ``tree``'s code: its plugins too, which the editable install would otherwise take
    from this checkout (a folder of ``intranet_<name>`` links put first on the path)."""
    links = Path(tempfile.mkdtemp(prefix="thin-bench-"))
    for plugin in (tree / "plugins").iterdir():
        if (plugin / "__init__.py").exists():
            (links / f"intranet_{plugin.name}").symlink_to(plugin)
    port = free_port()
    # make run's settings, but access lines (path, status, body bytes as sent) in a file of their own
    config = links / "gunicorn_conf.py"
    config.write_text(
        "from intranet.gunicorn_conf import *\n"
        f"logconfig_dict = {{}}\naccesslog = {str(log)!r}\naccess_log_format = '%(U)s %(s)s %(B)s'\n"
    )
    log.touch()
    server = subprocess.Popen(  # --no-sendfile: sendfile bytes are not logged
        [str(BIN / "gunicorn"), "--config", str(config), "--bind", f"127.0.0.1:{port}", "--no-sendfile", "wsgi:app"],
        cwd=tree,
        env={**env, "PYTHONPATH": f"{tree}:{links}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


class Wire:
    """What the server sent for one page visit, from gunicorn's access log: requests and body bytes as
    sent (compressed or not). Counted at the server, so requests a service worker makes count too and
    a file the browser takes from its cache does not. An open event stream is logged when it closes,
    so streams are left out (their first frame is a few hundred bytes)."""

    def __init__(self, log: Path):
        self.log = log
        self.offset = 0

    def reset(self) -> None:
        self.offset = self.log.stat().st_size

    def read(self) -> tuple[int, int]:
        with self.log.open() as f:
            f.seek(self.offset)
            lines = [line.split() for line in f if line.strip()]
        lines = [parts for parts in lines if not parts[0].endswith("/stream")]
        return len(lines), sum(int(parts[2]) for parts in lines if parts[2].isdigit())


def wait_for(page, expression: str, timeout: float = 60):
    """The value of ``expression`` once it is set (polled: wait_for_function would need eval, which
    the Content-Security-Policy forbids); times are the page's own, so the polling does not count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value is not None:
            return value
        time.sleep(0.05)
    raise TimeoutError(expression)


def sign_in(context, username: str = "dv0000") -> None:
    """Through the context's request API: its cookies are the browser's, and no page (nor any of its
    static files) is loaded, so the first visit starts with an empty cache."""
    login = context.request.get("/login").text()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    answer = context.request.post(
        "/login", form={"username": username, "password": PASSWORD, "csrf_token": token}, max_redirects=0
    )
    assert answer.status == 302, answer.status


# Where a visit's time goes: each request's start, first byte and end (ms since the navigation began)
# and its bytes on the wire, from the page's own Resource Timing.
WATERFALL = """[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .map((e) => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseStart),
               Math.round(e.responseEnd), e.transferSize])"""


def visit(page, wire: Wire, url: str, live: bool) -> dict:
    wire.reset()
    page.goto(url, wait_until="load", timeout=120_000)
    paint = wait_for(page, "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    swap = wait_for(page, "window.__bench.live") if live else None
    page.wait_for_timeout(1000)  # late requests (the service worker's) count too
    requests, sent = wire.read()
    return {
        "kb": round(sent / 1024, 1),
        "requests": requests,
        "content_s": round(paint / 1000, 2),
        "live_s": round(swap / 1000, 2) if swap is not None else None,
        "waterfall": page.evaluate(WATERFALL),
    }


def run_profile(browser, port: int, log: Path, sid: int, conditions: dict) -> dict:
    pages = {
        "queue": (f"/questions/sessions/{sid}", True),
        "follow-along": (f"/meetings/sessions/{sid}/follow", True),
        "meeting": (f"/scheduling/sessions/{sid}", False),
        "start": ("/", False),
    }
    figures = {}
    for label, (path, live) in pages.items():
        context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
        context.add_init_script(INIT)
        sign_in(context)
        blank = context.new_page()
        cdp = context.new_cdp_session(blank)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
        wire = Wire(log)
        first = visit(blank, wire, path, live)
        blank.goto("about:blank")
        repeat = visit(blank, wire, path, live)
        figures[label] = {"first": first, "repeat": repeat}
        context.close()
    figures["question to chair (s)"] = question_delay(browser, port, sid, conditions)
    return figures


def question_delay(browser, port: int, sid: int, conditions: dict) -> float:
    """Seconds from a member pressing Send on the throttled queue page to the question showing on the
    chair's page (the chair on a good link)."""
    base = f"http://127.0.0.1:{port}"
    chair_context = browser.new_context(base_url=base)
    sign_in(chair_context, "bithu")
    chair = chair_context.new_page()
    chair.goto(f"/questions/sessions/{sid}/chair")
    member_context = browser.new_context(base_url=base)
    sign_in(member_context, "dv0001")
    member = member_context.new_page()
    cdp = member_context.new_cdp_session(member)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
    member.goto(f"/questions/sessions/{sid}", timeout=120_000)
    text = f"Câu hỏi đo thời gian {time.time_ns()}"
    member.fill("#ask textarea[name=text]", text)
    started = time.monotonic()
    member.click("#ask button[type=submit]")
    while not chair.evaluate("(text) => document.querySelector('main').textContent.includes(text)", text):
        if time.monotonic() - started > 60:
            raise TimeoutError("the question never reached the chair")
        time.sleep(0.05)
    delay = round(time.monotonic() - started, 2)
    member_context.close()
    chair_context.close()
    return delay


def table(results: dict, waterfall: bool = False) -> str:
    lines, waterfalls = [], []
    for profile, pages in results.items():
        lines += [
            f"\n{profile}",
            "| page | visit | KB sent | requests | content painted (s) | live (s) |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for label, visits in pages.items():
            if not isinstance(visits, dict):
                continue
            for kind, f in visits.items():
                live = "—" if f["live_s"] is None else f["live_s"]
                lines.append(f"| {label} | {kind} | {f['kb']} | {f['requests']} | {f['content_s']} | {live} |")
                if waterfall:
                    waterfalls.append(f"\n{profile} {label} {kind}: request, start, first byte, end (ms), bytes")
                    waterfalls += [
                        f"    {name} {start} {first} {end} {size}" for name, start, first, end, size in f["waterfall"]
                    ]
        lines.append(
            f"\nA question sent from the queue page reached the chair's page in {pages['question to chair (s)']} s."
        )
    return "\n".join(lines + waterfalls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--waterfall", action="store_true", help="print each visit's requests and their timings")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with seeded_cell("documents_and_questions", 2, PASSWORD) as (env, instance, sid):
        log = Path(instance) / "access.log"
        server, port = serve(args.tree.resolve(), env, log)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=[
                        "--no-sandbox",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                    ],
                )
                results = {
                    name: run_profile(browser, port, log, sid, PROFILES[name]) for name in args.profiles.split(",")
                }
                browser.close()
        finally:
            stop([server])
    print(table(results, args.waterfall))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
