"""Build a project's wheel and install it into a fresh venv, offline: the wheel is built from the local
tree without build isolation, and the venv borrows the test venv's installed dependencies through a
``.pth`` line, so only what the wheel ships is importable as ``intranet`` (run it from an empty folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path


def build_wheel(project: Path, out: Path) -> Path:
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and CI runs two
    # passes of the suite at once from the same work tree.
    source = out / f"{project.name}-source"
    shutil.copytree(
        project,
        source,
        ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "node_modules", "instance"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    name = project.joinpath("pyproject.toml").read_text().split('name = "', 1)[1].split('"', 1)[0]
    (wheel,) = out.glob(f"{name.replace('-', '_')}-*.whl")
    return wheel


class Venv:
    def __init__(self, path: Path):
        venv.create(path, with_pip=False)
        self.path, self.bin = path, path / "bin"
        purelib = subprocess.run(
            [str(self.bin / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        # After the venv's own site-packages, so its wheels win over the test venv's editable install.
        Path(purelib, "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
        self.purelib = Path(purelib)

    def install(self, wheel: Path) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.bin / "python"),
                "install",
                "-q",
                "--no-deps",
                "--no-index",
                str(wheel),
            ],
            check=True,
            capture_output=True,
        )

    def run(self, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("INTRANET_", "PYTHON"))}
        clean.pop("DATABASE_URL", None)
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=cwd,
            env={**clean, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
