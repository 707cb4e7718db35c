"""Hostile patches (issue 12): each one loads, or fails at load in one short line naming
the file and the key; none raises anything else, and none kills the show at run time."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from performer.mappings.curves import Shape

from performer import patch
from performer.patch import MAX_ANCHORS, PatchError
from performer.toml_reader import MAX_BYTES
from tests.mappings.mapping_rig import Rig

LONGEST_ERROR = 800  # file name, key and message, each cut short


def refused(text: str, key: str, message: str = "") -> PatchError:
    """The error ``text`` gives; it names the file and ``key`` on one short line."""
    with pytest.raises(PatchError) as caught:
        patch.loads(text, source="bad.toml")
    error = str(caught.value)
    assert error.startswith(f"bad.toml: {key}: "), error
    assert message in error, error
    assert "\n" not in error and len(error) <= LONGEST_ERROR, error[:200]
    return caught.value


# -- nesting: the parser recursed until Python's limit -------------------------------
def test_arrays_nested_5000_deep_are_refused_naming_the_key() -> None:
    refused("x = " + "[" * 5000 + "]" * 5000, "line 1: x", "nested too deep; at most 16")


def test_inline_tables_nested_3000_deep_are_refused_naming_the_key() -> None:
    text = "[params]\nname = 1\n" + "y = " + "{ a = " * 3000 + "1" + " }" * 3000
    refused(text, "line 3: y", "nested too deep")


def test_nesting_the_parser_survives_is_refused_at_its_dotted_key() -> None:
    refused("x = " + "[" * 20 + "]" * 20, "x" + "[0]" * 16, "nested too deep; at most 16")
    deep = "[" * 17 + "0" + "]" * 17
    refused(f"[timelines.t]\nkeys = {deep}", "timelines.t.keys" + "[0]" * 14)


# -- numbers: 1e308 overflowed in a curve, and ints past float in a check -------------
@pytest.mark.parametrize("curve", ["exp", "log", "scurve"])
def test_curve_amount_1e308_is_refused(curve: str) -> None:
    text = f'[[mappings]]\nsource = "midi:cc:1:1"\nparam = "era"\ncurve = "{curve}"\n'
    refused(text + "amount = 1e308", "mappings[0].amount", "expected a number in 0.001..100")
    refused(text + "amount = 1e-300", "mappings[0].amount")


def test_numbers_beyond_1e12_are_refused_wherever_they_are() -> None:
    refused(
        '[[mappings]]\nsource = "midi:cc:1:1"\nparam = "era"\nout = [0, 1e308]', "mappings[0].out"
    )
    refused(
        '[[mappings]]\nsource = "lfo:sine"\nparam = "era"\noffset = -1e300', "mappings[0].offset"
    )
    refused("[timelines.x]\nkeys = [[0, 1e308], [1, 0]]", "timelines.x.keys[0].value")
    refused("[cues.c]\nat = [1e300]\n[scenes.c]\nera = 1900", "cues.c.at")


def test_integers_too_large_for_a_float_are_refused() -> None:
    big = "9" * 400
    refused(f"[params]\nseed = {big}", "params.seed", "expected an integer in 0..")
    refused(f"[params]\nera = {big}", "params.era")
    refused(f"[scenes.s]\nera = {big}", "scenes.s.era")
    refused(
        f'[[mappings]]\nsource = "midi:cc:1:1"\nparam = "era"\ncurve = "exp"\namount = {big}',
        "mappings[0].amount",
    )
    refused("x = " + "9" * 5000, "toml", "not usable TOML")  # past Python's 4,300 digits


# -- the era template: a KeyError at the first prompt ---------------------------------
@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{prompt} {era} {x}", "{x}"),
        ("{prompt}, {era}, {0}", "{0}"),
        ("{prompt}, {era} {}", "{}"),
        ("{prompt:>999999999}, {era}", "{prompt:>999999999}"),  # a gigabyte of spaces
        ("{prompt!r}, {era}", "{prompt!r}"),
        ("{prompt.upper}, {era}", "{prompt.upper}"),
        ("{era[0]}", "{era[0]}"),
    ],
)
def test_templates_with_other_fields_are_refused_at_load(template: str, shown: str) -> None:
    error = refused(f'[era]\ntemplate = "{template}"', "era.template", "unknown field")
    assert shown in str(error)


def test_a_template_with_a_lone_brace_is_refused() -> None:
    refused('[era]\ntemplate = "{prompt}, {era} }"', "era.template", "write {{ for a brace")


def test_templates_of_prompt_and_era_load_and_format() -> None:
    loaded = patch.loads('[era]\ntemplate = "{{photo}} {era}: {prompt}"')
    assert loaded.template.format(prompt="a street", era="VHS") == "{photo} VHS: a street"


# -- LFO lo/hi of ±1e308: inf at every tick, and every mapping dead --------------------
def test_lfo_range_of_1e308_is_refused_at_load() -> None:
    text = '[timelines.w]\nparam = "rotate"\nlfo = "sine"\nlo = -1e308\nhi = 1e308\ncombine = "add"'
    refused(text, "timelines.w.lo", "expected a number in -1e+12..1e+12, got -1e+308")
    refused(text.replace("lo = -1e308", "lo = 0"), "timelines.w.hi")


def test_a_track_that_turns_infinite_at_run_time_leaves_the_other_mappings_alive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What validation cannot see still costs only itself: the LFO of the old failure,
    given its ±1e308 behind the validator's back."""
    data = {
        "timelines": {"w": {"param": "rotate", "lfo": "sine", "combine": "add"}},
        "mappings": [{"source": "midi:cc:1:1", "param": "era", "takeover": "jump"}],
    }
    rig = Rig(data)
    track = rig.conductor.tracks["w"]
    track.lo, track.hi = -1e308, 1e308  # hi - lo is inf: the sum is not finite
    with caplog.at_level(logging.WARNING, logger="performer.mappings.conductor"):
        for value in (0.0, 0.5, 1.0):
            rig.send("midi:cc:1:1", value)
            rig.run(0.5)
            assert rig["era"] == pytest.approx(1840 + 190 * value)
    assert rig.conductor.failures > 0 and rig["rotate"] == 0.0
    lines = [r for r in caplog.records if "rotate" in r.getMessage()]
    assert 1 <= len(lines) <= 3, "once a second, not once a frame"  # 1.5 s of fake time


def test_a_mapping_that_overflows_at_run_time_does_not_stop_the_others() -> None:
    data = {
        "mappings": [
            {"source": "midi:cc:1:1", "param": "era", "takeover": "jump"},
            {"source": "midi:cc:1:2", "param": "zoom", "takeover": "jump"},
            {"source": "lfo:saw", "param": "guidance"},
        ]
    }
    rig = Rig(data)
    era, _, lfo = rig.conductor.mappings
    era.shape = Shape(curve="exp", amount=1e308, out=era.shape.out)  # behind the validator
    lfo.shape = Shape(curve="exp", amount=1e308, out=lfo.shape.out)
    rig.send("midi:cc:1:1", 0.5)  # raises OverflowError in its event, in the same tick
    rig.send("midi:cc:1:2", 1.0)
    rig.run(0.2)
    assert rig["zoom"] == 2.0, "the event after the bad one was applied"
    assert rig.conductor.failures > 0
    rig.send("midi:cc:1:2", 0.0)
    rig.run(0.2)
    assert rig["zoom"] == 0.5


# -- era anchors: 20,000 took 8.3 GB -------------------------------------------------
def anchors(count: int, phrase: str = "x") -> str:
    return "[era.anchors]\n" + "\n".join(
        f'"{1840 + i * 0.001:.3f}" = "{phrase}"' for i in range(count)
    )


def test_anchor_count_is_bounded() -> None:
    assert len(patch.loads(anchors(MAX_ANCHORS)).anchors) == MAX_ANCHORS
    refused(anchors(MAX_ANCHORS + 1), "era.anchors", f"at most {MAX_ANCHORS}")
    started = time.perf_counter()
    refused(anchors(20_000), "era.anchors", "20000 anchors")
    assert time.perf_counter() - started < 5.0


def test_anchor_phrases_and_duplicates_are_bounded() -> None:
    refused(anchors(1, "y" * 301), "era.anchors.1840.000", "at most 300 characters")
    refused('[era.anchors]\n"1925" = "a"\n"1925.0" = "b"', "era.anchors.1925.0", "a second anchor")


# -- texts and sizes -----------------------------------------------------------------
def test_prompts_are_bounded_wherever_a_patch_holds_them() -> None:
    long = "a" * 2001
    refused(f'[params]\nprompt = "{long}"', "params.prompt", "2001 characters; at most 2000")
    refused(f'[scenes.s]\nprompt = "{long}"', "scenes.s.prompt", "at most 2000")
    refused(f'[timelines.p]\nparam = "prompt"\nkeys = [[0, "{long}"]]', "timelines.p.keys[0].value")
    assert patch.loads(f'[params]\nprompt = "{long[:2000]}"').params["prompt"] == long[:2000]


def test_a_million_element_array_gives_a_short_error() -> None:
    items = ",".join(["1"] * 100_000)  # its repr was a 300 KB error line
    error = refused(f"[params]\nera = [{items}]", "params.era", "expected a number in 1840..2030")
    assert len(str(error)) < 250
    refused(f"x = [{','.join(['1'] * 10**6)}]", "file", "a patch is at most")


def test_names_and_values_with_newlines_stay_on_one_line() -> None:
    error = refused('[params]\n"era\\n\\u0007\\u2028evil" = 1', "params.era\\n\\x07\\u2028evil")
    assert "unknown parameter" in str(error)
    refused('[params]\nera = "1\\n2"', "params.era", "got '1\\n2'")
    refused('name = "' + "n" * 300 + '"', "name", "at most 200 characters")
    refused("name = [1, 2]", "name", "expected a string")
    refused('model = "' + "m" * 5000 + '"', "model", "at most 4096 characters")


@pytest.mark.slow  # a fresh interpreter imports the instrument: about 5 s
def test_the_cli_prints_a_deep_patch_as_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "deep.toml"
    bad.write_text("x = " + "[" * 5000 + "]" * 5000)
    done = subprocess.run(
        [sys.executable, "-m", "performer.cli", "render", "--patch", str(bad), "--frames", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)},
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"performer: error: {bad}: line 1: x: nested too deep; at most 16"
    ]


def _bytes_read() -> int:
    """What this process has read so far, from the kernel's own count (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_a_huge_patch_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A huge file once went whole into memory before its size was checked (64 MB here,
    sparse: no disk used; 10 GB would do the same). It is refused after at most one
    byte past the 1 MB bound."""
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as f:
        f.truncate(64 << 20)
    before = _bytes_read()
    with pytest.raises(PatchError) as caught:
        patch.load(huge)
    assert _bytes_read() - before <= MAX_BYTES + 64 * 1024, "read past the bound"
    error = str(caught.value)
    assert error == f"{huge}: file: larger than {MAX_BYTES} bytes; not a patch", error


def test_a_patch_of_exactly_the_bound_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    head = b"[params]\nzoom = 1.0\n"
    path.write_bytes(head + b"#" * (MAX_BYTES - len(head) - 1) + b"\n")
    assert patch.load(path).text.startswith("[params]")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_file_is_refused_in_one_line() -> None:
    with pytest.raises(PatchError, match="larger than"):
        patch.load("/dev/zero")
