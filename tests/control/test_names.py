"""File names made from data never leave their folder; progress bars stay quiet in logs."""

import io

import pytest
from performer.control.names import safe_name

from performer.progress import progress


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demo", "demo"),
        ("../../../../tmp/x", "tmp_x"),
        ("..", "untitled"),
        ("", "untitled"),
        ("a/b\\c", "a_b_c"),
        (".hidden", "hidden"),
        ("x\x7fy\x00z", "x_y_z"),
        ("ÉtÉ 1925", "EtE_1925"),
    ],
)
def test_safe_name_is_one_plain_file_name(text, expected):
    assert safe_name(text) == expected


def test_safe_name_is_bounded():
    assert len(safe_name("a" * 10_000)) == 64


def test_progress_off_a_terminal_writes_few_lines():
    out = io.StringIO()
    for _ in progress(range(2000), file=out, desc="x"):
        pass
    assert out.getvalue().count("\r") + out.getvalue().count("\n") <= 4
