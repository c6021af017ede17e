"""The layout of STYLE.md, read from the source: imports between apps run one way, and no module
imports itself back through others (a cycle), not even from inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# The platform, lowest first: each may import those before it, and no domain app.
PLATFORM = ["protection", "audit", "accounts", "operations", "notifications"]
# What each domain app may import besides the platform.
DOMAIN = {
    "cases": set(),
    "housing": {"cases"},
    "payments": {"cases"},
    "journeys": {"cases"},
}
APPS = [*PLATFORM, *DOMAIN, "config"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for app in APPS for path in sorted((ROOT / app).rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every absolute import of the module, at any depth (module level or inside a function)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


MODULES = _modules()


def _may_import(importer: str, imported: str) -> bool:
    if importer == imported or importer == "config":
        return True
    if imported == "config":
        return False
    if importer in PLATFORM:
        return imported in PLATFORM and PLATFORM.index(imported) < PLATFORM.index(importer)
    return imported in PLATFORM or imported in DOMAIN[importer]


def test_the_apps_this_test_knows_are_the_installed_ones():
    project_apps = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]
    assert project_apps == [*PLATFORM, *DOMAIN]


def test_imports_between_apps_run_one_way():
    wrong = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items()
        for name in _imports(path)
        if name.split(".")[0] in APPS and not _may_import(module.split(".")[0], name.split(".")[0])
    )
    assert not wrong, "against the layout of STYLE.md: " + "; ".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_module_imports_itself_back():
    graph = {
        module: {name for name in _imports(path) if name in MODULES and name != module}
        for module, path in MODULES.items()
        if ".migrations" not in module
    }
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def test_the_checks_can_fail(tmp_path):
    """A function-level import back is a cycle too, and the app rules refuse what they should."""
    (tmp_path / "first.py").write_text("def f():\n    from second import g\n")
    (tmp_path / "second.py").write_text("from first import f\n")
    graph = {"first": _imports(tmp_path / "first.py"), "second": _imports(tmp_path / "second.py")}
    assert _cycles(graph) == [["first", "second", "first"]]
    assert not _may_import("protection", "audit")
    assert not _may_import("operations", "cases")
    assert not _may_import("cases", "housing")
    assert not _may_import("housing", "payments")
    assert _may_import("payments", "cases")
    assert _may_import("operations", "protection")
    assert _may_import("journeys", "cases")
    assert not _may_import("cases", "journeys")
    assert not _may_import("journeys", "housing")


# The modules STYLE.md names, which grow into packages with a module per noun.
LAYERS = ("views", "services", "selectors", "models", "forms", "urls", "admin", "tasks")
MAX_MODULE_LINES = 600


def test_no_module_passes_600_lines():
    long = {
        module: count
        for module, path in MODULES.items()
        if ".migrations" not in module
        and (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"make these packages with a module per noun: {long}"


def test_no_layer_has_a_sibling_file_with_a_prefix():
    """`cases/views/erasure.py`, never `cases/erasure_views.py`."""
    prefixed = sorted(
        str(path.relative_to(ROOT))
        for path in MODULES.values()
        if "migrations" not in path.parts
        and any(path.stem.endswith(f"_{layer}") for layer in LAYERS)
    )
    assert not prefixed
