"""The compositor drawn for real on a headless EGL context, checked by reading pixels back."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from performer.render import hud
from performer.render.compositor import Compositor, letterbox_scale
from performer.render.headless import Headless

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

MakeHeadless = Callable[[int, int], Headless]
Card = Callable[[int, int], np.ndarray]


def show(out: Headless, comp: Compositor, now: float = 10.0, crossfade_s: float = 0.0):
    out.use()
    comp.draw(now, out.viewport, crossfade_s)
    comp.draw_hud(out.viewport)
    return out.read()


def flat(width: int, height: int, colour: tuple[int, int, int]) -> np.ndarray:
    return np.full((height, width, 3), colour, np.uint8)


def test_picture_is_upright_and_colours_land_where_drawn(make_headless: MakeHeadless, card: Card):
    out = make_headless(64, 48)
    comp = Compositor(out.ctx)
    comp.push(card(64, 48), now=0.0)
    image = show(out, comp)
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    assert tuple(image[8, 8]) == WHITE  # the square is at the top-left …
    assert tuple(image[40, 8]) == RED  # … not the bottom-left
    assert tuple(image[24, 10]) == RED
    assert tuple(image[24, 54]) == BLUE
    assert tuple(image[8, 56]) == BLUE
    np.testing.assert_array_equal(image, card(64, 48))  # same size: texel-exact


def test_odd_widths_upload_and_read_back_exactly(make_headless: MakeHeadless, card: Card):
    out = make_headless(33, 17)  # rows of 99 bytes: no 4-byte alignment anywhere
    comp = Compositor(out.ctx)
    comp.push(card(33, 17), now=0.0)
    np.testing.assert_array_equal(show(out, comp), card(33, 17))


def test_smaller_frame_is_scaled_up(make_headless: MakeHeadless, card: Card):
    out = make_headless(64, 48)
    comp = Compositor(out.ctx)
    comp.push(card(32, 24), now=0.0)  # square at rows/cols 2..6 → 4..12 on screen
    image = show(out, comp)
    assert tuple(image[8, 8]) == WHITE
    assert tuple(image[30, 10]) == RED
    assert tuple(image[30, 54]) == BLUE


def test_wide_frame_is_letterboxed_with_black_bars(make_headless: MakeHeadless, card: Card):
    out = make_headless(64, 64)
    comp = Compositor(out.ctx)
    comp.push(card(64, 32), now=0.0)  # 2:1 in a square: picture on rows 16..48
    image = show(out, comp)
    assert (image[:15] == 0).all() and (image[49:] == 0).all()
    assert tuple(image[20, 4]) == WHITE
    assert tuple(image[40, 10]) == RED
    assert tuple(image[32, 50]) == BLUE


def test_tall_frame_is_pillarboxed(make_headless: MakeHeadless, card: Card):
    out = make_headless(64, 64)
    comp = Compositor(out.ctx)
    comp.push(card(32, 64), now=0.0)  # 1:2 in a square: picture on columns 16..48
    image = show(out, comp)
    assert (image[:, :15] == 0).all() and (image[:, 49:] == 0).all()
    assert tuple(image[40, 20]) == RED
    assert tuple(image[40, 44]) == BLUE


def test_viewport_is_bottom_left_origin(make_headless: MakeHeadless, card: Card):
    out = make_headless(64, 48)
    comp = Compositor(out.ctx)
    comp.push(card(64, 48), now=0.0)
    out.use()
    out.ctx.clear(0.0, 1.0, 0.0)
    comp.draw(10.0, (0, 0, 32, 24), 0.0)  # GL's bottom-left quadrant
    image = out.read()
    assert (image[:24] == (0, 255, 0)).all()  # top half untouched
    assert (image[24:, 32:] == (0, 255, 0)).all()
    assert tuple(image[28, 4]) == WHITE  # the picture's top-left, scaled by 1/2
    assert tuple(image[40, 28]) == BLUE


def test_letterbox_scale():
    assert letterbox_scale((200, 100), (100, 100)) == (1.0, 0.5)
    assert letterbox_scale((100, 200), (100, 100)) == (0.5, 1.0)
    assert letterbox_scale((160, 90), (1920, 1080)) == pytest.approx((1.0, 1.0))


def test_crossfade_midpoint_is_the_average(make_headless: MakeHeadless):
    out = make_headless(32, 32)
    comp = Compositor(out.ctx)
    first, second = flat(32, 32, (200, 40, 0)), flat(32, 32, (0, 80, 240))
    comp.push(first, now=0.0)
    assert tuple(show(out, comp, now=1.0, crossfade_s=0.5)[16, 16]) == (200, 40, 0)
    comp.push(second, now=1.0)
    assert tuple(show(out, comp, now=1.0, crossfade_s=0.5)[16, 16]) == (200, 40, 0)
    middle = show(out, comp, now=1.25, crossfade_s=0.5)
    np.testing.assert_allclose(middle[16, 16], (100, 60, 120), atol=2)
    assert tuple(show(out, comp, now=1.5, crossfade_s=0.5)[16, 16]) == (0, 80, 240)


def test_first_frame_fades_in_from_black(make_headless: MakeHeadless):
    out = make_headless(16, 16)
    comp = Compositor(out.ctx)
    assert (show(out, comp) == 0).all()  # nothing pushed yet
    comp.push(flat(16, 16, (200, 200, 200)), now=0.0)
    np.testing.assert_allclose(show(out, comp, now=0.25, crossfade_s=1.0)[8, 8], 50, atol=2)


def test_zero_crossfade_is_a_hard_cut(make_headless: MakeHeadless):
    out = make_headless(16, 16)
    comp = Compositor(out.ctx)
    comp.push(flat(16, 16, RED), now=0.0)
    show(out, comp, now=5.0)
    comp.push(flat(16, 16, BLUE), now=5.0)
    assert tuple(show(out, comp, now=5.0, crossfade_s=0.0)[8, 8]) == BLUE


def test_push_mid_fade_starts_from_the_blend_on_screen(make_headless: MakeHeadless):
    out = make_headless(16, 16)
    comp = Compositor(out.ctx)
    comp.push(flat(16, 16, (200, 0, 0)), now=0.0)
    show(out, comp, now=1.0, crossfade_s=0.5)
    comp.push(flat(16, 16, (0, 200, 0)), now=1.0)
    on_screen = show(out, comp, now=1.25, crossfade_s=0.5)[8, 8]  # ≈ (100, 100, 0)
    comp.push(flat(16, 16, (0, 0, 200)), now=1.25)
    restarted = show(out, comp, now=1.25, crossfade_s=0.5)[8, 8]
    np.testing.assert_allclose(restarted, on_screen, atol=1)
    halfway = show(out, comp, now=1.5, crossfade_s=0.5)[8, 8]
    np.testing.assert_allclose(halfway, (50, 50, 100), atol=2)
    assert tuple(show(out, comp, now=2.0, crossfade_s=0.5)[8, 8]) == (0, 0, 200)


def test_frame_size_changes_mid_fade(make_headless: MakeHeadless):
    out = make_headless(64, 64)
    comp = Compositor(out.ctx)
    comp.push(flat(64, 32, (200, 0, 0)), now=0.0)
    show(out, comp, now=1.0, crossfade_s=0.5)
    comp.push(flat(32, 32, (0, 200, 0)), now=1.0)
    show(out, comp, now=1.25, crossfade_s=0.5)
    comp.push(flat(32, 64, (0, 0, 200)), now=1.25)  # bakes the 2:1/1:1 blend first
    np.testing.assert_allclose(
        show(out, comp, now=1.5, crossfade_s=0.5)[32, 32], (50, 50, 100), atol=2
    )
    image = show(out, comp, now=2.0, crossfade_s=0.5)
    assert tuple(image[32, 32]) == (0, 0, 200)
    assert (image[:, :15] == 0).all() and (image[:, 49:] == 0).all()  # pillarboxed


def test_same_size_frames_reuse_textures(make_headless: MakeHeadless, card: Card):
    out = make_headless(32, 32)
    comp = Compositor(out.ctx)
    for step in range(3):
        comp.push(card(32, 32), now=float(step))
        show(out, comp, now=step + 0.5, crossfade_s=0.25)
    settled = comp.allocations
    for step in range(3, 10):
        comp.push(card(32, 32), now=float(step))
        show(out, comp, now=step + 0.1, crossfade_s=0.25)  # mid-fade pushes too
    assert comp.allocations == settled
    comp.push(card(48, 32), now=20.0)
    assert comp.allocations > settled


def count_rasterising(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The lines of text the HUD rasterises from now on, in order."""
    rasterised: list[list[str]] = []
    real_rasterise = hud.rasterise

    def counting_rasterise(lines: list[str], font_size: int) -> np.ndarray:
        rasterised.append(lines)
        return real_rasterise(lines, font_size)

    monkeypatch.setattr(hud, "rasterise", counting_rasterise)
    return rasterised


def test_hud_overlays_the_top_left_and_hides(
    make_headless: MakeHeadless, card: Card, monkeypatch: pytest.MonkeyPatch
):
    out = make_headless(256, 192)
    comp = Compositor(out.ctx)
    comp.push(card(256, 192), now=0.0)
    plain = show(out, comp)
    rasterised = count_rasterising(monkeypatch)
    comp.set_hud(["era 1925", "guidance 0.0"])
    comp.set_hud(["era 1925", "guidance 0.0"])  # unchanged text: not drawn again
    assert len(rasterised) == 1
    with_hud = show(out, comp)
    changed = (with_hud != plain).any(axis=2)
    rows, cols = np.nonzero(changed)
    assert changed.sum() > 100
    assert rows.min() == 0 and cols.min() == 0  # anchored at the top-left corner
    assert rows.max() < 96 and cols.max() < 128
    assert (with_hud[changed].max(axis=1) > 200).any()  # light ink somewhere
    comp.set_hud(None)
    np.testing.assert_array_equal(show(out, comp), plain)


def test_changing_hud_text_is_rasterised_a_few_times_a_second(
    make_headless: MakeHeadless, card: Card, monkeypatch: pytest.MonkeyPatch
):
    """The HUD's frame rate changes with every generated frame: at 60 draws a second,
    each with new text, it is rasterised at most every REFRESH_S (it was 120 times in
    2 s, ~7.5 ms each on the display thread), and the newest text still shows."""
    out = make_headless(128, 96)
    comp = Compositor(out.ctx)
    comp.push(card(128, 96), now=0.0)
    rasterised = count_rasterising(monkeypatch)
    draws = [n / 60 for n in range(120)]
    for n, now in enumerate(draws):
        comp.set_hud([f"{n} fps"], now)
    assert len(rasterised) <= 2.0 / hud.REFRESH_S + 1
    last = draws[-1]
    for later in (last + 1 / 60 * k for k in range(1, 20)):  # the text stopped changing
        comp.set_hud(["119 fps"], later)
    assert rasterised[-1] == ["119 fps"], "the newest text shows within one refresh"
    comp.set_hud(None, last + 1.0)
    comp.set_hud(["shown at once"], last + 1.0 + 1 / 60)
    assert rasterised[-1] == ["shown at once"], "a HUD switched on shows without waiting"


def test_bad_frames_are_refused(make_headless: MakeHeadless):
    out = make_headless(16, 16)
    comp = Compositor(out.ctx)
    with pytest.raises(ValueError, match="uint8"):
        comp.push(np.zeros((16, 16, 3), np.float32), now=0.0)
    with pytest.raises(ValueError, match="H×W×3"):
        comp.push(np.zeros((16, 16, 4), np.uint8), now=0.0)


def test_release_is_safe_twice_and_final(make_headless: MakeHeadless):
    out = make_headless(16, 16)
    comp = Compositor(out.ctx)
    comp.push(flat(16, 16, RED), now=0.0)
    comp.release()
    comp.release()
    with pytest.raises(RuntimeError, match="after release"):
        comp.draw(1.0, out.viewport, 0.0)


def test_headless_read_into_and_close_twice(make_headless: MakeHeadless):
    out = make_headless(8, 4)
    buffer = np.empty((4, 8, 3), np.uint8)
    out.use()
    out.ctx.clear(1.0, 0.0, 0.0)
    assert out.read(buffer) is buffer and (buffer == RED).all()
    with pytest.raises(ValueError, match="4×8×3"):
        out.read(np.empty((8, 4, 3), np.uint8))
    out.close()
    out.close()
    with pytest.raises(RuntimeError, match="after close"):
        out.read()


def test_flash_whitens_the_picture_and_is_never_baked(make_headless: MakeHeadless, card: Card):
    out = make_headless(64, 48)
    comp = Compositor(out.ctx)
    comp.push(card(64, 48), now=0.0)
    out.use()
    comp.draw(1.0, out.viewport, 0.0, flash=1.0)
    assert (out.read() == 255).all(), "full flash: white"
    out.use()
    comp.draw(1.0, out.viewport, 0.0, flash=0.5)
    half = out.read()
    assert tuple(int(v) for v in half[24, 54]) == pytest.approx((127, 127, 255), abs=2)  # blue
    comp.draw(1.5, out.viewport, 10.0, flash=1.0)  # flashing mid-fade …
    comp.push(card(64, 48)[::-1].copy(), now=1.5)  # … then a push bakes the blend
    image = show(out, comp)
    assert not (image == 255).all(), "the flash stayed on the display, not in the frames"


def test_a_push_before_every_draw_still_moves_the_picture(make_headless: MakeHeadless):
    """A generator faster than the display pushes just before every draw, at the same
    instant. Each draw must move to the newer frame; it once showed the first forever."""
    out = make_headless(8, 8)
    comp = Compositor(out.ctx)
    shown = []
    for i in range(5):
        now = i / 30
        comp.push(flat(8, 8, (40 * (i + 1),) * 3), now=now)
        shown.append(int(show(out, comp, now=now, crossfade_s=0.5 / 60)[4, 4, 0]))
    assert shown[1:] == [80, 120, 160, 200]  # each draw: the frame pushed at its tick


@pytest.mark.parametrize("ratio", [0.2, 0.5, 1.0, 1.7, 3.0, 10.0])
@pytest.mark.parametrize("crossfade", [0.0, 0.5, 1.0])
def test_the_picture_follows_the_newest_frame_at_any_rate(
    make_headless: MakeHeadless, ratio: float, crossfade: float
):
    """Generator at ``ratio`` × a 30 Hz display, each frame brighter than the last, the
    cross-fade a ``crossfade`` share of the generator's interval (as the stage sets it).
    At every draw the picture moves toward the newest frame, and it is never more than
    one fade and one display period behind it."""
    display_hz, generator_hz = 30.0, 30.0 * ratio
    step = 1 if ratio >= 1 else 5  # levels per frame: small fades must still show
    count = 200 if ratio >= 1 else 40
    pushes = [(i / generator_hz, 10 + step * i) for i in range(count)]
    fade_s = crossfade / generator_hz
    out = make_headless(4, 4)
    comp = Compositor(out.ctx)
    seen, pushed, previous = 0, 0, None
    end = pushes[-1][0] + fade_s + 2 / display_hz
    for tick in range(int(end * display_hz) + 1):
        now = tick / display_hz
        arrived = False
        while pushed < len(pushes) and pushes[pushed][0] <= now:
            newest = pushes[pushed]
            pushed += 1
            arrived = True
        if arrived:  # the stage pushes only the latest frame, at the tick's time
            comp.push(flat(4, 4, (newest[1],) * 3), now=now)
        value = int(show(out, comp, now=now, crossfade_s=fade_s)[2, 2, 0])
        if previous is not None:
            assert value >= previous, f"tick {tick}: the picture went back"
            if arrived and previous < newest[1]:
                assert value > previous, f"tick {tick}: a new frame, and the picture stood"
        # never behind the newest frame that came one fade and one display period ago
        due = [v for t, v in pushes if t <= now - fade_s - 1 / display_hz]
        if due:
            assert value >= due[-1] - 1, f"tick {tick}: {value} lags {due[-1]}"
        previous, seen = value, seen + 1
    assert previous == pushes[-1][1]  # it settles on the last frame
