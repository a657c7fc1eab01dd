"""Dashboard tests: the cookie of a staff member is her access token (as the login page would set it)."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.dashboard.session import COOKIE, LOGIN_COOKIE, session_csrf
from tests.factories import Actor, Factory

SAME_ORIGIN = {"Origin": "https://testserver"}


def cookie(actor: Actor | None) -> dict[str, str]:
    return {} if actor is None else {"Cookie": f"{COOKIE}={actor.token}"}


def csrf(settings: Settings, actor: Actor) -> str:
    return session_csrf(settings, actor.token)


def login_form(client: TestClient) -> str:
    """Opens the login page; returns its form's token (its cookie stays in the client)."""
    page = client.get("/coordinacion/entrar")
    assert page.status_code == 200
    token = client.cookies.get(LOGIN_COOKIE)
    assert token
    assert f'name="csrf" value="{token}"' in page.text
    return token


@dataclass
class Cohorts:
    peru: list[Actor]
    chile: list[Actor]
    coordinator_pe: Actor
    coordinator_cl: Actor
    admin: Actor

    def names(self, women: list[Actor], client: TestClient) -> list[str]:
        return [client.get(f"/api/v1/participants/{w.participant_id}", headers=self.admin.headers).json()["last_name"]
                for w in women]


@pytest.fixture
def cohorts(factory: Factory) -> Cohorts:
    return Cohorts(
        peru=[factory.participant("PE", first_name="Rosa", last_name="Huamán Peruana"),
              factory.participant("PE", first_name="Juana", last_name="Quispe Andina", phone=None)],
        chile=[factory.participant("CL", first_name="Ximena", last_name="Chilote Reservada")],
        coordinator_pe=factory.coordinator("PE"), coordinator_cl=factory.coordinator("CL"), admin=factory.admin(),
    )


@pytest.fixture
def client(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """On https, as in production: the cookies are Secure outside development, and a client sends them back
    only there."""
    with TestClient(app, base_url="https://testserver") as client:
        yield client
