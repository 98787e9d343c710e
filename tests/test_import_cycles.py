"""No import cycles among the project's modules (tests aside): core/, workflows/, cli/, plugin/, ui/ and bench/.

Every import counts, also one inside a function: a lazy import hides a cycle from Python's loader, not from a
reader, who then cannot read either module without the other. Found cycles (issue 21): core/config/schema.py <->
core/config/settings.py, core/mapping/predict.py <-> core/data/prepare.py (through splits, crossval and evaluation), and bench's
run -> common -> report -> grouped_screen -> run.
"""
import ast
from pathlib import Path

from test_layers import imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "workflows", "cli", "plugin", "ui", "bench")


def module_graph(root: Path, packages=PACKAGES) -> dict:
    """{module: set of project modules it imports}, modules named like 'core.config.schema' (a package by its folder)."""
    files = [p for d in packages for p in sorted((root / d).rglob("*.py"))]
    names = {}
    for p in files:
        rel = p.relative_to(root).as_posix()
        name = rel[:-3].replace("/", ".")
        names[name[:-len(".__init__")] if name.endswith(".__init__") else name] = rel
    graph = {}
    for name, rel in names.items():
        out = set()
        for mod in imports(rel, (root / rel).read_text()):
            if mod.startswith("ext:"):  # bench's modules import each other absolutely: `from bench import common`
                mod = mod[4:]
                if mod.split(".")[0] not in packages:
                    continue
            parts = mod.split(".")
            while parts and ".".join(parts) not in names:
                parts.pop()
            target = ".".join(parts)
            if target and target != name and not name.startswith(target + "."):  # a package's own __init__
                out.add(target)
        graph[name] = out
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_back_through_others():
    graph = module_graph(ROOT)
    assert len(graph) > 100 and "core.config.schema" in graph and "bench.run" in graph and "cli.commands" in graph
    assert cycles(graph) == []


def test_the_check_finds_a_cycle_made_by_a_lazy_import(tmp_path):
    """The check itself can fail: a two-module cycle whose back edge is a function-level import, and a longer one."""
    core = tmp_path / "core"
    core.mkdir()
    (core / "__init__.py").write_text("")
    (core / "a.py").write_text("from .b import f\n")
    (core / "b.py").write_text("def f():\n    from .a import g\n    return g\n")
    (core / "c.py").write_text("from . import d\n")
    (core / "d.py").write_text("from hypersnn.core import e\n")
    (core / "e.py").write_text("import hypersnn.core.c\n")
    (core / "f.py").write_text("from .a import x\n")  # imports into a cycle, is not part of it
    found = cycles(module_graph(tmp_path, packages=("core",)))
    assert found == [["core.a", "core.b"], ["core.c", "core.d", "core.e"]]
    ast.parse((core / "b.py").read_text())
