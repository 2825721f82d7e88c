"""The layout holds: the core stays UI-free, the import contracts pass, and no cycle hides anywhere."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import itsm_tui.core
import itsm_tui.importers
import itsm_tui.reports


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def test_core_and_reports_never_import_textual():
    modules = (
        _modules(itsm_tui.core) + _modules(itsm_tui.reports) + _modules(itsm_tui.importers) + ["itsm_tui.cli"]
    )
    assert "itsm_tui.core.tickets.service" in modules  # the walk really found the core
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"textual imported by the core: {result.stdout}"


ROOT = Path(__file__).resolve().parent
while not (ROOT / "pyproject.toml").exists():  # the repository root, wherever this file sits in tests/
    ROOT = ROOT.parent


def test_the_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts: the layers, and no UI in the core, exporters
    or importers (ARCHITECTURE.md)."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _imports() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(every import edge, the edges of imports inside a function) between itsm_tui's modules."""
    package = ROOT / "itsm_tui"
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    edges, late = set(), set()

    def targets(name: str, node) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = name if modules[name][1] else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        module = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
        return [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]

    def walk(name: str, node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in targets(name, child):
                    if target in modules and target != name:
                        edges.add((name, target))
                        if in_function:
                            late.add((name, target))
            walk(name, child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    for name, (path, _) in modules.items():
        walk(name, ast.parse(path.read_text(encoding="utf-8")), False)
    return edges, late


def _reaches(edges: set[tuple[str, str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(b for a, b in edges if a == node)
    return False


# Being removed by the UI restructuring (the InventoryActions mixin leaves the inventory screen):
# delete the entry when it lands.
def test_no_import_inside_a_function_hides_a_cycle():
    """An import inside a function may defer a heavy or optional import (Textual, reportlab,
    pymysql, a CLI command's services), never break a cycle the layout should not have."""
    edges, late = _imports()
    assert late, "the walk found no function-level import at all"
    hidden = sorted(
        f"{a} imports {b} in a function, and {b} leads back to {a}" for a, b in late if _reaches(edges, b, a)
    )
    assert not hidden, "\n".join(hidden)


def test_no_cycle_between_the_core_packages():
    """itsm_tui.core's packages and modules (store, tickets, ..., text) form no cycle: the folders
    show the layers."""
    edges, _ = _imports()

    def part(module: str) -> str:
        return ".".join(module.split(".")[:3])

    core = {
        (part(a), part(b))
        for a, b in edges
        if a.startswith("itsm_tui.core.") and b.startswith("itsm_tui.core.") and part(a) != part(b)
    }
    assert ("itsm_tui.core.tickets", "itsm_tui.core.store") in core  # the walk really found the core
    cycles = sorted(f"{a} <-> {b}" for a, b in core if _reaches(core, b, a))
    assert not cycles, "\n".join(cycles)
