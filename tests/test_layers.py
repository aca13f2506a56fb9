"""The layers hold without exceptions, read from the source of every module (imports inside functions too).

storage ← core ← cli; the contract and the small helpers (clock, dates, errors, money) under all of
them; the renderer (`render`, `output`) beside the CLI, never imported by the core or storage.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "pipectl"
BASE = {"pipectl.clock", "pipectl.dates", "pipectl.errors", "pipectl.folding", "pipectl.money", "pipectl.contract"}
RENDERER = {"pipectl.render", "pipectl.output"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module the file imports, anywhere in it (`from pipectl import clock` counts as pipectl.clock)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> str:
    if name in BASE:
        return "base"
    if name in RENDERER:
        return "renderer"
    parts = name.split(".")
    return parts[1] if len(parts) > 2 else "entry"


def forbidden(name: str) -> tuple[str, ...]:
    """What a module of this layer must not import (prefixes)."""
    pipectl_layers = {
        "base": ("pipectl.core", "pipectl.storage", "pipectl.cli", "pipectl.render", "pipectl.output"),
        "storage": ("pipectl.core", "pipectl.cli", "pipectl.render", "pipectl.output"),
        "core": ("pipectl.cli", "pipectl.render", "pipectl.output", "typer", "rich", "click"),
        "renderer": ("pipectl.core", "pipectl.storage", "pipectl.cli"),
    }
    return pipectl_layers.get(layer(name), ()) + ("click",)


def test_every_module_is_in_a_layer():
    assert {layer(name) for name in MODULES} == {"base", "renderer", "storage", "core", "cli", "entry"}
    assert "pipectl.contract" in MODULES and "pipectl.output" in MODULES


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_crosses_a_layer_upwards(name):
    wrong = sorted(
        imported
        for imported in MODULES[name]
        for prefix in forbidden(name)
        if imported == prefix or imported.startswith(prefix + ".")
    )
    assert not wrong, f"{name} ({layer(name)}) imports {wrong}"


def test_the_contract_imports_nothing_of_pipectl_but_money():
    assert {name for name in MODULES["pipectl.contract"] if name.startswith("pipectl")} <= {
        "pipectl.money",
        "pipectl.money.MAX_CENTS",
    }


def test_the_layering_test_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from pipectl.core.leads import find_lead\n    import rich\n", encoding="utf-8")
    assert {"pipectl.core.leads", "rich"} <= imports_of(sample)


def test_nothing_cites_a_design_document_the_repository_does_not_have():
    files = list((ROOT / "src").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")) + [ROOT / "README.md"]
    citing = [str(path.relative_to(ROOT)) for path in files if "DESIGN" + ".md" in path.read_text(encoding="utf-8")]
    assert citing == []


def test_the_architecture_is_documented_and_linked_from_the_readme():
    architecture = ROOT / "docs" / "architecture.md"
    assert architecture.exists()
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    text = architecture.read_text(encoding="utf-8")
    for module in ("pipectl/contract.py", "pipectl/output.py", "storage", "core", "cli"):
        assert module in text
