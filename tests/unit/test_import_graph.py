"""No import cycles between the project's own modules.

The files are read with `ast`, never imported. Every import counts, at the top of
a module or inside a function (a lazy import only hides a cycle until the function
runs). A package's `__init__.py` is the package itself: `from channels import
speedups` is an import of channels.speedups, `from bot import x` of bot when x is
not a module of its own. Imports of anything outside PROJECT_PACKAGES (Rasa,
rasa_sdk, the tests) are not followed.
"""
import ast
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]

# The packages whose modules make up the graph.
PROJECT_PACKAGES = ("bot", "actions", "channels", "components", "scripts")
# The packages a cycle may not touch: all of them.
CYCLE_FREE_PACKAGES = ("actions", "bot", "channels", "components", "scripts")

Graph = Dict[str, Set[str]]


def module_files(root: Path, packages: Iterable[str]) -> Dict[str, Path]:
    """Module name -> file, for every .py file below the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _project_module(name: str, modules: Dict[str, Path]) -> Optional[str]:
    """The project module that `import name` runs last: the longest prefix that is one."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: Dict[str, Path]) -> Set[str]:
    """The project modules that `module` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(_project_module(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package, up level - 1
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = ".".join(part for part in (package, node.module) if part)
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else _project_module(base, modules))
    found.discard(None)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = PROJECT_PACKAGES) -> Graph:
    modules = module_files(root, packages)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def tangles(graph: Graph) -> List[List[str]]:
    """The strongly connected parts of the graph that hold a cycle (Tarjan), each sorted."""
    index: Dict[str, int] = {}
    lowest: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                lowest[module] = min(lowest[module], lowest[target])
            elif target in on_stack:
                lowest[module] = min(lowest[module], index[target])
        if lowest[module] == index[module]:
            part = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                part.append(member)
                if member == module:
                    break
            if len(part) > 1 or module in graph.get(module, ()):
                found.append(sorted(part))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def shortest_cycle(graph: Graph, start: str, within: Set[str]) -> List[str]:
    """start -> ... -> start, as few imports as there can be, inside one tangle."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(graph.get(module, ())):
                if target == start:
                    return paths[module] + [start]
                if target in within and target not in paths:
                    paths[target] = paths[module] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is in no cycle")


def describe(graph: Graph, tangle: List[str]) -> str:
    """One cycle of the tangle, and every module in it when the cycle leaves some out."""
    cycle = shortest_cycle(graph, tangle[0], set(tangle))
    named = " -> ".join(cycle)
    if len(set(cycle)) < len(tangle):
        named += f" (all tangled together: {', '.join(tangle)})"
    return named


def cycles_touching(graph: Graph, packages: Iterable[str]) -> List[str]:
    packages = tuple(packages)
    return [describe(graph, tangle) for tangle in tangles(graph)
            if any(module.split(".")[0] in packages for module in tangle)]


def test_no_import_cycle_between_our_modules():
    cycles = cycles_touching(import_graph(), CYCLE_FREE_PACKAGES)
    assert not cycles, "import cycles:\n  " + "\n  ".join(cycles)


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """A cycle through a lazy import, a relative import and a package's __init__ is found."""
    files = {
        "shop/__init__.py": "from shop.till import ring\n",
        "shop/till.py": "def ring():\n    from .stock import count\n    return count()\n",
        "shop/stock.py": "import shop\nimport os\n",
        "shop/sign.py": "from shop import till\n",
        "yard/gate.py": "from shop import sign\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, ("shop", "yard"))
    assert graph["shop.sign"] == {"shop.till"}
    assert graph["yard.gate"] == {"shop.sign"}
    assert tangles(graph) == [["shop", "shop.stock", "shop.till"]]
    assert cycles_touching(graph, ("shop",)) == ["shop -> shop.till -> shop.stock -> shop"]
    assert cycles_touching(graph, ("yard",)) == []
