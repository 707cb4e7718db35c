"""The HTML report renders in headless Chromium, with the sheet and the plots visible.

Needs the Debian package ``chromium``; skipped with that reason where it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from performer.probe.distance import stat_distance
from performer.probe.plots import MEAN, REFERENCE
from performer.probe.report import Extras, write_probe
from performer.probe.sheet import BACKGROUND
from performer.probe.sweep import ProbeResult

WINDOW = (1200, 2000)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, shot: Path, profile: Path) -> np.ndarray:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert shot.is_file(), (
        f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-800:]}"
    )
    return np.asarray(Image.open(shot).convert("RGB")).astype(np.int32)


def near(pixels: np.ndarray, rgb: tuple[int, ...], tolerance: int = 24) -> np.ndarray:
    return np.abs(pixels - np.array(rgb)).max(axis=2) <= tolerance


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package: chromium)")
def test_report_shows_sheet_and_plots(era_result: ProbeResult, tmp_path: Path) -> None:
    era_result.distances["stats"] = stat_distance(era_result)
    reference = {"saturation": list(np.linspace(0.2, 0.6, 7))}
    page = write_probe(era_result, tmp_path / "probe", "screenshot", Extras(reference, "ref"))
    pixels = screenshot(page, tmp_path / "shot.png", tmp_path / "profile")
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])

    # the sheet: its dark ground, and the orange of the 2030 column's frames
    sheet = Image.open(tmp_path / "probe" / "sheet.png")
    ground = near(pixels, BACKGROUND, 6)
    rows = np.nonzero(ground.sum(axis=1) > 40)[0]  # antialiased text has a few a row at most
    assert rows.size > 0.8 * sheet.height, "the sheet is not on screen"
    cols = np.nonzero(ground[rows].any(axis=0))[0]
    box = pixels[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    late = era_result.frame(0, 6).image.reshape(-1, 3).mean(axis=0)
    assert near(box, tuple(int(c) for c in late), 30).sum() > 500, "no frames in the sheet"

    # the plots, below the sheet: the mean lines (blue) and the reference (orange, dashed)
    below = pixels[rows.max() + 1 :]
    assert near(below, MEAN, 30).sum() > 2000, "the plots' lines are not visible"
    assert near(below, REFERENCE, 30).sum() > 50, "the reference line is not visible"
    white = near(below, (255, 255, 255), 0).sum()
    assert white > 6 * 300 * 180, "fewer than six plots on screen"
