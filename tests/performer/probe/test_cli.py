"""``performer probe`` through its own parser: options, outputs and precise errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from performer.control.params import Snapshot, defaults

import performer.generators
from performer.embedded.weights import PACKAGE_DIR, WEIGHTS
from performer.probe import cli
from performer.probe.capture import ProbeLog, capture
from tests.performer.probe.painter import EraPainter

needs_weights = pytest.mark.skipif(
    not (PACKAGE_DIR / WEIGHTS).is_file(), reason="embedded model weights not trained yet"
)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="performer probe")
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> EraPainter:
    painter = EraPainter()
    monkeypatch.setattr(performer.generators, "load_generator", lambda *a, **k: painter)
    return painter


def test_defaults_are_the_issue_example() -> None:
    args = parse()
    assert args.eras == "1850:2030:10" and args.seeds == 4 and args.out == Path("probe")


def test_guidance_sweep_with_held_parameters(fake_model: EraPainter, tmp_path: Path) -> None:
    argv = ["--sweep", "guidance=0:6:3", "--seeds", "2", "--first-seed", "7", "--set", "era=1990"]
    argv += ["--prompt", "a family at dinner", "--out", str(tmp_path), "--no-progress"]
    assert cli.run(parse(*argv)) == 0
    doc = json.loads((tmp_path / "probe.json").read_text())
    assert doc["sweep"] == "guidance" and doc["values"] == [0, 3, 6] and doc["seeds"] == [7, 8]
    assert doc["fixed"]["era"] == 1990 and doc["fixed"]["prompt"] == "a family at dinner"
    assert doc["spearman"] == {}, "no training records for a fake model"
    assert {s["guidance"] for s in fake_model.snapshots} == {0, 3, 6}
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--eras", "1800:1900:10"], "era"),
        (["--sweep", "prompt=1"], "cannot sweep"),
        (["--seeds", "0"], "--seeds"),
        (["--patch", "no-such-patch"], "no such patch"),
        (["--sweep", "guidance=0:2:1", "--reference", "on"], "only an era sweep"),
        (["--threads", "0"], "--threads: expected at least 1"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    fake_model: EraPainter,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    assert cli.run(parse(*argv, "--out", str(tmp_path), "--no-progress")) == 2
    err = capsys.readouterr().err
    assert err.startswith("performer probe: error:") and message in err


def test_take_report(tmp_path: Path) -> None:
    painter = EraPainter()
    with ProbeLog(tmp_path / "take.probe.jsonl") as log:
        for k, era in enumerate((1900.0, 1950.0, 2000.0)):
            snap = Snapshot(defaults()).replace(era=era)
            log.append(capture(painter(snap), snap, time=k * 2.0, frame=k * 60))
    argv = ["--take", str(tmp_path / "take.probe.jsonl"), "--out", str(tmp_path / "r")]
    assert cli.run(parse(*argv)) == 0
    assert "data:image/png;base64," in (tmp_path / "r" / "take.html").read_text()
    (tmp_path / "bad.json").write_text("{")
    assert cli.run(parse(*argv, "--against", str(tmp_path / "bad.json"))) == 2


@pytest.mark.slow
@needs_weights
def test_embedded_probe_compares_with_training_records(tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    argv = ["--eras", "1850,1940,1990", "--seeds", "1", "--out", str(tmp_path), "--no-progress"]
    assert cli.run(parse(*argv, "--threads", "1")) == 0
    assert torch.get_num_threads() == before, "threads restored after the probe"
    doc = json.loads((tmp_path / "probe.json").read_text())
    assert doc["model"].startswith("embedded:")
    assert set(doc["spearman"]) == {"saturation", "scanline", "warmth"}
    assert len(doc["reference"]["means"]["saturation"]) == 3


@pytest.mark.slow
def test_text_model_probe_draws_both_distance_maps(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    argv = ["--model", str(tiny_models["sd"]), "--device", "cpu", "--eras", "1850,1950,2020"]
    argv += ["--seeds", "1", "--width", "32", "--height", "32", "--out", str(tmp_path)]
    assert cli.run(parse(*argv, "--no-progress")) == 0
    doc = json.loads((tmp_path / "probe.json").read_text())
    assert set(doc["distances"]) == {"stats", "text"}
    assert (tmp_path / "distance-text.png").is_file()
    assert doc["spearman"] == {}, "training records are the embedded model's only"
