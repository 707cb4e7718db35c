"""Fuzzing patches (issue 12): hostile patches, seeded and bounded (a few seconds).

Each generated patch either loads, and then plays through the conductor without an
exception, or is refused with one :class:`PatchError` line that names the file and the
key. Wrong types, deep nesting, huge numbers, NaN and inf, long strings, path-like names
and unknown keys are all drawn.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from performer.control.params import REGISTRY
from performer.mappings.mapping import KEYS as MAPPING_KEYS
from performer.mappings.scenes import CUE_KEYS
from performer.mappings.score import TRANSPORT_KEYS
from performer.mappings.timeline import TRACK_KEYS
from performer.mappings.toml_writer import key as toml_key
from performer.mappings.toml_writer import string as toml_string

from performer import patch
from performer.patch import PATCH_KEYS, PatchError
from tests.mappings.mapping_rig import Rig

LONGEST_ERROR = 800
PATHS = ["../../../../tmp/x", "/etc/passwd", "..", ".", "~/x", "C:\\x", "a/b/../../c", "\x00"]
SOURCES = ["midi:cc:1:1", "midi:note:1:36", "osc:/x", "lfo:sine", "lfo:pulse", "transport:beat"]
NAMES = [*PATCH_KEYS, *MAPPING_KEYS, *TRACK_KEYS, *CUE_KEYS, *TRANSPORT_KEYS, *REGISTRY]
NAMES += ["template", "anchors", "kind", "rate", "at", "value", "1925", "1e308", "nan"]

numbers = st.one_of(
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**400, 1e308, -1e308, 1e-320, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
)
texts = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(PATHS + SOURCES + list(REGISTRY) + ["{prompt} {era} {x}", "{era:>99999}"]),
    st.integers(0, 5000).map(lambda n: "a" * n),
)
scalars = st.one_of(numbers, texts, st.booleans())
keys = st.one_of(st.sampled_from(NAMES), st.text(st.characters(codec="utf-8"), max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


def table(names: list[str] | tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A table with mostly the right keys and any values (plausible ones often)."""
    return st.dictionaries(st.one_of(st.sampled_from(list(names)), keys), plausible, max_size=6)


plausible = st.one_of(
    values, st.sampled_from(SOURCES + list(REGISTRY) + ["exp", "scurve", "slew", "add"]), numbers
)
#: values a mapping or a track often takes: numbers of any size, pairs, names, smoothers
knobs = st.one_of(
    numbers,
    st.lists(numbers, min_size=2, max_size=2),
    st.sampled_from(["exp", "log", "scurve", "onepole", "slew", "euro", "add", "jump", "cubic"]),
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["slew", "euro", "onepole"])},
        optional={"rate": numbers, "time": numbers, "beta": numbers, "min_cutoff": numbers},
    ),
)
numeric = [name for name, p in REGISTRY.items() if p.kind != "str"]
mapping = st.fixed_dictionaries(
    {"source": st.sampled_from(SOURCES), "param": st.sampled_from(numeric)},
    optional={name: knobs for name in MAPPING_KEYS if name not in ("source", "param")},
)
track = st.fixed_dictionaries(
    {"param": st.sampled_from(numeric)},
    optional={
        "lfo": st.sampled_from(["sine", "saw", "pulse"]),
        "keys": st.lists(st.lists(numbers, min_size=2, max_size=2), min_size=1, max_size=4),
        **{name: knobs for name in ("period", "offset", "lo", "hi", "combine", "interp", "length")},
    },
)
playable = st.fixed_dictionaries(
    {"mappings": st.lists(mapping, max_size=4)},
    optional={"timelines": st.dictionaries(st.sampled_from(["a", "b"]), track, max_size=2)},
)
patches = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(texts, values),
        "model": st.one_of(st.sampled_from(PATHS), values),
        "params": st.one_of(table(list(REGISTRY)), values),
        "era": st.fixed_dictionaries(
            {},
            optional={
                "template": st.one_of(texts, values),
                "anchors": st.dictionaries(
                    st.one_of(st.integers(1800, 2100).map(str), keys), texts, max_size=80
                ),
            },
        ),
        "mappings": st.one_of(
            st.lists(mapping, max_size=4), st.lists(table(MAPPING_KEYS), max_size=2), values
        ),
        "scenes": st.dictionaries(keys, table(list(REGISTRY)), max_size=3),
        "timelines": st.dictionaries(keys, table(TRACK_KEYS), max_size=3),
        "cues": st.dictionaries(keys, table(CUE_KEYS), max_size=3),
        "transport": table(TRANSPORT_KEYS),
    },
)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else {"nan": "nan", "inf": "inf", "-inf": "-inf"}[str(v)]
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"


def toml_text(data: dict[str, Any], depth: int, opener: str) -> str:
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in data.items()]
    if depth:
        closer = "]" if opener == "[" else " }"
        lines.append("deep = " + (opener if opener == "[" else "{ a = ") * depth + "1")
        lines[-1] += closer * depth
    return "\n".join(lines) + "\n"


def check(text: str) -> None:
    try:
        loaded = patch.loads(text, source="fuzz.toml")
    except PatchError as exc:
        error = str(exc)
        assert error.startswith("fuzz.toml: ") and exc.key, error[:200]
        assert "\n" not in error and len(error) <= LONGEST_ERROR, error[:200]
        return
    rig = Rig(loaded.score)  # it loaded: it must play, whatever it holds
    for source in (*SOURCES, "midi:program:1"):
        rig.send(source, 0.7, raw=3)
    rig.run(0.1)


@pytest.mark.slow
@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(patches, st.sampled_from([0, 0, 0, 5, 17, 600, 3000]), st.sampled_from(["[", "{"]))
def test_hostile_patches_load_or_fail_in_one_line(
    data: dict[str, Any], depth: int, opener: str
) -> None:
    check(toml_text(data, depth, opener))


@pytest.mark.slow
@settings(max_examples=150, derandomize=True, deadline=None)
@given(playable)
def test_mappings_and_tracks_of_any_numbers_load_and_play_or_fail_in_one_line(
    data: dict[str, Any],
) -> None:
    check(toml_text(data, 0, "["))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.binary(max_size=200))
def test_bytes_that_are_barely_toml_fail_in_one_line(raw: bytes) -> None:
    check('[params]\nera = 1900\n[[mappings]]\nsource = "' + raw.decode("latin-1"))
