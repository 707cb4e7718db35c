"""Which OpenGL context this thread holds, and handing it over.

A thread holds one current context at a time, and moderngl never switches: it leaves
a new context current and issues every later call to whatever is current. The window
is GLX and the headless renderer EGL; under libglvnd a thread holding a context of one
API cannot make one of the other current (GLX answers with X error BadAccess, which
kills the process; EGL fails quietly and moderngl then draws into the window's
context). So each side lets go of the other's context before taking its own:
:meth:`render.headless.Headless.use` and :meth:`render.window.Window.use`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

_egl_in_process = False


def _already_loaded(soname: str) -> ctypes.CDLL | None:
    """The library if this process has loaded it; never loads it (nothing to release)."""
    try:
        return ctypes.CDLL(soname, mode=os.RTLD_NOLOAD)
    except OSError:
        return None


@functools.cache
def _egl() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("EGL")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    for getter in ("eglGetCurrentContext", "eglGetCurrentDisplay"):
        getattr(lib, getter).restype = ctypes.c_void_p
        getattr(lib, getter).argtypes = []
    lib.eglMakeCurrent.restype = ctypes.c_uint
    lib.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
    lib.eglGetError.restype = ctypes.c_int
    lib.eglGetError.argtypes = []
    return lib


def egl_available() -> bool:
    """Whether libEGL can be loaded at all."""
    return _egl() is not None


def current_egl() -> tuple[int, int] | None:
    """``(display, context)`` of this thread's current EGL context, or None."""
    global _egl_in_process
    if not _egl_in_process:
        if _already_loaded("libEGL.so.1") is None:
            return None  # a window-only process: do not load EGL just to ask
        _egl_in_process = True  # and _egl() keeps it loaded from now on
    lib = _egl()
    if lib is None:
        return None
    context = lib.eglGetCurrentContext()
    return (lib.eglGetCurrentDisplay(), context) if context else None


def make_egl_current(display: int, context: int) -> None:
    """Make a surfaceless EGL ``context`` current, letting go of any GLX one first."""
    release_glx()
    lib = _egl()
    if lib is None:
        raise RuntimeError("libEGL is not available")
    if not lib.eglMakeCurrent(display, None, None, context):
        raise RuntimeError(f"eglMakeCurrent failed (EGL error {lib.eglGetError():#x})")


def release_egl(context: int | None = None) -> None:
    """Leave this thread with no EGL context (only if ``context`` is the current one)."""
    held = current_egl()
    if held is None or (context is not None and held[1] != context):
        return
    lib = _egl()
    assert lib is not None  # current_egl() found a context through it
    if not lib.eglMakeCurrent(held[0], None, None, None):
        raise RuntimeError(f"eglMakeCurrent(no context) failed (EGL error {lib.eglGetError():#x})")


def release_glx() -> None:
    """Leave this thread with no GLX context (a no-op in a process that never used GLX)."""
    lib = _already_loaded("libGLX.so.0")
    if lib is None:
        return
    lib.glXGetCurrentContext.restype = ctypes.c_void_p
    lib.glXGetCurrentDisplay.restype = ctypes.c_void_p
    if not lib.glXGetCurrentContext():
        return
    # (Display*, GLXDrawable draw, GLXDrawable read, GLXContext)
    drawable = ctypes.c_ulong
    lib.glXMakeContextCurrent.argtypes = [ctypes.c_void_p, drawable, drawable, ctypes.c_void_p]
    if not lib.glXMakeContextCurrent(lib.glXGetCurrentDisplay(), 0, 0, None):
        raise RuntimeError("glXMakeContextCurrent(no context) failed")
