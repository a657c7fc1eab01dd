"""The ``caminos`` command."""

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app._resources import CHECKOUT, migrations_dir, modules_content_dir

if TYPE_CHECKING:
    # imported when used: alembic costs ~0.4 s of start-up that `caminos worker` and `serve` do not need; the
    # settings and the database (pydantic and SQLAlchemy, ~0.35 s; no FastAPI, see tests/test_structure.py) are
    # imported by the commands, so that `caminos worker` starts its render processes before it imports them
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

    from app.core.config import Settings

cli = typer.Typer(help="Caminos de Saberes: servicio, base de datos, usuarias y datos de demostración.",
                  no_args_is_help=True)
db_cli = typer.Typer(help="Base de datos.", no_args_is_help=True)
users_cli = typer.Typer(help="Cuentas de coordinadoras y administradoras.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
content_cli = typer.Typer(help="Contenidos de formación.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(content_cli, name="content")
certificates_cli = typer.Typer(help="Certificados.", no_args_is_help=True)
cli.add_typer(certificates_cli, name="certificates")
packages_cli = typer.Typer(help="Paquetes para estudiar sin conexión.", no_args_is_help=True)
cli.add_typer(packages_cli, name="packages")

ROOT = CHECKOUT  # the checkout's top level (in an installed package: wherever site-packages is)


def alembic_config(url: str | None = None) -> "Config":
    """Alembic configured in code, not from alembic.ini: an installed package has no alembic.ini, and its
    migrations are package data (app/_resources). alembic.ini stays for the ``alembic`` command in a checkout."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return config


def get_settings() -> "Settings":
    from app.core.config import get_settings

    return get_settings()


def _sessions(url: str) -> "sessionmaker[Session]":
    from app.core.db import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(url))


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations (creates the SQLite file if needed)."""
    from alembic import command

    url = get_settings().database_url
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)
    typer.echo(f"Base de datos al día ({revision}).")


@users_cli.command("create")
def users_create(
    role: Annotated[str, typer.Option(help="admin | coordinator")],
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    country: Annotated[str | None, typer.Option(help="PE, CL, CO o MX (coordinadoras)")] = None,
    full_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a coordinator or an administrator."""
    from pydantic import ValidationError

    from app.auth import service as auth_service
    from app.auth.schemas import UserCreate
    from app.core.errors import AppError
    from app.core.security import hash_password

    settings = get_settings()
    try:
        body = UserCreate(email=email, password=password, full_name=full_name or email.split("@")[0],
                          role=role, country=country.upper() if country else None)
    except ValidationError as exc:
        typer.echo(f"Datos no válidos: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from exc
    factory = _sessions(settings.database_url)
    password_hash = hash_password(settings, body.password)
    with factory() as session, session.begin():
        try:
            user = auth_service.create_user(session, None, body, password_hash)
        except AppError as exc:
            typer.echo(f"No se pudo crear: {exc.message_key}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"Creada: {user.email} ({user.role.value}{' ' + user.country_code if user.country_code else ''})")


@content_cli.command("load")
def content_load(
    path: Annotated[Path | None, typer.Argument(
        help="Carpeta de módulos (por omisión, los del programa: modules_content/ o los del paquete instalado)",
        show_default=False)] = None,
) -> None:
    """Validate every module and load them; on any problem, list them all and load nothing."""
    path = path or modules_content_dir()
    from app.content.loader import load_content
    from app.content.service import load_modules
    from app.content.spec import ContentInvalid

    try:
        specs = load_content(path)
    except ContentInvalid as invalid:
        typer.echo(f"El contenido tiene {len(invalid.problems)} problema(s); no se cargó nada:", err=True)
        for problem in invalid.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from invalid
    from app.storage import storage_for

    settings = get_settings()
    factory = _sessions(settings.database_url)
    storage = storage_for(settings)
    with factory() as session, session.begin():
        for loaded in load_modules(session, storage, specs):
            state = "versión nueva" if loaded.new_version else "sin cambios"
            typer.echo(f"  {loaded.slug}: v{loaded.number} {loaded.version[:12]} ({state})")
    # a new version needs its packages before a reader asks for them; unchanged ones are kept as they are
    _build_packages(force=False)


def _build_packages(force: bool) -> None:
    from app.offline.narration import MISSING_SYNTHESISER, find_synthesiser
    from app.offline.service import build_packages
    from app.offline.tiers import BUDGET_BYTES
    from app.storage import storage_for

    settings = get_settings()
    synthesiser = find_synthesiser()
    factory = _sessions(settings.database_url)
    over_budget = False
    typer.echo("Paquetes sin conexión:")
    with factory() as session, session.begin():
        for built in build_packages(session, storage_for(settings), synthesiser, force=force):
            state = "construido" if built.rebuilt else "sin cambios"
            budget = BUDGET_BYTES[built.tier]
            notes = [] if built.within_budget else [f"SUPERA el máximo de {budget / 1024:.0f} KB"]
            if built.missing_narration:
                notes.append(f"{built.narrated_lessons} de {built.lessons} lecciones narradas, "
                             f"{MISSING_SYNTHESISER}")
            over_budget |= not built.within_budget
            typer.echo(f"  {built.slug} {built.tier.value:5} {built.bytes / 1024:8.1f} KB  {state}"
                       f"  ({built.seconds:.1f} s){'; ' + '; '.join(notes) if notes else ''}")
    if synthesiser is None:
        typer.echo(f"Atención: el nivel «full» se construyó {MISSING_SYNTHESISER}.", err=True)
    if over_budget:
        raise typer.Exit(1)


@packages_cli.command("build")
def packages_build(
    force: Annotated[bool, typer.Option(help="Reconstruir también lo que no cambió")] = False,
) -> None:
    """Build every tier (text, light, full) of every current module version; what is built already is kept."""
    _build_packages(force)


@cli.command()
def demo() -> None:
    """Load demonstration data: an admin, one coordinator per country and about 20 applicants."""
    from app.demo import DemoRefused, load_demo

    settings = get_settings()
    factory = _sessions(settings.database_url)
    try:
        for line in load_demo(factory, settings):
            typer.echo(line)
    except DemoRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from refused


@certificates_cli.command("issue")
def certificates_issue(
    country: Annotated[str, typer.Option(help="PE, CL, CO o MX")],
    workers: Annotated[int | None, typer.Option(help="procesos que generan los PDF")] = None,
) -> None:
    """Issue the missing certificates of a country's graduates (again after an interruption: none twice)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from app.certificates import batch
    from app.enrolment.geography import COUNTRY_NAMES
    from app.storage import storage_for

    code = country.upper()
    if code not in COUNTRY_NAMES:
        typer.echo("País no válido: PE, CL, CO o MX.", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    factory = _sessions(settings.database_url)
    # an interrupted run of the same country is resumed rather than started anew
    with factory() as session, session.begin():
        job_id = next((j for j in batch.unfinished_of(session, code)), None) or batch.create_job(session, code,
                                                                                                  None).id
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn()) as bar, batch.render_pool(workers or settings.render_workers) as pool:
        task = bar.add_task(f"Certificados {COUNTRY_NAMES[code]}", total=None)
        job = batch.run(factory, settings, storage_for(settings), job_id, pool,
                        progress=lambda done, total: bar.update(task, completed=done, total=total))
    typer.echo(f"Trabajo {job.id}: {job.status.value}, {job.done} de {job.total} con certificado; "
               f"{len(job.errors)} con problemas.")
    for error in job.errors:
        typer.echo(f"  {error}", err=True)


@cli.command()
def worker(
    poll_seconds: Annotated[float, typer.Option(help="cada cuánto buscar trabajos nuevos (SQLite)")] = 2.0,
    once: Annotated[bool, typer.Option(help="ejecutar lo pendiente y salir")] = False,
) -> None:
    """Run bulk jobs (certificate batches) queued by the service, resuming interrupted ones.

    On PostgreSQL this is a procrastinate worker: start as many as you like, on any machine; a worker that dies
    leaves its job to the others. On SQLite it runs the job table directly (the service does it too).
    """
    import time

    from app.certificates import pool as render_pool

    # the fork server of the render processes first: it imports WeasyPrint on another core while this process
    # imports the settings, the database and the task code, with the garbage collector off: those imports make
    # ~176,000 objects that live as long as the process, and the two full collections they triggered only walked
    # them again (~0.16 s of the start-up's CPU)
    render_pool.start_forkserver()
    gc.disable()
    settings = get_settings()
    try:
        if settings.database_url.startswith("postgresql") and settings.runner != "in_process":
            with render_pool.render_pool(settings.render_workers) as pool:
                from app.jobs import postgres

                _started()
                postgres.work(settings, once=once, pool=pool)
            return
        from app.jobs.queue import run_all
        from app.storage import storage_for

        _started()
        factory = _sessions(settings.database_url)
        while True:
            ran = run_all(factory, settings, storage_for(settings), settings.render_workers)
            if once:
                typer.echo(f"{ran} trabajo(s) ejecutado(s).")
                return
            if not ran:
                time.sleep(poll_seconds)
    finally:
        # the process ends here: its memory goes back to the OS, so the interpreter's exit need not collect every
        # object of the modules it imported (~0.3 s of CPU after the last job)
        gc.freeze()
        gc.enable()


def _started() -> None:
    """The worker's start-up is over: what it imported is frozen (left out of every later collection) and the
    collector is on again for what the jobs make."""
    gc.freeze()
    gc.enable()


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    uvicorn.run("app.main:app", host=host, port=port, workers=workers, proxy_headers=False, access_log=False)


def main() -> None:
    cli()



