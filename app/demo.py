"""Demonstration data for ``make run``: staff accounts and about twenty applicants, through the real services."""

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth_service
from app.auth.principal import Principal
from app.auth.schemas import UserCreate
from app.core.config import Settings
from app.core.security import hash_password
from app.enrolment import service as enrolment_service
from app.enrolment.schemas import ApplicationIn
from app.models import Role, User
from app.privacy.notice import CURRENT_NOTICE_VERSION

ADMIN = ("admin@caminos.demo", "demo-admin-2026", "Administradora Demo")
COORDINATORS = {
    "PE": ("coordinadora.pe@caminos.demo", "Rosa Quispe Huamán"),
    "CL": ("coordinadora.cl@caminos.demo", "Carmen Huenchullán"),
    "CO": ("coordinadora.co@caminos.demo", "Luz Dary Tunubalá"),
    "MX": ("coordinadora.mx@caminos.demo", "Guadalupe Hernández López"),
}
COORDINATOR_PASSWORD = "demo-coord-2026"
PARTICIPANT_PASSWORD = "demo-participante-2026"

APPLICANTS = [
    ("PE", "Cajamarca", "Porcón Alto", "Marleni", "Chuquilín Tanta"),
    ("PE", "Huancavelica", "Lircay", "Yolanda", "Quispe Ccanto"),
    ("PE", "Amazonas", "Lamud", "Nelly", "Tuesta Vela"),
    ("PE", "Apurímac", "Andahuaylas", "Hilda", "Huamaní Soto"),
    ("PE", "Cajamarca", "Chota", "Doris", "Vásquez Díaz"),
    ("CL", "La Araucanía", "Curarrehue", "Margarita", "Painemal Huenchul"),
    ("CL", "Los Lagos", "Chonchi", "Ruth", "Cárcamo Barría"),
    ("CL", "Arica y Parinacota", "Putre", "Juana", "Mamani Choque"),
    ("CL", "Biobío", "Alto Biobío", "Elena", "Purrán Manquepi"),
    ("CL", "Maule", "Vichuquén", "Rosa", "Arellano Pino"),
    ("CO", "Boyacá", "Ráquira", "Ana Lucía", "Rodríguez Suárez"),
    ("CO", "Cauca", "Silvia", "Mercedes", "Tumiñá Yalanda"),
    ("CO", "La Guajira", "Uribia", "Rosalba", "Epiayú Uriana"),
    ("CO", "Nariño", "Pasto", "Aura", "Jojoa Botina"),
    ("CO", "Chocó", "Quibdó", "Yesenia", "Mosquera Palacios"),
    ("MX", "Oaxaca", "Teotitlán del Valle", "Guadalupe", "Bautista Ruiz"),
    ("MX", "Chiapas", "Zinacantán", "Petrona", "Pérez Hernández"),
    ("MX", "Michoacán", "Paracho", "Rosa María", "Cuiriz Tapia"),
    ("MX", "Yucatán", "Maxcanú", "Wendy", "Canché Pech"),
    ("MX", "Puebla", "Cuetzalan", "Irma", "Tepetla Ayotla"),
]


class DemoRefused(Exception):
    pass


def load_demo(factory: sessionmaker[Session], settings: Settings) -> Iterator[str]:
    if settings.environment == "production":
        # known passwords on a live programme's database would open every account
        raise DemoRefused("caminos demo no se ejecuta con CAMINOS_ENVIRONMENT=production: crea cuentas con "
                          "contraseñas conocidas.")
    with factory() as session, session.begin():
        if session.scalar(select(User.id).where(User.email == ADMIN[0])) is not None:
            yield "Los datos de demostración ya estaban cargados."
            yield from _logins()
            return
    staff_hash = hash_password(settings, COORDINATOR_PASSWORD)
    participant_hash = hash_password(settings, PARTICIPANT_PASSWORD)
    with factory() as session, session.begin():
        admin = auth_service.create_user(
            session, None, UserCreate(email=ADMIN[0], password=ADMIN[1], full_name=ADMIN[2], role=Role.ADMIN),
            hash_password(settings, ADMIN[1]),
        )
        for country, (email, name) in COORDINATORS.items():
            auth_service.create_user(session, None, UserCreate(
                email=email, password=COORDINATOR_PASSWORD, full_name=name, role=Role.COORDINATOR,
                country=country,
            ), staff_hash)
        actor = Principal(user_id=admin.id, role=Role.ADMIN, country=None, participant_id=None, token_id=0)
        for index, (country, region, locality, first, last) in enumerate(APPLICANTS):
            body = ApplicationIn(
                country=country, consent={"accepted": True, "version": CURRENT_NOTICE_VERSION},
                first_name=first, last_name=last, email=f"participante{index + 1:02d}@caminos.demo",
                password=PARTICIPANT_PASSWORD, birth_date=date(1970 + index, 3, 1 + index), gender="female",
                region=region, locality=locality, is_rural=True, has_internet=True,
            )
            enrolment_service.apply(session, settings, actor, body, participant_hash, None)
    yield "Datos de demostración cargados."
    yield from _logins()


def _logins() -> Iterator[str]:
    yield f"  administradora: {ADMIN[0]} / {ADMIN[1]}"
    for country, (email, _name) in COORDINATORS.items():
        yield f"  coordinadora {country}: {email} / {COORDINATOR_PASSWORD}"
    yield f"  participante: participante01@caminos.demo (o su código, p. ej. PE-0001) / {PARTICIPANT_PASSWORD}"
