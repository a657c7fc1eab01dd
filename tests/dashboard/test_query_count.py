"""The dashboard's pages cost the same number of SQL statements for a few women or for many (no N+1)."""

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.dashboard.conftest import Cohorts, cookie
from tests.factories import Factory


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_statements_per_page_do_not_grow_with_the_cohort(client: TestClient, factory: Factory, engine: Engine,
                                                         cohorts: Cohorts) -> None:
    urls = ["/coordinacion/PE", "/coordinacion/PE/participantes", "/coordinacion/PE/participantes.csv"]

    def costs() -> list[int]:
        found = []
        for url in urls:
            with counted(engine) as statements:
                assert client.get(url, headers=cookie(cohorts.coordinator_pe)).status_code == 200
            found.append(len(statements))
        return found

    few = costs()
    for _ in range(12):
        factory.participant("PE")
    assert costs() == few, few
