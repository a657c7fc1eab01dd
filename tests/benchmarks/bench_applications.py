"""Issue 2's benchmark: 400 self-applications at once (100 per country) against PostgreSQL.

Reports wall time, p50/p99 latency, the quota invariant (50 enrolled and 50 waitlisted per country, positions
1..50), and the ratio of applications per second to the rate at which one process of the same kind (uvicorn's
40 worker threads) computes the argon2id password hash alone: the floor cost of a self-application.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from app.core.config import Settings
from app.core.security import hash_password
from tests.benchmarks.harness import Latencies, fresh_database, service
from tests.factories import application

PER_COUNTRY = 100
COUNTRIES = ("PE", "CL", "CO", "MX")


async def _fire(base: str, bodies: list[dict[str, Any]]) -> tuple[float, list[float], list[int]]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
        latencies: list[float] = []
        codes: list[int] = []

        async def one(body: dict[str, Any]) -> None:
            started = time.perf_counter()
            response = await client.post("/api/v1/applications", json=body)
            latencies.append(time.perf_counter() - started)
            codes.append(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(one(body) for body in bodies))
        return time.perf_counter() - started, latencies, codes


def hash_rate(count: int, threads: int = 40) -> float:
    """Hashes per second with production argon2id parameters, on a pool like uvicorn's."""
    settings = Settings()
    hash_password(settings, "warm-up-password")
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: hash_password(settings, f"clave-segura-{i}"), range(count)))
    return count / (time.perf_counter() - started)


def check_invariants(url: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(url)
    result: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for code in COUNTRIES:
            rows = conn.execute(text(
                "SELECT status, waitlist_position FROM enrolment WHERE country_code = :c"), {"c": code}).all()
            enrolled = sum(1 for r in rows if r.status == "enrolled")
            positions = sorted(r.waitlist_position for r in rows if r.status == "waitlisted")
            result[code] = {"enrolled": enrolled, "waitlisted": len(positions),
                            "positions_contiguous": positions == list(range(1, len(positions) + 1))}
    engine.dispose()
    return result


def run() -> dict[str, Any]:
    bodies = [application(code) for code in COUNTRIES for _ in range(PER_COUNTRY)]
    with fresh_database("postgresql") as url, service(url) as base:
        wall, latencies, codes = asyncio.run(_fire(base, bodies))
        invariants = check_invariants(url)
    hashes_per_second = hash_rate(len(bodies))
    applications_per_second = len(bodies) / wall
    holds = all(v == {"enrolled": 50, "waitlisted": 50, "positions_contiguous": True} for v in invariants.values())
    return {
        "benchmark": "400 simultaneous self-applications (100 per country), PostgreSQL, 1 uvicorn worker",
        "wall_seconds": round(wall, 2),
        "status_codes": {str(c): codes.count(c) for c in sorted(set(codes))},
        **Latencies(latencies).summary(),
        "applications_per_second": round(applications_per_second, 1),
        "password_hashes_per_second_same_process_kind": round(hashes_per_second, 1),
        "ratio_to_hash_floor": round(applications_per_second / hashes_per_second, 2),
        "invariant_holds": holds,
        "per_country": invariants,
    }
