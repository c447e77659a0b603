"""The shape of the code: no import cycle between the core's and the built-in plugins' modules, and no
module reaching into another's private names. Read from the source (``ast``), so an import inside a
function counts as much as one at the top: a cycle hidden in a function is still a cycle. Only the
imports made for type annotations (``if TYPE_CHECKING:``) are left out: they never run."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"intranet": ROOT / "intranet"} | {
    f"intranet_{folder.name}": folder
    for folder in sorted((ROOT / "plugins").iterdir())
    if (folder / "__init__.py").is_file()
}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if "migrations" in parts:  # alembic's scripts are loaded by path, never imported
                continue
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _runtime_nodes(tree: ast.AST):
    """Every node that runs, at import or in a function: not the ``if TYPE_CHECKING:`` blocks, which
    only name types for annotations (hookspecs are typed with the models that import the manager)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for each import statement anywhere in the file."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    package = module if _is_package(module) else module.rpartition(".")[0]
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def _targets(base: str, names: list[str]) -> set[str]:
    """The project modules an import loads: ``from p import m`` names module ``p.m`` when it is one."""
    if not names:
        while base and base not in MODULES:
            base = base.rpartition(".")[0]
        return {base} if base else set()
    submodules = {f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES}
    rest = [n for n in names if f"{base}.{n}" not in MODULES]
    return submodules | ({base} if rest and base in MODULES else set())


def _graph() -> dict[str, set[str]]:
    return {
        module: {t for base, names, _ in _imports(module) for t in _targets(base, names)} - {module}
        for module in MODULES
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the path that closes it, or None (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, path + [node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_the_walk_sees_function_level_imports_and_the_plugins():
    assert "intranet_scheduling.services" in MODULES and "intranet.plugins" in MODULES
    graph = _graph()
    assert "intranet_scheduling.services" in graph["intranet_meetings.services"]
    assert "intranet_questions.services" in graph["intranet_questions"]  # imported inside a hook function
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None and _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for module in MODULES:
        for base, names, line in _imports(module):
            if base.split(".")[0] not in PACKAGES or base == module:
                continue
            offenders += [
                f"{MODULES[module].relative_to(ROOT)}:{line} takes {base}.{n}"
                for n in names
                if n.startswith("_") and not n.startswith("__") and f"{base}.{n}" not in MODULES
            ]
    assert not offenders, "private names used across modules:\n" + "\n".join(offenders)
