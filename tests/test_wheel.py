"""The wheel installs anywhere: one top-level package, patches inside it.

Before issue 13, ``pip install .`` outside the checkout could not find its own patches
("demo.toml: file: no such patch file"), and the wheel installed top-level packages
named ``control``, ``render`` and ``mappings`` (``control`` is python-control's)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "performer", "control", "render", "mappings", "patches")


@pytest.mark.slow
def test_the_wheel_plays_the_demo_patch_away_from_the_checkout(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so the build leaves the checkout as it was
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    subprocess.run([*build, str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("performer-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert tops == {"performer", wheel.name.split("-py3")[0] + ".dist-info"}
    assert {"performer/patches/demo.toml", "performer/control/osc.py"} <= names
    # every module and patch of the repository is in it (packages are listed by hand)
    inside = {"performer": "performer", "control": "performer/control"}
    inside |= {"mappings": "performer/mappings", "render": "performer/render"}
    expected = {
        f"{inside[folder]}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder in inside
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    expected |= {f"performer/patches/{p.name}" for p in (ROOT / "patches").glob("*.toml")}
    assert sorted(expected - names) == []

    target = tmp_path / "site"
    install = [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import performer.control.osc as m; print(m.__file__)"],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target)), "the installed copy, not the checkout"
    render = [sys.executable, "-m", "performer.cli", "render", "--patch", "demo", "--frames", "3"]
    out = subprocess.run(
        [*render, "--out", str(away / "demo.mp4")],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (away / "demo.mp4").stat().st_size > 0
