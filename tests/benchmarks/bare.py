"""The bare references: a few lines of FastAPI + SQLAlchemy on the same database, with the service's own engine
settings (WAL, BEGIN IMMEDIATE for writes, synchronous=FULL). ``uvicorn tests.benchmarks.bare:app``."""

import os
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, select, update

from app.core.db import READ_ONLY, make_engine

engine = make_engine(os.environ["CAMINOS_DATABASE_URL"])
metadata = MetaData()
counter = Table("bench_counter", metadata, Column("id", Integer, primary_key=True), Column("n", Integer))
app = FastAPI()


@app.post("/bare/update/{key}")
def update_by_key(key: int, body: dict[str, Any]) -> dict[str, int]:
    with engine.begin() as conn:
        conn.execute(update(counter).where(counter.c.id == key).values(n=counter.c.n + 1))
    return {"updated": key}


@app.get("/bare/get/{key}")
def get_by_key(key: int) -> dict[str, int | None]:
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        return {"n": conn.scalar(select(counter.c.n).where(counter.c.id == key))}


@app.get("/__bench/stats")
async def stats() -> dict[str, Any]:
    return {"cpu_seconds": time.process_time(), "pid": os.getpid()}


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ok"}
