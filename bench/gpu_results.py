"""Collect the GPU run's rows into docs/gpu-results.json's format, or print its table.

    python bench/gpu_results.py out/a.json out/c.json --command "..." --out gpu-results.json
    python bench/gpu_results.py --table docs/gpu-results.json     # markdown, for benchmarks.md

Input files are the ``--json`` rows of bench/gpu_speed.py (a list of rows), of
bench/latency.py (one object with ``"latency"``) and of bench/control_preprocess.py (one
object with ``"preprocess"``); missing or broken files are reported and skipped, since a
run cut short still brings back what it measured. The output is ``{"device", "date",
"torch", "command", "rows": [{"model", "size", "steps", "mode", "runner", "fps",
"p50_ms", "p99_ms"}], "latency": [...], "preprocess": [...], "ratios": [...]}``, where a
ratio is ours over StreamDiffusion's frames per second for the same model, size, steps
and mode, measured in the same run. A mode is "txt2img" or "img2img", with the frame's
added conditioning after a "+" ("img2img+controlnet", "img2img+2controlnets",
"img2img+lora"): StreamDiffusion has no such rows, so they get no ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROW_KEYS = ("model", "size", "steps", "mode", "runner", "fps", "p50_ms", "p99_ms")
ANCHOR = "streamdiffusion"


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"gpu_results: {path}: skipped ({exc})", file=sys.stderr)
        return None


def collect(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Speed rows, latency results and preprocessor timings from the benches' JSON files."""
    found: dict[str, list[dict[str, Any]]] = {"rows": [], "latency": [], "preprocess": []}
    for path in paths:
        data = _read(path)
        if isinstance(data, list):
            found["rows"] += [{k: r[k] for k in ROW_KEYS} for r in data if isinstance(r, dict)]
        elif isinstance(data, dict) and "latency" in data:
            found["latency"].append(data["latency"])
        elif isinstance(data, dict) and isinstance(data.get("preprocess"), list):
            found["preprocess"] += data["preprocess"]
    return found


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of our rows over the anchor's row for the same model, size, steps and mode."""
    anchors = {
        (r["model"], r["size"], r["steps"], r["mode"]): r for r in rows if r["runner"] == ANCHOR
    }
    found = []
    for r in rows:
        anchor = anchors.get((r["model"], r["size"], r["steps"], r["mode"]))
        if r["runner"] != ANCHOR and anchor is not None and anchor["fps"] > 0:
            found.append(
                {
                    **{k: r[k] for k in ("model", "size", "steps", "mode", "runner")},
                    "over_streamdiffusion": r["fps"] / anchor["fps"],
                }
            )
    return found


def table(results: dict[str, Any]) -> str:
    """The results as markdown: one line of provenance, the rows, the ratios."""
    weights = "tiny configs" if "rehearsal" in results["device"] else "real-size architectures"
    lines = [
        f"{results['device']}, torch {results['torch']}, {results['date']}: "
        f"`{results['command']}` (random weights, {weights})",
        "",
        "| model | size | steps | mode | runner | fps | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['model']} | {r['size']}² | {r['steps']} | {r['mode']} | {r['runner']} | "
            f"{r['fps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    if results.get("ratios"):
        lines += ["", "| ours over StreamDiffusion | ratio |", "|---|---|"]
        for q in results["ratios"]:
            what = f"{q['model']} {q['size']}² {q['steps']} step {q['mode']} {q['runner']}"
            lines.append(f"| {what} | {q['over_streamdiffusion']:.2f}× |")
    for lat in results.get("latency", []):
        lines += ["", f"Knob to photon: {lat}"]
    if results.get("preprocess"):
        lines += ["", "| preprocessor | size | device | p50 ms | p99 ms |", "|---|---|---|---|---|"]
        for q in results["preprocess"]:
            lines.append(
                f"| {q['preprocessor']} | {q['size']}² | {q['device']} | "
                f"{q['p50_ms']:.2f} | {q['p99_ms']:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="the benches' --json files")
    parser.add_argument("--command", default="bash bench/gpu_check.sh", help="what was run")
    parser.add_argument("--out", type=Path, help="write the results here")
    parser.add_argument("--table", type=Path, help="print this results file as markdown")
    args = parser.parse_args(argv)
    if args.table:
        results = _read(args.table)
        if not isinstance(results, dict):
            return 2
        print(table(results))
        return 0
    import torch

    found = collect(args.files)
    cuda = torch.cuda.is_available()
    results = {
        "device": torch.cuda.get_device_name() if cuda else "CPU (rehearsal, tiny configs)",
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "command": args.command,
        **found,
        "ratios": ratios(found["rows"]),
    }
    text = json.dumps(results, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
