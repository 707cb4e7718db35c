"""The streets the embedded model's records are drawn from: a made-up world whose content
drifts with the year.

A scene is a street at the horizon: sky, ground, a row of buildings, figures, vehicles
and light. What stands in it depends on the year as much as on the seed: horse carts
give way to cars, low brick houses to towers of concrete and glass, dirt roads to
asphalt, gas light to incandescent, fluorescent, neon and LED; clothes brighten.
The medium that records the scene (:mod:`performer.embedded.media`) comes after.

Everything is numpy, deterministic given ``(seed, year)``, and takes about a
millisecond at 64×64, so a training set is made on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: scene words the model can be conditioned on; a scene reports which apply to it
WORDS: tuple[str, ...] = ("day", "dusk", "night", "crowd", "traffic")

Color = tuple[float, float, float]


def f32(x: object) -> np.ndarray:
    """``x`` as a float32 array (colours, constants)."""
    return np.asarray(x, dtype=np.float32)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # (H, W, 3) float32 in 0..1, before any medium
    words: frozenset[str]


def _ramp(year: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, linear between."""
    return float(np.clip((year - start) / (end - start), 0.0, 1.0))


def _mix(a: Color, b: Color, t: float) -> np.ndarray:
    return (1.0 - t) * np.asarray(a, np.float32) + t * np.asarray(b, np.float32)


def _rect(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, color: np.ndarray) -> None:
    h, w = img.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x0 < x1 and y0 < y1:
        img[y0:y1, x0:x1] = color


def _glow(img: np.ndarray, cx: float, cy: float, radius: float, color: np.ndarray) -> None:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (radius * radius)
    img += np.exp(-d2)[..., None] * color


def _window_light(year: float, rng: np.random.Generator) -> np.ndarray:
    if year < 1895:  # gas
        return _mix((1.0, 0.55, 0.2), (1.0, 0.7, 0.35), rng.random())
    if year < 1960:  # incandescent
        return _mix((1.0, 0.78, 0.45), (1.0, 0.85, 0.6), rng.random())
    if year < 2005:  # fluorescent
        return _mix((0.8, 0.95, 0.95), (0.95, 1.0, 0.9), rng.random())
    return _mix((0.85, 0.9, 1.0), (1.0, 1.0, 1.0), rng.random())  # LED


def _sky(img: np.ndarray, horizon: int, tod: str, year: float, rng: np.random.Generator) -> None:
    tops = {"day": (0.3, 0.5, 0.85), "dusk": (0.25, 0.2, 0.45), "night": (0.02, 0.03, 0.08)}
    lows = {"day": (0.75, 0.85, 0.95), "dusk": (1.0, 0.55, 0.3), "night": (0.08, 0.1, 0.2)}
    t = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    sky = (1.0 - t) * np.asarray(tops[tod], np.float32) + t * np.asarray(lows[tod], np.float32)
    smog = 0.45 * np.exp(-(((year - 1915.0) / 40.0) ** 2))  # the smoke of industry
    sky = (1.0 - smog) * sky + smog * np.asarray((0.55, 0.5, 0.42), np.float32) * sky.mean()
    img[:horizon] = sky[:, None, :]
    w = img.shape[1]
    if tod == "day":
        _glow(img, rng.uniform(0, w), rng.uniform(2, horizon * 0.5), 3.0, f32([1, 0.95, 0.8]))
    elif tod == "night":
        _glow(img, rng.uniform(0, w), rng.uniform(2, horizon * 0.4), 1.8, f32([0.9] * 3))


def _buildings(
    img: np.ndarray, horizon: int, tod: str, year: float, rng: np.random.Generator
) -> None:
    h, w = img.shape[:2]
    tall = 0.12 + 0.55 * _ramp(year, 1880, 2010) ** 1.5  # towers rise through the century
    x = int(rng.integers(-6, 2))
    lit = {"day": 0.0, "dusk": 0.4, "night": 0.7}[tod]
    dark = {"day": 1.0, "dusk": 0.6, "night": 0.25}[tod]
    while x < w:
        bw = int(rng.integers(6, 14))
        bh = int(h * tall * rng.uniform(0.4, 1.0)) + 4
        stone = _mix((0.55, 0.3, 0.2), (0.6, 0.55, 0.45), _ramp(year, 1870, 1930))
        glass = f32([0.35, 0.5, 0.65])
        wall = _mix(tuple(stone), (0.6, 0.6, 0.62), _ramp(year, 1930, 1970))
        wall = _mix(tuple(wall), tuple(glass), _ramp(year, 1965, 2015) * rng.random())
        wall = wall * rng.uniform(0.75, 1.1) * dark
        _rect(img, x, horizon - bh, x + bw, horizon, wall)
        for wy in range(horizon - bh + 2, horizon - 2, 3):
            for wx in range(x + 1, x + bw - 1, 3):
                on = rng.random() < lit
                color = _window_light(year, rng) if on else wall * 0.55
                _rect(img, wx, wy, wx + 1, wy + 1, color)
        if year > 1925 and rng.random() < 0.5 * _ramp(year, 1925, 1990) and tod != "day":
            neon = f32([[1, 0.1, 0.6], [0.1, 0.9, 1], [1, 0.2, 0.1]][int(rng.integers(3))])
            sy = horizon - bh // 2
            _rect(img, x + 1, sy, x + bw - 1, sy + 2, neon)
            _glow(img, x + bw / 2, sy, 3.0, neon * 0.35)
        if year > 2000 and rng.random() < 0.6 * _ramp(year, 2000, 2030):
            screen = f32(rng.uniform(0.2, 1.0, 3))
            sy = horizon - bh + 2
            _rect(img, x + 1, sy, x + bw - 1, sy + bh // 3, screen)
        x += bw + int(rng.integers(0, 3))


def _ground(img: np.ndarray, horizon: int, tod: str, year: float) -> None:
    dirt, cobble, asphalt = (0.45, 0.36, 0.25), (0.45, 0.44, 0.42), (0.2, 0.2, 0.23)
    road = _mix(dirt, cobble, _ramp(year, 1860, 1890))
    road = _mix(tuple(road), asphalt, _ramp(year, 1915, 1950))
    shade = {"day": 1.0, "dusk": 0.65, "night": 0.3}[tod]
    t = np.linspace(0.8, 1.1, img.shape[0] - horizon, dtype=np.float32)[:, None, None]
    img[horizon:] = road * shade * t


def _figures(img: np.ndarray, horizon: int, n: int, year: float, rng: np.random.Generator) -> None:
    w = img.shape[1]
    bright = _ramp(year, 1920, 1990)  # black and brown clothes give way to colour
    for _ in range(n):
        fx, fy = int(rng.integers(0, w)), horizon + int(rng.integers(2, 16))
        scale = 1 + (fy - horizon) // 8
        drab = f32(rng.uniform(0.05, 0.3)) * f32([1.0, 0.9, 0.8])
        coat = (1 - bright) * drab + bright * rng.uniform(0.1, 1.0, 3).astype(np.float32)
        _rect(img, fx, fy - 4 * scale, fx + 2 * scale, fy, coat)
        _rect(img, fx, fy - 5 * scale, fx + scale + 1, fy - 4 * scale, f32([0.85, 0.65, 0.5]))


def _vehicles(
    img: np.ndarray, horizon: int, n: int, tod: str, year: float, rng: np.random.Generator
) -> None:
    w = img.shape[1]
    for _ in range(n):
        vx, vy = int(rng.integers(-4, w)), horizon + int(rng.integers(4, 20))
        if rng.random() > _ramp(year, 1895, 1930):  # a horse and cart
            _rect(img, vx, vy - 4, vx + 6, vy - 1, f32([0.4, 0.25, 0.12]))
            _rect(img, vx + 6, vy - 4, vx + 9, vy - 1, f32([0.3, 0.18, 0.1]))
            _rect(img, vx + 8, vy - 6, vx + 10, vy - 4, f32([0.3, 0.18, 0.1]))
        else:
            era_paint = [(0.05, 0.05, 0.05), (0.7, 0.85, 0.8), (0.6, 0.4, 0.1), (0.7, 0.7, 0.72)]
            k = min(3, int(_ramp(year, 1940, 2000) * 4))
            paint = _mix(era_paint[k], tuple(rng.uniform(0.1, 0.95, 3)), 0.4 * rng.random())
            length = 8 + int(3 * _ramp(year, 1920, 1980))
            _rect(img, vx, vy - 3, vx + length, vy, paint)
            _rect(img, vx + 2, vy - 5, vx + length - 3, vy - 3, paint * 0.8)
            if tod != "day":
                _glow(img, vx + length, vy - 2, 1.5, f32([1.0, 0.9, 0.6]))
        _rect(img, vx + 1, vy, vx + 3, vy + 1, f32([0.05] * 3))
        _rect(img, vx + 5, vy, vx + 7, vy + 1, f32([0.05] * 3))


def render(seed: int, year: float, size: int = 64) -> Scene:
    """The scene for ``seed`` in ``year``, before it is recorded by any medium."""
    rng = np.random.default_rng([seed, 17])
    tod = str(rng.choice(["day", "dusk", "night"], p=[0.55, 0.25, 0.2]))
    img = np.zeros((size, size, 3), np.float32)
    horizon = int(size * rng.uniform(0.5, 0.68))
    _sky(img, horizon, tod, year, rng)
    _ground(img, horizon, tod, year)
    _buildings(img, horizon, tod, year, rng)
    n_figures = int(rng.integers(0, 10))
    n_vehicles = int(rng.integers(0, int(2 + 3 * _ramp(year, 1900, 1990))))
    _vehicles(img, horizon, n_vehicles, tod, year, rng)
    _figures(img, horizon, n_figures, year, rng)
    if tod != "day":  # street lamps: gas, then electric
        lamp = _mix((1.0, 0.6, 0.25), (1.0, 0.9, 0.75), _ramp(year, 1890, 1930))
        for lx in range(int(rng.integers(2, 10)), size, int(rng.integers(12, 24))):
            _glow(img, lx, horizon - 2, 2.0 + 2.0 * _ramp(year, 1890, 1960), lamp * 0.6)
    words = {tod}
    if n_figures >= 6:
        words.add("crowd")
    if n_vehicles >= 3:
        words.add("traffic")
    return Scene(np.clip(img, 0.0, 1.0), frozenset(words))
