"""render — the instrument's output: window, headless renderer, compositor, recorder.

Nothing heavy is imported here: glfw, moderngl and PyAV load only when the module
that needs them is imported, so ``import render`` works with no display or GL.
Images everywhere are H×W×3 uint8 RGB numpy arrays with row 0 = the top.

Cheat sheet::

    from performer.render.compositor import Compositor     # cross-fade, letterbox, HUD
    comp = Compositor(ctx, hud_font_size=14)     # ctx: a moderngl.Context
    comp.push(frame, now)                        # a new generated frame; starts a fade
    comp.draw(now, (x, y, w, h), crossfade_s)    # into the bound framebuffer (GL origin
                                                 # bottom-left); crossfade_s <= 0: cut
    comp.set_hud(["era 1925", "guidance 0.0"])   # None hides it
    comp.release()

    from performer.render.window import Window, list_monitors   # glfw + GLX; needs a display
    list_monitors()                              # ["0: DP-1 2560x1440 @ 144 Hz", ...]
    win = Window(1280, 720, title="performer", fullscreen=False, monitor=None, vsync=True)
    comp = Compositor(win.ctx)
    while not win.should_close:
        win.poll()                               # Esc closes, F fullscreen, H HUD
        keys = win.take_keys()                   # other presses: ["L", "SPACE", ...]
        comp.set_hud(lines if win.hud_visible else None)
        win.use()                                # make current + bind the screen
        comp.draw(now, win.viewport, 0.2)
        comp.draw_hud(win.viewport)              # after reading the picture for a take
        win.swap()
    win.close()                                  # RuntimeError("no display: ...") at open

    from performer.render.headless import Headless         # EGL offscreen, no display needed
    with Headless(512, 512) as out:
        comp = Compositor(out.ctx)
        out.use()                                # make current + bind the framebuffer
        comp.draw(now, out.viewport, 0.0)
        image = out.read()                       # or out.read(preallocated)

    from performer.render.video import VideoWriter, VideoWriteError   # libx264 yuv420p
    with VideoWriter("take.mp4", 512, 512, fps=30, crf=18, preset="veryfast") as rec:
        rec.write(image)                         # .mp4 fragmented, .mkv flushed: crash-safe
                                                 # odd sizes padded to rec.encoded_size
                                                 # disk full: VideoWriteError (an OSError)

A window and a headless renderer may share a thread: call ``use()`` on the one you
are about to draw with (see render.contexts for why).
"""
