"""The performance window: glfw (3.3 core forward-compatible context) + moderngl.

glfw must be driven from the main thread. Keys handled here: Esc closes, F toggles
fullscreen, H toggles the HUD; every other key press is queued for
:meth:`Window.take_keys`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import glfw
import numpy as np
from performer.render import contexts

if TYPE_CHECKING:
    import moderngl

_MAX_QUEUED_KEYS = 256  # a session that never reads keys must not grow without bound
_open_count = 0  # glfw.init/terminate are process-wide; open windows share them


def _key_names() -> dict[int, str]:
    """glfw key codes → names as the session sees them ("L", "SPACE", "F5")."""
    names: dict[int, str] = {}
    for attr in dir(glfw):
        if attr.startswith("KEY_") and attr != "KEY_UNKNOWN":
            names.setdefault(getattr(glfw, attr), attr.removeprefix("KEY_"))
    return names


def _text(value: str | bytes | None) -> str:
    """glfw returns C strings as bytes (its stubs say str)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def _acquire_glfw() -> None:
    """``glfw.init`` for the first user, or a one-line ``RuntimeError`` with the reason."""
    global _open_count
    if _open_count == 0:
        # The reason is read with glfw.get_error below, not from glfw's own report.
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always", glfw.GLFWError)
            try:
                ok = glfw.init()
            except glfw.GLFWError:  # when glfw.ERROR_REPORTING is "raise"
                ok = False
        if not ok:
            _code, description = glfw.get_error()
            reason = _text(description) or "glfw.init failed"
            raise RuntimeError(
                f"no display: glfw could not start ({reason}); "
                "render offline with `performer render`, or use render.headless.Headless"
            )
    _open_count += 1


def _release_glfw() -> None:
    global _open_count
    _open_count -= 1
    if _open_count == 0:
        glfw.terminate()


def list_monitors() -> list[str]:
    """One line per monitor: index, name, resolution and refresh rate.

    Raises ``RuntimeError`` saying why when there is no display; an empty list means
    a display with no monitors attached.
    """
    _acquire_glfw()
    try:
        lines = []
        for index, monitor in enumerate(glfw.get_monitors()):
            mode = glfw.get_video_mode(monitor)
            name = _text(glfw.get_monitor_name(monitor))
            size = f"{mode.size.width}x{mode.size.height}"
            lines.append(f"{index}: {name} {size} @ {mode.refresh_rate} Hz")
        return lines
    finally:
        _release_glfw()


class Window:
    """A window with a moderngl context; draw into :attr:`ctx` ``.screen``, then :meth:`swap`.
    A :class:`~performer.render.surface.Surface`: watched as it is drawn."""

    seen = True

    def __init__(
        self,
        width: int,
        height: int,
        title: str = "performer",
        fullscreen: bool = False,
        monitor: int | None = None,
        vsync: bool = True,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"window size must be positive, got {width}×{height}")
        _acquire_glfw()
        self._closed = False
        self._handle: Any = None
        try:
            self._monitor = self._pick_monitor(monitor)
            self._handle = self._create(width, height, title)
            import moderngl

            self.ctx: moderngl.Context = moderngl.create_context()
        except BaseException:
            self.close()
            raise
        glfw.swap_interval(1 if vsync else 0)
        glfw.set_key_callback(self._handle, self._on_key)
        self._key_names = _key_names()
        self._keys: list[str] = []
        self._windowed = (*glfw.get_window_pos(self._handle), width, height)
        self._fullscreen = False
        self.hud_visible = True
        if fullscreen:
            self.toggle_fullscreen()

    # -- state --------------------------------------------------------------------------

    @property
    def framebuffer_size(self) -> tuple[int, int]:
        """Drawable size in pixels (differs from the window size on HiDPI screens)."""
        width, height = glfw.get_framebuffer_size(self._handle)
        return width, height

    @property
    def viewport(self) -> tuple[int, int, int, int]:
        return (0, 0, *self.framebuffer_size)

    @property
    def position(self) -> tuple[int, int]:
        """Top-left corner of the window's content area on the screen."""
        x, y = glfw.get_window_pos(self._handle)
        return x, y

    @property
    def should_close(self) -> bool:
        return self._closed or bool(glfw.window_should_close(self._handle))

    @property
    def fullscreen(self) -> bool:
        return self._fullscreen

    # -- per frame ----------------------------------------------------------------------

    def poll(self) -> None:
        """Process window and key events (calls the key handling below)."""
        glfw.poll_events()

    def use(self) -> None:
        """Make the window's context current on this thread and bind its framebuffer."""
        self._make_current()
        self.ctx.screen.use()

    def swap(self) -> None:
        glfw.swap_buffers(self._handle)

    def read(self) -> np.ndarray:
        """What was drawn (before swap), H×W×3 uint8 RGB, row 0 = top: for recording."""
        self._make_current()
        width, height = self.framebuffer_size
        data = self.ctx.screen.read(viewport=(0, 0, width, height), components=3, alignment=1)
        return np.frombuffer(data, np.uint8).reshape(height, width, 3)[::-1]

    def take_keys(self) -> list[str]:
        """Key presses since the last call, oldest first, other than Esc, F and H."""
        keys, self._keys = self._keys, []
        return keys

    # -- keys ---------------------------------------------------------------------------

    def handle_key(self, key: int, action: int) -> None:
        """What a key does; the glfw key callback calls this."""
        if action != glfw.PRESS:
            return
        if key == glfw.KEY_ESCAPE:
            glfw.set_window_should_close(self._handle, True)
        elif key == glfw.KEY_F:
            self.toggle_fullscreen()
        elif key == glfw.KEY_H:
            self.hud_visible = not self.hud_visible
        elif len(self._keys) < _MAX_QUEUED_KEYS:
            self._keys.append(self._key_names.get(key, f"KEY{key}"))

    def toggle_fullscreen(self) -> None:
        """Fullscreen on the chosen monitor at its video mode, or back to the window."""
        if self._fullscreen:
            x, y, width, height = self._windowed
            # None (back to windowed) is what glfw documents; the stubs omit it.
            glfw.set_window_monitor(self._handle, None, x, y, width, height, 0)  # type: ignore[arg-type]
        else:
            x, y = glfw.get_window_pos(self._handle)
            self._windowed = (x, y, *glfw.get_window_size(self._handle))
            mode = glfw.get_video_mode(self._monitor)
            width, height, hz = mode.size.width, mode.size.height, mode.refresh_rate
            glfw.set_window_monitor(self._handle, self._monitor, 0, 0, width, height, hz)
        self._fullscreen = not self._fullscreen

    def close(self) -> None:
        """Destroy the window and its context (safe twice)."""
        if self._closed:
            return
        self._closed = True
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            self._make_current()  # release the GL objects of this context, not another's
            ctx.release()
        if self._handle is not None:
            glfw.destroy_window(self._handle)
        _release_glfw()

    def __enter__(self) -> Window:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _make_current(self) -> None:
        contexts.release_egl()  # a headless EGL context would block the GLX one
        # Always: glfw cannot know if the headless renderer took the thread from it.
        glfw.make_context_current(self._handle)

    def _on_key(self, _window: Any, key: int, _scancode: int, action: int, _mods: int) -> None:
        self.handle_key(key, action)

    @staticmethod
    def _pick_monitor(index: int | None) -> Any:
        monitors = glfw.get_monitors()
        if not monitors:
            raise RuntimeError("the display reports no monitors")
        if index is None:
            return glfw.get_primary_monitor()
        if not 0 <= index < len(monitors):
            raise ValueError(
                f"monitor {index} does not exist; there are {len(monitors)} "
                f"(see render.window.list_monitors())"
            )
        return monitors[index]

    @staticmethod
    def _create(width: int, height: int, title: str) -> Any:
        glfw.default_window_hints()
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.DOUBLEBUFFER, True)
        # glfw makes the new context current while creating it; a headless renderer's
        # EGL context would make that fail.
        contexts.release_egl()
        handle = glfw.create_window(width, height, title, None, None)
        if not handle:
            raise RuntimeError(
                "glfw could not open a window with an OpenGL 3.3 core context "
                "(is a GL driver installed? on Debian: libgl1-mesa-dri)"
            )
        glfw.make_context_current(handle)
        return handle
