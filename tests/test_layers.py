"""Imports point down only: performer → mappings → control, and render stands alone.

The layers are written down in ``performer/__init__.py``; this test reads every import
(at the top of a module or inside a function) and fails on one that points up."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: folder → (its import name, the layers it may import besides itself)
LAYERS = {
    "control": ("performer.control", set()),
    "mappings": ("performer.mappings", {"performer.control"}),
    "render": ("performer.render", set()),
    "performer": (
        "performer",
        {"performer.control", "performer.mappings", "performer.render"},
    ),
}


def _layer(module: str) -> str | None:
    """The layer a ``performer...`` module belongs to, by its import name."""
    for name, _ in sorted(LAYERS.values(), key=lambda v: -len(v[0])):
        if module == name or module.startswith(name + "."):
            return name
    return None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names]
    return found


def upward_imports() -> list[str]:
    wrong = []
    for folder, (own, allowed) in LAYERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module in _imports(path):
                layer = _layer(module)
                if layer is not None and layer != own and layer not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: {own} imports {module}")
    return wrong


def test_imports_point_down_only() -> None:
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: an import of the roof from the floor is caught."""
    module = tmp_path / "x.py"
    module.write_text("def f():\n    from performer.session import Session\n")
    assert _imports(module) == [(2, "performer.session.Session")]
    assert _layer("performer.session.Session") == "performer"
    assert _layer("performer.control.events.Event") == "performer.control"
    assert _layer("performer.mappings") == "performer.mappings"
