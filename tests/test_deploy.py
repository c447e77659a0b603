"""The production files in deploy/: the env template names every setting the code reads, the timers'
services run commands the app really has, and systemd accepts the units."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess

import pytest
from support import ROOT

from intranet.config import DEFAULTS
from intranet.plugins import manager

DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
UNPREFIXED = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}  # read with and without INTRANET_ (intranet/config.py)
# Read from the environment outside the config dict: by create_app, and by gunicorn's config file.
OUTSIDE_CONFIG = {"INTRANET_INSTANCE_PATH", "INTRANET_BIND", "INTRANET_WORKERS", "INTRANET_WORKER_CONNECTIONS"}
MY_UNITS = (
    "intranet.service",
    "intranet-reminders.service",
    "intranet-reminders.timer",
    "intranet-rollup.service",
    "intranet-rollup.timer",
)


def _variable(key: str) -> str:
    return key if key in UNPREFIXED else f"INTRANET_{key}"


def _template_names() -> list[str]:
    text = (DEPLOY / "intranet.env.example").read_text()
    return re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, re.M)


def test_the_env_template_explains_every_setting(app):
    with app.app_context():
        plugin_keys = {key for info in manager().infos.values() for key in info.config}
    wanted = {_variable(key) for key in [*DEFAULTS, *plugin_keys]}
    names = _template_names()
    assert sorted(wanted - set(names)) == [], "add these to deploy/intranet.env.example, with what they mean"
    assert sorted(set(names) - wanted - OUTSIDE_CONFIG) == [], "the template names settings nothing reads"
    assert len(names) == len(set(names)), "a setting is listed twice"


def test_every_template_line_is_explained():
    lines = (DEPLOY / "intranet.env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^#?[A-Z][A-Z0-9_]*=", line):
            previous = lines[number - 1]
            assert previous.startswith("# ") or re.match(r"^#?[A-Z][A-Z0-9_]*=", previous), line


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(SYSTEMD / name)
    return unit


@pytest.mark.parametrize("timer", ["intranet-reminders.timer", "intranet-rollup.timer"])
def test_each_timer_runs_a_command_the_app_has(app, timer):
    service = _unit(timer.replace(".timer", ".service"))
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["EnvironmentFile"] == _unit("intranet.service")["Service"]["EnvironmentFile"]
    command = shlex.split(service["Service"]["ExecStart"])
    assert command[:3] == ["/opt/intranet/.venv/bin/flask", "--app", "wsgi"]
    result = app.test_cli_runner().invoke(args=command[3:])
    assert result.exit_code == 0, result.output


def test_the_app_service_reloads_gracefully_and_restarts():
    service = _unit("intranet.service")["Service"]
    assert service["ExecStart"].split()[1:] == ["-c", "/opt/intranet/intranet/gunicorn_conf.py", "wsgi:app"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Restart"] == "on-failure"
    for option in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert service[option] == "true"
    assert service["ProtectSystem"] == "strict"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units():
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(SYSTEMD / n) for n in MY_UNITS)], capture_output=True, text=True
    )
    # The only complaint allowed: the app is not installed in /opt/intranet on this machine.
    problems = [line for line in result.stderr.splitlines() if line and "/opt/intranet/" not in line]
    assert problems == []
