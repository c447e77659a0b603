"""The example outside plugin (examples/intranet-noticeboard), built and installed from wheels into a
fresh venv beside the intranet's own wheel: its branch migrates, it is switched on for one office and
answers there only, in Vietnamese from its own catalogue."""

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from wheels import Venv, build_wheel

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "intranet-noticeboard"


def test_example_plugin_from_its_wheel(tmp_path):
    source = tmp_path / "example"  # a copy: compiling its catalogue leaves the work tree alone
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "compile",
            "-d",
            str(source / "intranet_noticeboard" / "translations"),
        ],
        check=True,
        capture_output=True,
    )
    env = Venv(tmp_path / "venv")
    env.install(build_wheel(ROOT, tmp_path / "dist"))
    env.install(build_wheel(source, tmp_path / "dist"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(Path(__file__).parent / "example_plugin_client.py", run_dir)
    instance = {"INTRANET_INSTANCE_PATH": str(tmp_path / "instance")}

    def flask(*args):
        result = env.run("python", "-m", "flask", "--app", "intranet", *args, cwd=run_dir, env=instance)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "noticeboard" in flask("plugins", "list")
    flask("db", "upgrade")
    with sqlite3.connect(tmp_path / "instance" / "intranet.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM noticeboard_notice").fetchone() == (0,)
    client = env.run("python", "example_plugin_client.py", "setup", cwd=run_dir, env=instance)
    assert client.returncode == 0, client.stderr
    flask("plugins", "enable", "noticeboard", "--office", "ONE")

    client = env.run("python", "example_plugin_client.py", "visit", cwd=run_dir, env=instance)
    assert client.returncode == 0, client.stderr
    seen = json.loads(client.stdout)
    one, two = seen["sec_one"], seen["sec_two"]
    assert one["board"] == 200 and one["posted"] == 302
    assert "Bảng tin đã mở." in one["page"]  # posted by its switch hook, in its own Vietnamese catalogue
    assert "Notice from sec_one" in one["page"] and 'id="noticeboard-latest"' in one["home"]  # the slot
    assert two["board"] == 404 and two["posted"] == 404 and "noticeboard-latest" not in two["home"]
    # Its declared live region: the poll route made from the declaration, for its own office only.
    assert one["poll"] == 200 and "event: notices" in one["live"] and "Notice from sec_one" in one["live"]
    assert two["poll"] == 404
