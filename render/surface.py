"""What the show draws on: a window, or a headless framebuffer when there is no display.

Both have the same shape (:class:`Surface`), so one play loop drives either. A window
is seen as it is drawn, paces itself by its swap (or a given rate) and gives keys; a
headless surface is seen only through the take it records, gives no keys and never
asks to close (the show's length ends it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import moderngl

log = logging.getLogger(__name__)


class Surface(Protocol):
    ctx: moderngl.Context
    hud_visible: bool  # whether the HUD is drawn (H toggles it in a window)
    seen: bool  # drawn for a person to watch (a window); else seen through its take

    @property
    def viewport(self) -> tuple[int, int, int, int]: ...

    @property
    def should_close(self) -> bool: ...

    def poll(self) -> None:
        """Handle window events (keys): once per picture."""

    def take_keys(self) -> list[str]:
        """Key presses since the last call for the show (Esc, F, H are the surface's)."""
        ...

    def use(self) -> None:
        """Make the context current on this thread and bind the framebuffer."""

    def read(self) -> np.ndarray:
        """The picture drawn, H×W×3 uint8 RGB, row 0 = top."""
        ...

    def swap(self) -> None:
        """Show what was drawn."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class SurfaceChoice:
    """Which surface to open: a window with these options, else (``headless``, or no
    display) a headless one of the same size."""

    headless: bool = False
    fullscreen: bool = False
    monitor: int | None = None
    vsync: bool = True

    def open(self, width: int, height: int) -> Surface:
        if not self.headless:
            from performer.render.window import Window

            try:
                return Window(
                    width,
                    height,
                    fullscreen=self.fullscreen,
                    monitor=self.monitor,
                    vsync=self.vsync,
                )
            except RuntimeError as exc:  # no display: said in one line, then headless
                log.info("%s", exc)
        from performer.render.headless import Headless

        return Headless(width, height)
