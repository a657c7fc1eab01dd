"""DESIGN.md's layering, checked on the source: no package imports a package that imports it back, and ``core``
stays below ``models`` and every feature."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "app" and len(parts) > 1 else None


def imports_between_packages() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        relative = path.relative_to(APP).parts
        if len(relative) == 1:  # app/main.py, app/cli.py, app/demo.py: the top, which may import anything
            continue
        package = relative[0] if len(relative) > 1 else path.stem
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if (target := package_of(name)) and target != package and (APP / target).is_dir():
                    graph.setdefault(package, set()).add(target)
    return graph


def test_no_package_imports_one_that_imports_it_back() -> None:
    graph = imports_between_packages()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    cycles = sorted(p for p in graph if reaches(p, p, {p}))
    assert cycles == []


def test_core_imports_no_other_package_of_the_app() -> None:
    assert imports_between_packages().get("core", set()) == set()


def test_models_import_only_core() -> None:
    assert imports_between_packages().get("models", set()) <= {"core"}
