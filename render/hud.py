"""The HUD: a few lines of text alpha-blended over the top-left of the picture.

Text is rasterised with Pillow only when it changes, and at most every
:data:`REFRESH_S` while it keeps changing; each frame just draws a texture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    import moderngl
    from performer.render.compositor import Viewport

_HUD_SHADER = """
#version 330
uniform sampler2D u_text;
in vec2 v_screen;
out vec4 f_color;
void main() {
    f_color = texture(u_text, vec2(v_screen.x, 1.0 - v_screen.y));  // row 0 = top
}
"""

_PADDING = 6
_BACKDROP = (0, 0, 0, 160)  # a translucent box keeps text legible over bright frames
_INK = (255, 255, 255, 255)
#: how often changing text is drawn again. The HUD's frame rate and live values change
#: with every generated frame, and rasterising its 17 lines costs the display thread
#: ~7.5 ms (2-core EPYC), half of a 60 Hz period; at 4 Hz the numbers still read as live.
REFRESH_S = 0.25


def rasterise(lines: list[str], font_size: int) -> np.ndarray:
    """``lines`` drawn with Pillow's default font as an H×W×4 uint8 RGBA image."""
    font = ImageFont.load_default(size=font_size)
    text = "\n".join(lines)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font)
    width = max(int(right) - min(int(left), 0), 1) + 2 * _PADDING
    height = max(int(bottom) - min(int(top), 0), 1) + 2 * _PADDING
    image = Image.new("RGBA", (width, height), _BACKDROP)
    ImageDraw.Draw(image).multiline_text((_PADDING, _PADDING), text, font=font, fill=_INK)
    return np.asarray(image, dtype=np.uint8)


class Hud:
    """Owns the HUD texture; :class:`render.compositor.Compositor` drives it."""

    def __init__(self, ctx: moderngl.Context, vertex_shader: str, font_size: int = 14) -> None:
        if font_size <= 0:
            raise ValueError(f"hud font size must be positive, got {font_size}")
        self._ctx = ctx
        self._font_size = font_size
        self._program = ctx.program(vertex_shader=vertex_shader, fragment_shader=_HUD_SHADER)
        self._vao = ctx.vertex_array(self._program, [])
        self._lines: list[str] | None = None
        self._texture: moderngl.Texture | None = None
        self._drawn_at: float | None = None  # when the text was last rasterised

    @property
    def lines(self) -> list[str] | None:
        return None if self._lines is None else list(self._lines)

    def set_lines(self, lines: list[str] | None, now: float | None = None) -> None:
        """Show ``lines`` (``None`` hides the HUD). With ``now``, text that changed less
        than :data:`REFRESH_S` after the last rasterising waits: the caller sets the lines
        at every draw, so the newest are shown within one refresh and one draw."""
        import moderngl

        wanted = None if lines is None else list(lines)
        if wanted == self._lines:
            return
        shown, drawn = self._lines is not None, self._drawn_at
        recent = now is not None and drawn is not None and 0.0 <= now - drawn < REFRESH_S
        if shown and wanted is not None and recent:
            return
        if self._texture is not None:
            self._texture.release()
            self._texture = None
        self._lines, self._drawn_at = wanted, now
        if wanted is None:
            return
        rgba = rasterise(wanted, self._font_size)
        self._texture = self._ctx.texture((rgba.shape[1], rgba.shape[0]), 4, rgba.tobytes())
        # Drawn 1:1 on the pixel grid, so NEAREST keeps the glyphs crisp.
        self._texture.filter = (moderngl.NEAREST, moderngl.NEAREST)

    def draw(self, viewport: Viewport) -> None:
        """Blend the text into the top-left corner of ``viewport``, clipped to it."""
        if self._texture is None:
            return
        import moderngl

        x, y, _, height = viewport
        text_w, text_h = self._texture.size
        self._ctx.viewport = (x, y + height - text_h, text_w, text_h)
        self._ctx.scissor = viewport
        self._ctx.enable(moderngl.BLEND)
        # Keep destination alpha opaque: only colour is blended. (The stubs know only
        # the 2-tuple form; moderngl also takes separate colour and alpha factors.)
        self._ctx.blend_func = (  # type: ignore[assignment]
            moderngl.SRC_ALPHA,
            moderngl.ONE_MINUS_SRC_ALPHA,
            moderngl.ZERO,
            moderngl.ONE,
        )
        self._texture.use(location=0)
        self._vao.render(moderngl.TRIANGLES, vertices=3)
        self._ctx.disable(moderngl.BLEND)
        self._ctx.blend_func = (moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA)
        self._ctx.scissor = None
        self._ctx.viewport = viewport

    def release(self) -> None:
        if self._texture is not None:
            self._texture.release()
            self._texture = None
        self._lines = None
        self._vao.release()
        self._program.release()
