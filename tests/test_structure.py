"""DESIGN.md's layering, checked on the source: no package imports a package that imports it back, and ``core``
stays below ``models`` and every feature. And the job worker's imports leave out the web framework."""

import ast
import json
import os
import subprocess
import sys
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


# what `caminos worker` imports (app/cli.py's worker command), run in a fresh interpreter that notes which module
# imports fastapi or starlette first
WORKER_IMPORTS = """
import builtins, json, sys

WEB = ("fastapi", "starlette")
importers = {}
_import = builtins.__import__

def noting_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "?")
    if level == 0 and name.partition(".")[0] in WEB and importer.partition(".")[0] not in WEB:
        importers.setdefault(importer, name)
    return _import(name, globals, locals, fromlist, level)

builtins.__import__ = noting_import
from app.core.config import get_settings
get_settings()
import app.certificates.batch, app.certificates.pool, app.cli, app.jobs.postgres, app.jobs.queue, app.storage
print(json.dumps({"loaded": sorted({m.partition(".")[0] for m in sys.modules} & set(WEB)), "importers": importers}))
"""


def test_the_job_worker_imports_neither_fastapi_nor_starlette(tmp_path: Path) -> None:
    """They cost the worker ~0.2 s at start-up, before its first certificate. Services import plain
    modules (app.core.db, app.core.errors, app.auth.principal, app.storage ...); FastAPI dependencies live in
    modules of their own (app/core/dependencies.py, app/<feature>/dependencies.py, app/core/error_handlers.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMINOS_")}
    done = subprocess.run([sys.executable, "-c", WORKER_IMPORTS], cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(APP.parent)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    culprits = "; ".join(f"{importer} imports {name}" for importer, name in sorted(found["importers"].items()))
    assert found["loaded"] == [], f"the worker's imports load {found['loaded']}: {culprits}"
