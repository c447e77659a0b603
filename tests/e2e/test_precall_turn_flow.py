"""The pre-call test through the office's TURN server, in the browser, against a real TURN server
(Debian's coturn, with the shared secret of its TURN REST API): the page gets time-limited credentials,
runs @jitsi/precall-test through coturn and says what each result means; where UDP gets nothing
through, the test tries TCP and says the call will go that way."""

import shutil
import socket
import subprocess
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from support import shot
from test_meetings_flow import _context_page, _id, _online_meeting

from intranet.extensions import db
from intranet_meetings.models import Event

SECRET = "coturn-static-auth-secret-for-the-test"


def _free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    """coturn on a free loopback port, UDP and TCP, relaying between loopback peers (the page's two
    peer connections); its log shows which usernames it let allocate."""
    if not shutil.which("turnserver"):
        pytest.skip("coturn is missing (make test installs it when run as root)")
    port, log = _free_port(), tmp_path_factory.mktemp("coturn") / "turn.log"
    relay = _free_port(socket.SOCK_DGRAM)
    server = subprocess.Popen(
        [
            "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
            "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=intranet.test", "--no-tls",
            "--no-dtls", "--no-cli", "--allow-loopback-peers", f"--min-port={relay}", f"--max-port={relay + 50}",
            "--verbose", "--simple-log", f"--log-file={log}", "--no-stdout-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port, log
    server.terminate()
    server.wait()


def _coturn_log(log) -> str:
    return "".join(p.read_text() for p in log.parent.glob(f"{log.stem}*"))


def test_the_pre_call_test_runs_through_the_offices_turn_server(browser, live_server, app, cell, jitsi, coturn):
    port, log = coturn
    sid = _online_meeting(app, jitsi, turn_urls=f"turn:127.0.0.1:{port}?transport=udp", turn_secret=SECRET)
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    precall = member.locator("#precall")
    expect(precall).to_have_attribute("data-path", "connected", timeout=90_000)
    results = member.locator("#precall-results")
    expect(results).to_contain_text("đã đi qua máy chủ TURN")
    expect(results).to_contain_text("Độ trễ khứ hồi tới cuộc họp")
    expect(results).to_contain_text("Băng thông qua TURN")
    expect(results).to_contain_text("Theo bước thử này, nên bắt đầu với")
    shot(member, "meetings-precall-turn")
    member.context.close()
    with app.app_context():  # logged with the pre-call check
        logged = db.session.scalars(select(Event).where(Event.kind == "precall")).one().detail
    assert logged["path"] == "connected" and logged["kbps"] > 0 and logged["advice"] in ("full", "low_video")
    # coturn itself let the member's time-limited username allocate a relay: the credentials were real.
    assert f":{_id(app, 'member1')}" in _coturn_log(log) and "ALLOCATE processed, success" in _coturn_log(log)


def test_udp_that_gets_nothing_through_falls_back_to_tcp_and_says_so(browser, live_server, app, cell, jitsi, coturn):
    port, _log = coturn
    silent = _free_port(socket.SOCK_DGRAM)  # nothing answers UDP there: as if a firewall dropped it
    urls = f"turn:127.0.0.1:{silent}?transport=udp\nturn:127.0.0.1:{port}?transport=tcp"
    sid = _online_meeting(app, jitsi, turn_urls=urls, turn_secret=SECRET)
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#precall")).to_have_attribute("data-path", "no_udp", timeout=120_000)
    expect(member.locator("#precall-results")).to_contain_text("đi qua máy chủ TURN bằng TCP/TLS")
    member.context.close()
