"""Everything a probe writes: sheet, tables, plots, distance maps and one HTML report.

``write_probe(result, out)`` lays out::

    out/sheet.png             the contact sheet
    out/frames.csv            one row per frame: seed, swept value, every statistic
    out/means.csv             one row per swept value: the mean over seeds
    out/probe.json            all of the above, the fixed parameters, distances, figures
    out/plots/<stat>.png      each statistic against the swept value
    out/distance-<kind>.png   the heat maps (stats; text where the model has one)

Every name in a file name passes through :func:`performer.control.names.safe_name`, so none can
leave ``out``.
    out/report.html           one self-contained file: images inlined as data URIs

The HTML has no external assets, scripts or fonts, so it can be mailed as it is.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from performer.control.names import safe_name
from performer.probe.distance import closest_pairs, heat_map
from performer.probe.plots import hue_chart, line_plot
from performer.probe.sheet import contact_sheet
from performer.probe.stats import HUE_KEYS, KEYS, SCALAR_KEYS
from performer.probe.sweep import ProbeResult


@dataclass
class Extras:
    """What goes into a report beside the frames: ground truth and its figures."""

    reference: dict[str, list[float]] = field(default_factory=dict)
    reference_name: str = ""
    agreement: dict[str, float] = field(default_factory=dict)


def png_data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _tables(result: ProbeResult, out: Path) -> dict[str, list[float]]:
    name = result.sweep.name
    with (out / "frames.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seed", name, *KEYS])
        for frame in result.frames:
            writer.writerow(
                [frame.seed, f"{frame.value:g}", *(f"{frame.stats[k]:.6g}" for k in KEYS)]
            )
    means = result.means(KEYS)
    with (out / "means.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([name, *KEYS])
        for j, value in enumerate(result.sweep.values):
            writer.writerow([f"{value:g}", *(f"{means[k][j]:.6g}" for k in KEYS)])
    return means


def write_probe(
    result: ProbeResult,
    out: Path,
    title: str = "",
    extras: Extras | None = None,
    cell: int | None = None,
) -> Path:
    """Write every output of ``result`` under ``out``; returns the report's path."""
    extras = extras or Extras()
    (out / "plots").mkdir(parents=True, exist_ok=True)
    sheet = contact_sheet(result, cell, title)
    sheet.save(out / "sheet.png", optimize=True)
    means = _tables(result, out)
    xs = list(result.sweep.values)
    plots = {}
    for key in SCALAR_KEYS:
        plot = line_plot(
            xs, result.by_value(key), key, result.sweep.name, extras.reference.get(key)
        )
        plot.save(out / "plots" / f"{safe_name(key)}.png")
        plots[key] = plot
    hues = np.stack([result.by_value(k).mean(axis=0) for k in HUE_KEYS], axis=1)
    saturation = result.means(["saturation"])["saturation"]
    plots["hue"] = hue_chart(xs, hues, "hue (bar height: saturation)", saturation)
    plots["hue"].save(out / "plots" / "hue.png")
    labels = [result.sweep.label(v) for v in xs]
    maps = {}
    for kind, matrix in result.distances.items():
        maps[kind] = heat_map(matrix, labels, f"distance between {result.sweep.name}s: {kind}")
        maps[kind].save(out / f"distance-{safe_name(kind)}.png")  # kinds are any caller's
    document: dict[str, Any] = {
        "title": title,
        **result.meta(),
        "frames": [{"seed": f.seed, result.sweep.name: f.value, **f.stats} for f in result.frames],
        "means": means,
        "distances": {kind: m.round(6).tolist() for kind, m in result.distances.items()},
        "reference": {"name": extras.reference_name, "means": extras.reference},
        "spearman": extras.agreement,
    }
    (out / "probe.json").write_text(json.dumps(document, indent=1) + "\n")
    page = out / "report.html"
    page.write_text(_html(result, title, sheet, plots, maps, means, extras), encoding="utf-8")
    return page


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:16px;background:#fafafa;color:#222;
max-width:1600px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd;background:#fff}
.plots{display:flex;flex-wrap:wrap;gap:6px}
table{border-collapse:collapse;font-size:12px} td,th{padding:2px 6px;text-align:right}
tr:nth-child(even){background:#eee} .muted{color:#666} .wide{overflow-x:auto}
"""


def _img(image: Image.Image, alt: str, css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return f'<img{cls} alt="{html.escape(alt)}" src="{png_data_uri(image)}">'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<div class="wide"><table><tr>{head}</tr>{body}</table></div>'


def _html(
    result: ProbeResult,
    title: str,
    sheet: Image.Image,
    plots: dict[str, Image.Image],
    maps: dict[str, Image.Image],
    means: dict[str, list[float]],
    extras: Extras,
) -> str:
    name, meta = result.sweep.name, result.meta()
    fixed = ", ".join(f"{k}={v!r}" for k, v in meta["fixed"].items())
    parts = [
        f"<h1>{html.escape(title or 'performer probe')}</h1>",
        f'<p class="muted">model {html.escape(result.identity)}; sweep {html.escape(name)} over '
        f"{len(result.sweep.values)} values × {len(result.seeds)} seeds "
        f"({result.seconds:.1f} s). Fixed: {html.escape(fixed)}</p>",
        "<h2>Contact sheet</h2>",
        _img(sheet, "contact sheet", "sheet"),
        f"<h2>Statistics against {html.escape(name)}</h2>",
        '<p class="muted">dots: each seed; line: mean over seeds'
        + (f"; dashed: {html.escape(extras.reference_name)}" if extras.reference else "")
        + "</p>",
        '<div class="plots">' + "".join(_img(p, k, "plot") for k, p in plots.items()) + "</div>",
    ]
    if extras.agreement:
        rows = [[html.escape(k), f"{rho:.3f}"] for k, rho in extras.agreement.items()]
        parts += ["<h2>Agreement with the training records (Spearman's rho)</h2>"]
        parts += [_table(["statistic", "rho"], rows)]
    labels = [result.sweep.label(v) for v in result.sweep.values]
    for kind, image in maps.items():
        pairs = closest_pairs(result.distances[kind], labels)
        parts += [f"<h2>Distance between {html.escape(name)}s: {html.escape(kind)}</h2>"]
        parts += [_img(image, f"distance {kind}", "heat")]
        parts += [f'<p class="muted">closest: {html.escape("; ".join(pairs))}</p>']
    rows = [
        [html.escape(labels[j]), *(f"{means[k][j]:.4g}" for k in SCALAR_KEYS)]
        for j in range(len(labels))
    ]
    parts += [
        f"<h2>Mean statistics per {html.escape(name)}</h2>",
        _table([name, *SCALAR_KEYS], rows),
    ]
    frame_rows = [
        [str(f.seed), f"{f.value:g}", *(f"{f.stats[k]:.4g}" for k in KEYS)] for f in result.frames
    ]
    parts += ["<details><summary>Every frame</summary>"]
    parts += [_table(["seed", name, *KEYS], frame_rows), "</details>"]
    body = "\n".join(parts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title or 'performer probe')}</title><style>{_STYLE}</style>"
        f"</head><body>\n{body}\n</body></html>\n"
    )


def write_take(
    records: list[dict[str, Any]],
    out: Path,
    title: str = "",
    probe: dict[str, Any] | None = None,
) -> Path:
    """A take's live captures as one self-contained HTML page (``out/take.html``);
    with a ``probe.json``, also the era each captured frame looked like."""
    from performer.probe.capture import looks_like, performance_plots

    out.mkdir(parents=True, exist_ok=True)
    plots = performance_plots(records, probe=probe)
    if probe is not None:
        records = [
            {**r, "params": {**r["params"], "looks_like": seen}}
            for r, seen in zip(records, looks_like(records, probe), strict=True)
        ]
    played = sorted({k for r in records for k in r["params"]})
    header = ["time", "frame", *played, *SCALAR_KEYS]
    rows = [
        [
            f"{float(r['time']):.2f}",
            str(r.get("frame", "")),
            *(html.escape(str(r["params"].get(k, ""))) for k in played),
            *(f"{float(r['stats'][k]):.4g}" for k in SCALAR_KEYS),
        ]
        for r in records
    ]
    name = title or "performer take: probe captures"
    body = "\n".join(
        [
            f"<h1>{html.escape(name)}</h1>",
            f'<p class="muted">{len(records)} captures</p>',
            '<div class="plots">' + "".join(_img(p, "capture plot", "plot") for p in plots),
            "</div><h2>Captures</h2>",
            _table(header, rows),
        ]
    )
    page = out / "take.html"
    page.write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(name)}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n",
        encoding="utf-8",
    )
    return page
