"""The `caminos` command, as an administrator in Bogotá would run it against a fresh SQLite file."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from app.cli import ROOT, cli
from app.core.config import get_settings
from app.models import ContentBlob, ContentModule, OfflinePackage, Role, User

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in {"CAMINOS_DATABASE_URL": url, "CAMINOS_DATA_DIR": str(tmp_path / "data"),
                        "CAMINOS_PASSWORD_TIME_COST": "1",
                        "CAMINOS_PASSWORD_MEMORY_KIB": "1024", "CAMINOS_PASSWORD_PARALLELISM": "1",
                        # no espeak-ng on the PATH: packages build fast, without narration (tests/offline has it)
                        "PATH": str(tmp_path / "sin-programas")}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield url
    get_settings.cache_clear()


def count(url: str, stmt: object) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(stmt).scalar_one()  # type: ignore[call-overload]
    engine.dispose()
    return int(value)


def test_users_create_makes_a_coordinator_who_can_be_found(database):
    result = runner.invoke(cli, ["users", "create", "--role", "coordinator", "--country", "pe",
                                 "--email", "Coord@Example.org", "--password", "clave-segura-123"])
    assert result.exit_code == 0, result.output
    engine = create_engine(database)
    with engine.connect() as conn:
        row = conn.execute(select(User.email, User.role, User.country_code)).one()
    engine.dispose()
    assert tuple(row) == ("coord@example.org", Role.COORDINATOR, "PE")


@pytest.mark.parametrize("arguments", [
    ["--role", "coordinator", "--email", "sin-pais@example.org", "--password", "clave-segura-123"],
    ["--role", "admin", "--email", "no-es-correo", "--password", "clave-segura-123"],
    ["--role", "admin", "--email", "corta@example.org", "--password", "corta"],
    ["--role", "participant", "--email", "p@example.org", "--password", "clave-segura-123"],
])
def test_users_create_refuses_bad_input_and_creates_nothing(database, arguments):
    result = runner.invoke(cli, ["users", "create", *arguments])
    assert result.exit_code != 0
    assert count(database, select(func.count()).select_from(User)) == 0


def test_content_load_loads_the_programme_and_is_idempotent(database, tmp_path):
    first = runner.invoke(cli, ["content", "load"])
    assert first.exit_code == 0, first.output
    assert first.output.count("versión nueva") == 6
    # and the packages of the new versions, the full tier plainly said to be without narration
    assert first.output.count("construido") == 18
    assert "el nivel «full» se construyó sin narración: no se encontró espeak-ng" in first.output
    again = runner.invoke(cli, ["content", "load"])
    assert again.exit_code == 0, again.output
    assert again.output.count("sin cambios") == 6 + 18
    assert count(database, select(func.count()).select_from(ContentModule)) == 6
    built = runner.invoke(cli, ["packages", "build"])
    assert built.exit_code == 0, built.output
    assert built.output.count("sin cambios") == 18
    # every image and package file is a file in CAMINOS_DATA_DIR, named by its hash, one per blob row; the
    # zips and manifests (served to enrolled readers only) have no blob row
    files = {path.name for path in (tmp_path / "data" / "blobs").glob("*/*")}
    engine = create_engine(database)
    with engine.connect() as conn:
        blobs = set(conn.execute(select(ContentBlob.sha256)).scalars())
        packages = set(conn.execute(select(OfflinePackage.zip_sha256)).scalars()) | set(
            conn.execute(select(OfflinePackage.manifest_sha256)).scalars())
    engine.dispose()
    assert blobs
    assert len(packages) == 2 * 18
    assert files == blobs | packages


def test_a_symbolic_link_in_the_content_is_refused_and_nothing_loads(database, tmp_path):
    content = tmp_path / "contenido"
    shutil.copytree(ROOT / "modules_content", content)
    image = next((content / "02-mi-emprendimiento-cultural" / "media").iterdir())
    outside = tmp_path / image.name
    image.rename(outside)
    image.symlink_to(outside)
    result = runner.invoke(cli, ["content", "load", str(content)])
    assert result.exit_code == 1
    assert f"02-mi-emprendimiento-cultural/media/{image.name}:1: Es un enlace simbólico" in result.output
    assert count(database, select(func.count()).select_from(ContentModule)) == 0
    assert not (tmp_path / "data").exists()


def test_broken_content_names_the_file_and_line_and_loads_nothing(database, tmp_path):
    content = tmp_path / "contenido"
    shutil.copytree(ROOT / "modules_content", content)
    lesson = next((content / "03-costos-y-precio-justo").glob("01-*.md"))
    lesson.write_text(lesson.read_text() + "\n<script>alert(1)</script>\n")
    result = runner.invoke(cli, ["content", "load", str(content)])
    assert result.exit_code == 1
    assert f"03-costos-y-precio-justo/{lesson.name}:" in result.output
    assert count(database, select(func.count()).select_from(ContentModule)) == 0


def test_demo_creates_staff_and_applicants_once(database):
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "admin@caminos.demo" in first.output
    users = count(database, select(func.count()).select_from(User))
    assert users == 1 + 4 + 20
    again = runner.invoke(cli, ["demo"])
    assert again.exit_code == 0
    assert count(database, select(func.count()).select_from(User)) == users


def test_demo_refuses_to_run_in_production(database, monkeypatch):
    monkeypatch.setenv("CAMINOS_ENVIRONMENT", "production")
    monkeypatch.setenv("CAMINOS_SECRET_KEY", "una-clave-de-produccion-de-verdad")
    get_settings.cache_clear()

    result = runner.invoke(cli, ["demo"])

    assert result.exit_code == 1
    assert "CAMINOS_ENVIRONMENT=production" in result.output
    assert count(database, select(func.count()).select_from(User)) == 0
