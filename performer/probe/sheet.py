"""The contact sheet: one row per seed, one column per swept value, labelled.

Small frames (the embedded model's 64×64) are enlarged by whole pixels, nearest
neighbour, so grain, scanlines and JPEG blocks stay as the model drew them; large
frames are reduced with a box filter.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from performer.probe.sweep import ProbeResult

BACKGROUND = (24, 24, 24)
INK = (230, 230, 230)
MUTED = (150, 150, 150)
GAP = 4


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int) -> Font:
    """Pillow's own scalable font (every Pillow wheel has FreeType), else its bitmap one."""
    return ImageFont.load_default(size=size)


def fit(image: Image.Image, cell: int) -> Image.Image:
    """``image`` scaled to ``cell`` pixels on its longer side."""
    w, h = image.size
    scale = cell / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    return image.resize(size, resample)


def auto_cell(columns: int, frame: int, width: int = 1500) -> int:
    """A cell size that fits ``columns`` in about ``width`` pixels (48..128 where it can),
    a whole multiple of ``frame`` (the frames' longer side) when they are enlarged,
    so every pixel of a frame is drawn the same size."""
    target = max(48, min(128, width // max(1, columns)))
    return frame * (target // frame) if frame <= target else target


def contact_sheet(result: ProbeResult, cell: int | None = None, title: str = "") -> Image.Image:
    """The sheet as an RGB image; ``title`` goes above it (the prompt and the model)."""
    values, seeds = result.sweep.values, result.seeds
    if not result.frames:
        raise ValueError("sheet: the probe has no frames")
    if cell is None:
        cell = auto_cell(len(values), max(result.frames[0].image.shape[:2]))
    if cell < 16:
        raise ValueError(f"sheet cell: expected at least 16 pixels, got {cell}")
    label_size, title_size = max(11, cell // 9), max(12, cell // 8)
    label_font, title_font = font(label_size), font(title_size)
    left = int(max(label_font.getlength(f"seed {s}") for s in seeds)) + 3 * GAP
    top = (title_size + label_size + 3 * GAP if title else 0) + label_size + 2 * GAP
    width = left + len(values) * (cell + GAP)
    height = top + len(seeds) * (cell + GAP)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((GAP, GAP), title, fill=INK, font=title_font)
        draw.text(
            (GAP, 2 * GAP + title_size),
            f"{result.sweep.name} sweep, {len(seeds)} seeds; model {result.identity}",
            fill=MUTED,
            font=label_font,
        )
    for j, value in enumerate(values):
        x = left + j * (cell + GAP) + cell // 2
        label = result.sweep.label(value)
        draw.text((x, top - GAP), label, fill=INK, font=label_font, anchor="ms")
    for i, seed in enumerate(seeds):
        y = top + i * (cell + GAP)
        label = f"seed {seed}"
        draw.text((left - GAP, y + cell // 2), label, fill=MUTED, font=label_font, anchor="rm")
        for j in range(len(values)):
            frame = fit(Image.fromarray(result.frame(i, j).image), cell)
            x = left + j * (cell + GAP)
            sheet.paste(frame, (x + (cell - frame.width) // 2, y + (cell - frame.height) // 2))
    return sheet
