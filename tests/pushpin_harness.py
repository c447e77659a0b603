"""Debian's Pushpin on throwaway loopback ports, configured from the repository's own
deploy/pushpin/pushpin.conf (only ports, paths and the key differ), for the tests and bench/."""

from __future__ import annotations

import configparser
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "pushpin" / "pushpin.conf"
MISSING = "pushpin is missing (make test installs it with apt-get when run as root: apt-get install pushpin)"


def available() -> bool:
    return shutil.which("pushpin") is not None


class Pushpin:
    def __init__(self, port: int, control: str, log: Path, process: subprocess.Popen) -> None:
        self.port, self.base, self.control = port, f"http://127.0.0.1:{port}", control
        self.log, self.process = log, process

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def logged(self, needle: str, seconds: float = 10) -> bool:
        """Whether Pushpin logs ``needle`` (its log may lag behind what it already sent)."""
        deadline = time.monotonic() + seconds
        while needle not in self.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        return needle in self.log_text()


@contextmanager
def pushpin(targets: list[str], key: str, *, log_level: int = 2) -> Iterator[Pushpin]:
    """Run Pushpin forwarding to ``targets`` ("127.0.0.1:port") with signing key ``key``."""
    # A short directory: ZeroMQ's ipc:// socket paths must stay under 108 bytes.
    work = Path(tempfile.mkdtemp(prefix="pp-"))
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str
    conf.read(CONFIG)
    http_port, control_port = free_port(), free_port()
    conf["global"].update(rundir=str(work / "run"), ipc_prefix="t-")
    conf["runner"].update(http_port=f"127.0.0.1:{http_port}", logdir=str(work / "log"), log_level=str(log_level))
    conf["proxy"]["sig_key"] = key
    conf["handler"].update(
        push_in_http_port=str(control_port),
        push_in_spec=f"ipc://{work}/run/push-in",
        push_in_sub_specs=f"ipc://{work}/run/push-sub",
        command_spec=f"ipc://{work}/run/command",
    )
    for sub in ("run", "log"):
        (work / sub).mkdir()
    with (work / "pushpin.conf").open("w") as f:
        conf.write(f)
    (work / "routes").write_text(f"* {' '.join(targets)}\n")
    log = work / "pushpin.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["pushpin", "--config", str(work / "pushpin.conf"), "--merge-output"], stdout=out, stderr=subprocess.STDOUT
        )
    running = Pushpin(http_port, f"http://127.0.0.1:{control_port}", log, process)
    try:
        _wait_ready(running, process)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


def _wait_ready(running: Pushpin, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pushpin exited: {running.log_text()}")
        # Ready when the control API publishes and the client port accepts (condure starts last).
        try:
            request = urllib.request.Request(
                running.control + "/publish/", data=b'{"items": []}', headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=1).read()
            with socket.create_connection(("127.0.0.1", running.port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"pushpin did not start: {running.log_text()}")


@contextmanager
def redis_server() -> Iterator[str]:
    """A private redis-server on a free loopback port (the apps behind Pushpin share recipes there)."""
    work = Path(tempfile.mkdtemp(prefix="redis-"))
    server = RedisServer(work).start()
    try:
        yield server.url
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
