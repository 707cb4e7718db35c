"""The headless renderer: an offscreen EGL context, no display needed.

Used for offline rendering, replay and tests. The compositor draws into it exactly as
into a window; :meth:`Headless.read` returns the picture with row 0 = top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from performer.render import contexts

if TYPE_CHECKING:
    import moderngl

_EGL_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri"


def create_egl_context() -> moderngl.Context:
    """A standalone GL 3.3+ context over EGL, or a ``RuntimeError`` saying what is missing."""
    import moderngl

    if not contexts.egl_available():
        raise RuntimeError(
            f"headless rendering needs libEGL, which was not found "
            f"(on Debian/Ubuntu: apt-get install {_EGL_PACKAGES})"
        )
    contexts.release_glx()  # else EGL fails quietly and moderngl draws into the window
    try:
        # The stubs type **settings as dicts; backend is a plain string at runtime.
        return moderngl.create_standalone_context(backend="egl")  # type: ignore[arg-type]
    # glcontext reports every EGL failure as a bare Exception; name the cause instead.
    except Exception as error:
        raise RuntimeError(
            f"could not create an EGL OpenGL context: {error} "
            f"(a Mesa driver is needed without a GPU: apt-get install {_EGL_PACKAGES})"
        ) from error


class Headless:
    """An offscreen RGB8 framebuffer of ``width`` × ``height`` on its own EGL context.
    A :class:`~performer.render.surface.Surface` no one watches: no keys, no HUD, and
    it never asks to close."""

    seen = False
    hud_visible = False
    should_close = False

    def __init__(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"headless size must be positive, got {width}×{height}")
        self.ctx = create_egl_context()
        held = contexts.current_egl()
        if held is None:
            self.ctx.release()
            raise RuntimeError("moderngl created an EGL context but did not make it current")
        self._egl_display, self._egl_context = held
        self.size = (width, height)
        self._color = self.ctx.renderbuffer(self.size, components=3)
        self._fbo = self.ctx.framebuffer(color_attachments=[self._color])
        self._staging = np.empty((height, width, 3), np.uint8)
        self._closed = False
        self.use()

    @property
    def viewport(self) -> tuple[int, int, int, int]:
        """The whole framebuffer, as :meth:`render.compositor.Compositor.draw` takes it."""
        return (0, 0, *self.size)

    def use(self) -> None:
        """Make this context current on the thread and bind the framebuffer for drawing."""
        self._make_current()
        self._fbo.use()

    def poll(self) -> None:
        """Nothing to handle: no window, no keys."""

    def take_keys(self) -> list[str]:
        return []

    def swap(self) -> None:
        """Nothing to show: the picture is read (recorded), not displayed."""

    def read(self, out: np.ndarray | None = None) -> np.ndarray:
        """The picture as H×W×3 uint8 RGB, row 0 = top; into ``out`` when given."""
        self._make_current()
        width, height = self.size
        if out is None:
            out = np.empty((height, width, 3), np.uint8)
        elif out.shape != (height, width, 3) or out.dtype != np.uint8:
            raise ValueError(
                f"out must be a {height}×{width}×3 uint8 array, "
                f"got shape {out.shape} dtype {out.dtype}"
            )
        self._fbo.read_into(self._staging, components=3, alignment=1)
        # GL rows run bottom-up; images here run top-down.
        np.copyto(out, self._staging[::-1])
        return out

    def close(self) -> None:
        """Release the framebuffer and the context (safe twice)."""
        if self._closed:
            return
        self._make_current()
        self._closed = True
        self._fbo.release()
        self._color.release()
        self.ctx.release()
        # The context is only destroyed once no thread holds it; and a thread holding
        # an EGL context cannot make a window's GLX context current.
        contexts.release_egl(self._egl_context)

    def __enter__(self) -> Headless:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _make_current(self) -> None:
        if self._closed:
            raise RuntimeError("Headless renderer used after close()")
        if contexts.current_egl() != (self._egl_display, self._egl_context):
            contexts.make_egl_current(self._egl_display, self._egl_context)
