"""The README's production steps as written: `pip install .`, then `caminos db upgrade` and `caminos content load`,
run from a folder that is not the checkout, with nothing of the checkout on the path.

The wheel is built from a copy of the sources (so the checkout gets no build/ or egg-info), unpacked, and the
console script's entry point is run with the unpacked wheel first on PYTHONPATH (its dependencies come from this
virtualenv, as `pip install .` would have installed them)."""

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from app.models import ContentModule

CHECKOUT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "app", "migrations", "modules_content", "certificates")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    for name in SOURCES:
        origin = CHECKOUT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w",
         str(tmp / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = (tmp / "dist").glob("caminos-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    site = wheel.parent / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_the_wheel_holds_every_module_migration_and_lesson(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    # a package added to app/ but not to pyproject.toml's list would be missing from the installed service
    assert {f"app/{name}" for name in files_under(CHECKOUT / "app")} <= names
    assert {f"app/_resources/migrations/{name}" for name in files_under(CHECKOUT / "migrations")} <= names
    assert {f"app/_resources/modules_content/{name}" for name in files_under(CHECKOUT / "modules_content")} <= names
    assert {f"app/_resources/certificates/{name}" for name in files_under(CHECKOUT / "certificates")} <= names
    assert not any(name.startswith(("migrations/", "modules_content/", "tests/")) for name in names)


def test_db_upgrade_and_content_load_work_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    entry_points = configparser.ConfigParser()
    (dist_info,) = installed.glob("caminos-*.dist-info")
    entry_points.read(dist_info / "entry_points.txt")
    module, function = entry_points["console_scripts"]["caminos"].split(":")
    elsewhere = tmp_path / "srv"
    elsewhere.mkdir()
    url = f"sqlite:///{tmp_path / 'caminos.db'}"
    env = {
        # no espeak-ng on this PATH: narration (minutes of synthesis) is tested in tests/offline, the wheel here
        "PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(installed), "CAMINOS_DATABASE_URL": url,
        "CAMINOS_DATA_DIR": str(tmp_path / "data"), "CAMINOS_ENVIRONMENT": "development",
    }

    def caminos(*arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", f"import sys, app; print('app from', app.__file__, file=sys.stderr); "
                                   f"from {module} import {function}; {function}()", *arguments],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        # the installed copy ran, not the checkout (which is not on the path from here)
        assert f"app from {installed / 'app' / '__init__.py'}" in done.stderr, done.stderr
        return done.stdout

    assert "Base de datos al día (head)" in caminos("db", "upgrade")
    loaded = caminos("content", "load")
    assert loaded.count("versión nueva") == 6, loaded
    assert caminos("content", "load").count("(sin cambios)") == 6  # every module; the packages are reported too
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ContentModule)).scalar_one() == 6
    engine.dispose()
    assert any((tmp_path / "data" / "blobs").rglob("*")), "the lessons' images are in CAMINOS_DATA_DIR"
