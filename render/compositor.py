"""The compositor: generated frames in, a cross-faded, letterboxed picture out.

It draws into whatever framebuffer is bound on the given ``moderngl.Context``, so the
window and the headless renderer run the same code. Frames arrive with row 0 = the top
of the image; the shader flips them so the picture is upright on screen and in any
framebuffer read back with :meth:`render.headless.Headless.read`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from performer.render.hud import Hud

if TYPE_CHECKING:
    import moderngl

Viewport = tuple[int, int, int, int]
"""``(x, y, width, height)`` in framebuffer pixels, origin bottom-left (GL convention)."""

_QUAD_VERTEX_SHADER = """
#version 330
out vec2 v_screen;  // 0..1 across the viewport, y up
void main() {
    // One triangle that covers the viewport: no vertex buffer needed.
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    v_screen = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

_PICTURE_VERTEX_SHADER = """
#version 330
uniform vec2 u_scale_prev;  // the frame's share of the viewport, per axis (letterbox)
uniform vec2 u_scale_cur;
uniform bool u_y_down;      // true: image top at viewport top; false: baking into a texture
out vec2 v_prev;            // texture coordinates, outside 0..1 in the black bars
out vec2 v_cur;
void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    // Texture row 0 is the image's top row, so image y grows downwards.
    vec2 pos = u_y_down ? vec2(corner.x, 1.0 - corner.y) : corner;
    // Linear in screen position, so computed per vertex: the fragments stay cheap.
    v_prev = (pos - 0.5) / u_scale_prev + 0.5;
    v_cur = (pos - 0.5) / u_scale_cur + 0.5;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

_PICTURE_SHADER = """
#version 330
// FADE_DEFINE
uniform sampler2D u_prev;
uniform sampler2D u_cur;
uniform float u_mix;
in vec2 v_prev;
in vec2 v_cur;
uniform float u_flash;  // 0..1 of white over the picture (display only, never baked)
out vec4 f_color;

float inside(vec2 uv) {
    vec2 within = step(vec2(0.0), uv) * step(uv, vec2(1.0));
    return within.x * within.y;
}

void main() {
    vec3 color = texture(u_cur, v_cur).rgb * inside(v_cur);
#ifdef FADE
    color = mix(texture(u_prev, v_prev).rgb * inside(v_prev), color, u_mix);
#endif
    f_color = vec4(mix(color, vec3(1.0), u_flash), 1.0);
}
"""


def letterbox_scale(frame_size: tuple[int, int], area_size: tuple[int, int]) -> tuple[float, float]:
    """The share of ``area_size`` (w, h) a frame of ``frame_size`` (w, h) fills, per axis."""
    frame_aspect = frame_size[0] / frame_size[1]
    area_aspect = area_size[0] / area_size[1]
    if frame_aspect > area_aspect:
        return 1.0, area_aspect / frame_aspect
    return frame_aspect / area_aspect, 1.0


def _uniform(program: moderngl.Program, name: str) -> moderngl.Uniform:
    import moderngl

    member = program[name]
    if not isinstance(member, moderngl.Uniform):
        raise TypeError(f"shader member {name!r} is a {type(member).__name__}, not a uniform")
    return member


def _check_frame(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            f"frame must be an H×W×3 uint8 RGB array, got shape {frame.shape} dtype {frame.dtype}"
        )
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty: shape {frame.shape}")
    return np.ascontiguousarray(frame)


class _Picture:
    """One compiled variant of the picture shader: with the cross-fade or without.

    Outside a fade one texture is enough; on a software rasteriser (llvmpipe) the
    separate program halves the draw time, where a branch on ``u_mix`` did not.
    """

    def __init__(self, ctx: moderngl.Context, fade: bool) -> None:
        source = _PICTURE_SHADER.replace("// FADE_DEFINE", "#define FADE" if fade else "")
        self.program = ctx.program(vertex_shader=_PICTURE_VERTEX_SHADER, fragment_shader=source)
        self.vao = ctx.vertex_array(self.program, [])
        _uniform(self.program, "u_cur").value = 1
        self._scale_cur = _uniform(self.program, "u_scale_cur")
        self._y_down = _uniform(self.program, "u_y_down")
        self._flash = _uniform(self.program, "u_flash")
        self._fade = fade
        if fade:  # the compiler drops these from the other variant
            _uniform(self.program, "u_prev").value = 0
            self._scale_prev = _uniform(self.program, "u_scale_prev")
            self._mix = _uniform(self.program, "u_mix")

    def render(
        self,
        scale_prev: tuple[float, float],
        scale_cur: tuple[float, float],
        mix: float,
        y_down: bool,
        flash: float = 0.0,
    ) -> None:
        import moderngl

        self._scale_cur.value = scale_cur
        self._y_down.value = y_down
        self._flash.value = flash
        if self._fade:
            self._scale_prev.value = scale_prev
            self._mix.value = mix
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        self.vao.release()
        self.program.release()


class Compositor:
    """Cross-fades between generated frames and overlays the HUD.

    ``push`` a frame whenever the generator makes one; ``draw`` at the display's rate.
    The fade always starts from what the last ``draw`` showed, *at the time it showed
    it*, so a frame pushed mid-fade continues from the blended picture rather than
    jumping, and every draw moves toward the newest frame by the time that passed since
    the draw before. That holds whatever the ratio of the two rates: a generator faster
    than the display pushes before every draw, and a fade that restarted at each push
    would never leave its first picture.
    """

    def __init__(self, ctx: moderngl.Context, hud_font_size: int = 14) -> None:
        self._ctx = ctx
        self._fading = _Picture(ctx, fade=True)
        self._settled = _Picture(ctx, fade=False)
        self._hud = Hud(ctx, _QUAD_VERTEX_SHADER, font_size=hud_font_size)
        self.allocations = 0
        """Textures allocated so far (a diagnostic: a steady frame size adds none)."""
        # Before the first frame the picture fades in from black.
        self._prev = self._new_texture(np.zeros((1, 1, 3), np.uint8))
        self._cur: moderngl.Texture | None = None
        self._spare: moderngl.Texture | None = None
        self._t_push = 0.0  # when the fade to the current frame started
        self._t_drawn: float | None = None  # when the last draw was (None: not yet)
        self._shown_mix = 1.0
        self._released = False

    # -- frames -------------------------------------------------------------------------

    def push(self, frame: np.ndarray, now: float) -> None:
        """Show ``frame`` (H×W×3 uint8 RGB, row 0 = top), fading in from ``now``."""
        frame = _check_frame(frame)
        self._check_alive()
        if self._cur is None:
            self._cur = self._upload(None, frame)
        elif self._shown_mix >= 1.0:
            # The screen shows the current frame: it becomes the start of the fade.
            target, self._spare = self._spare, self._prev
            self._prev, self._cur = self._cur, self._upload(target, frame)
        elif self._shown_mix <= 0.0:
            # The current frame was never seen: replace it, keep fading from prev.
            self._cur = self._upload(self._cur, frame)
        else:
            # Mid-fade: freeze the blend on screen as the new starting picture.
            baked = self._bake(self._spare, self._shown_mix)
            self._spare, self._prev = self._prev, baked
            self._cur = self._upload(self._cur, frame)
        # The picture the fade starts from was on screen at the last draw: the fade starts
        # there, so the next draw has already moved by one display period.
        drawn = self._t_drawn
        self._t_push = now if drawn is None else min(drawn, now)
        self._shown_mix = 0.0

    def draw(self, now: float, viewport: Viewport, crossfade_s: float, flash: float = 0.0) -> None:
        """Draw the picture over ``viewport`` of the bound framebuffer, ``flash`` (0..1)
        of white over it. The HUD is drawn apart (:meth:`draw_hud`), after the picture
        is read for a take or an output: it is the performer's, not the audience's."""
        self._check_alive()
        if viewport[2] <= 0 or viewport[3] <= 0:
            return  # a minimised window has a 0×0 framebuffer
        if self._cur is None:
            mix = 0.0
        elif crossfade_s <= 0.0:
            mix = 1.0
        else:
            mix = min(max((now - self._t_push) / crossfade_s, 0.0), 1.0)
        self._draw_picture(viewport, mix, y_down=True, flash=flash)
        self._shown_mix = mix
        self._t_drawn = now

    def draw_hud(self, viewport: Viewport) -> None:
        """Overlay the HUD (:meth:`set_hud`) on what was drawn over ``viewport``."""
        self._check_alive()
        if viewport[2] > 0 and viewport[3] > 0:
            self._hud.draw(viewport)

    def set_hud(self, lines: list[str] | None, now: float | None = None) -> None:
        """Overlay ``lines`` at the top-left; ``None`` hides the HUD. Given the time of
        the draw, changing text is rasterised at most every ``hud.REFRESH_S``."""
        self._hud.set_lines(lines, now)

    def release(self) -> None:
        """Free the GL objects (safe twice); the compositor is unusable afterwards."""
        if self._released:
            return
        self._released = True
        for texture in (self._prev, self._cur, self._spare):
            if texture is not None:
                texture.release()
        self._cur = self._spare = None
        self._hud.release()
        self._fading.release()
        self._settled.release()

    # -- internals ----------------------------------------------------------------------

    def _check_alive(self) -> None:
        if self._released:
            raise RuntimeError("Compositor used after release()")

    def _draw_picture(
        self, viewport: Viewport, mix: float, *, y_down: bool, flash: float = 0.0
    ) -> None:
        import moderngl

        area = (viewport[2], viewport[3])
        cur = self._cur if self._cur is not None else self._prev
        self._ctx.disable(moderngl.BLEND)
        self._ctx.viewport = viewport
        self._prev.use(location=0)
        cur.use(location=1)
        picture = self._settled if mix >= 1.0 else self._fading
        scale_prev = letterbox_scale(self._prev.size, area)
        picture.render(scale_prev, letterbox_scale(cur.size, area), mix, y_down, flash)

    def _bake(self, target: moderngl.Texture | None, mix: float) -> moderngl.Texture:
        """Render the blend at ``mix`` into a texture the size of the current frame.

        With frames of different aspect ratios the previous frame is letterboxed into
        the current frame's shape: a one-fade approximation, not worth more code.
        """
        assert self._cur is not None
        width, height = self._cur.size
        if target is None or target.size != (width, height):
            if target is not None:
                target.release()
            target = self._new_texture(np.zeros((height, width, 3), np.uint8))
        bound = self._ctx.fbo
        fbo = self._ctx.framebuffer(color_attachments=[target])
        fbo.use()
        self._draw_picture((0, 0, width, height), mix, y_down=False)
        fbo.release()
        if bound is not None:
            bound.use()
        return target

    def _upload(self, texture: moderngl.Texture | None, frame: np.ndarray) -> moderngl.Texture:
        height, width = frame.shape[:2]
        if texture is not None and texture.size == (width, height):
            texture.write(frame, alignment=1)
            return texture
        if texture is not None:
            texture.release()
        return self._new_texture(frame)

    def _new_texture(self, frame: np.ndarray) -> moderngl.Texture:
        import moderngl

        height, width = frame.shape[:2]
        texture = self._ctx.texture((width, height), 3, frame.tobytes(), alignment=1)
        texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        texture.repeat_x = texture.repeat_y = False
        self.allocations += 1
        return texture
