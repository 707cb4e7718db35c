"""The README's parameter table is generated from the registry and must not drift."""

from __future__ import annotations

from pathlib import Path

from performer.docs import END, START, params_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_parameter_table_matches_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    assert f"{START}\n{params_table()}\n{END}" in text, "run: python -m performer.docs"


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8")[:1500]
    assert "make play" in head and "make test" in head
