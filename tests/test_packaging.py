"""`pip install .` ships what the server needs at run time: migrations, the demo config, the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("callbridge-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_every_migration(wheel: zipfile.ZipFile) -> None:
    """Each revision under src/callbridge/migrations/versions is in the wheel, with env.py and the template."""
    names = set(wheel.namelist())
    revisions = {p.name for p in (ROOT / "src/callbridge/migrations/versions").glob("*.py")}
    assert revisions and {f"callbridge/migrations/versions/{r}" for r in revisions} <= names
    assert {"callbridge/migrations/env.py", "callbridge/migrations/script.py.mako"} <= names


def test_wheel_ships_the_demo_contact_center(wheel: zipfile.ZipFile) -> None:
    """`callbridge demo` reads its config from the installed package."""
    assert "callbridge/demo/contact-center.yaml" in wheel.namelist()


def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile) -> None:
    """Installing the wheel puts a `callbridge` command on the PATH."""
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "callbridge = callbridge.cli:main" in wheel.read(entry_points).decode()


def test_wheel_ships_the_console_pages(wheel: zipfile.ZipFile) -> None:
    """The console's templates, its ES modules (console.js and each module it imports) and its stylesheet are
    package data, served from the install."""
    names = set(wheel.namelist())
    templates = {p.name for p in (ROOT / "src/callbridge/console/templates").glob("*.html")}
    assert "console.html" in templates and "supervisor.html" in templates
    assert {f"callbridge/console/templates/{t}" for t in templates} <= names
    modules = {p.name for p in (ROOT / "src/callbridge/console/static").glob("*.js")}
    split = {"console.js", "api.js", "stream.js", "transcript.js", "session.js", "agent.js", "supervisor.js"}
    assert split <= modules
    assert {f"callbridge/console/static/{m}" for m in modules} <= names
    assert "callbridge/console/static/console.css" in names
