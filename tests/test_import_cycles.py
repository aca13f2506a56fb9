"""No import circle anywhere in pipectl, counting imports inside functions.

A circle held together by function-level imports still ties its modules into one
unit: none of them can be read, tested or changed alone. The graph is built from
the source (ast), so a lazy import counts exactly like a top-level one.
"""

import ast
from pathlib import Path

import pipectl

PACKAGE_ROOT = Path(pipectl.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """The pipectl modules `path` imports: `from a.b import c` names a.b.c when c is a module, else a.b."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(path, name, known) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_graph_counts_imports_inside_functions_and_relative_ones(tmp_path):
    # A guard on the guard: a lazy import must be an edge like a top-level one.
    module = tmp_path / "example.py"
    module.write_text(
        "from pipectl.core import scoring_sql\n"
        "def later():\n"
        "    from pipectl.core.history import record\n"
        "    from . import stages\n"
        "    import pipectl.dates\n"
    )
    known = {"pipectl.core.scoring_sql", "pipectl.core.history", "pipectl.core.stages", "pipectl.dates", "pipectl.core"}
    assert imported_modules(module, "pipectl.core.example", known) == {
        "pipectl.core.scoring_sql",
        "pipectl.core.history",
        "pipectl.core.stages",
        "pipectl.dates",
    }
    assert import_graph()["pipectl.cli.app"], "the CLI entry point imports its command groups"


def test_find_cycles_reports_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import circles (break them by moving code where it belongs):\n" + "\n".join(
        " ↔ ".join(cycle) for cycle in cycles
    )
