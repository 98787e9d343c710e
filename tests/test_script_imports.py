"""The scripts and the bench import only what exists: a module moved by a refactor (core/demo.py went to
workflows/demo.py) broke `make screenshots` without any test noticing, since no test runs it."""
import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("scripts/*.py"), *ROOT.glob("bench/*.py")])


def _top_level_names(path: Path) -> set:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    names.add(sub.name)
                elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                    names.update((a.asname or a.name).split(".")[0] for a in sub.names)
                elif isinstance(sub, ast.Assign):
                    names.update(n.id for t in sub.targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_hypersnn_import_in_scripts_and_bench_resolves(path):
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hypersnn"):
            spec = importlib.util.find_spec(node.module)
            if spec is None:
                bad.append(f"line {node.lineno}: no module {node.module}")
                continue
            if not spec.origin or not spec.origin.endswith(".py"):
                continue
            have = _top_level_names(Path(spec.origin))
            for a in node.names:
                if a.name not in have and importlib.util.find_spec(f"{node.module}.{a.name}") is None:
                    bad.append(f"line {node.lineno}: {node.module} has no {a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("hypersnn.") and importlib.util.find_spec(a.name) is None:
                    bad.append(f"line {node.lineno}: no module {a.name}")
    assert not bad, f"{path.relative_to(ROOT)}: " + "; ".join(bad)
