"""200 certificates in one batch, as production issues them: the service queues the batch on procrastinate
(PostgreSQL) and a `caminos worker` process runs it through the real task code and its render pool.

Compared, in the same run, with the same 200 certificates (same template, fonts, CSS and PDF/A-3u) rendered one
after another in a fresh process, twice: by plain WeasyPrint (``write_pdf``, the issue's baseline), and by the
service's own renderer (``render_pdf``: the same call made clear of CPython's stack-chunk boundaries, see
app/certificates/render.py), which leaves only what the pool costs and saves. Every clock includes its start-up:
the worker's from its process start (imports, procrastinate, the pool's fork server and warm-up) to its exit, each
plain one's likewise. CPU seconds are reported too: on a machine shared with other work the wall clocks of two runs
a minute apart see different loads, the CPU they use does not. The whole is run three times, each batch followed
at once by its two plain renders, and the medians reported. The goal is a ratio of at most 0.6 on 2 cores.
The worker's peak memory is the largest sum of the resident sets of its process and its pool children, sampled
every 50 ms (shared pages are counted once per process, so this overstates a little); the sampler walks only the
worker's own process tree, so that it takes next to no CPU from the batch it measures.

``stack_chunks`` shows why the renderer differs from plain WeasyPrint: page faults and CPU per page with the
caller at different stack depths, for each.
"""


import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.certificates.pool import default_workers
from app.certificates.render import CertificateContent, ModuleLine, verify_url
from app.core.db import make_engine, make_sessionmaker
from app.main import create_app
from app.models import Certificate, Job
from app.progress import service as progress_service
from app.storage import storage_for
from tests.benchmarks.harness import ROOT, fresh_database
from tests.certificates.conftest import events_completing_the_programme
from tests.conftest import make_test_settings
from tests.factories import Factory
from tests.progress.conftest import Catalogue, programme

CERTIFICATES = 200
REPEATS = 3
TICKS = os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from each thread's list of children (not a walk of all of /proc, which took
    ~4 ms of CPU a sample: 7 % of a core taken from the batch being measured)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                todo.extend(int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except OSError:
            continue  # ended meanwhile
    return found


class PeakMemory:
    """The largest resident memory of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self.peak_processes = pid, 0, 0
        self.cpu_ticks: dict[int, int] = {}  # the last CPU time seen of each process (utime + stime)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            pids = _tree(self.pid)
            total = sum(_rss_kib(pid) for pid in pids)
            for pid in pids:
                self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), _ticks(pid))
            if total > self.peak_kib:
                self.peak_kib, self.peak_processes = total, len(pids)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _graduates(factory: Any, settings: Any, storage: Any) -> list[int]:
    with factory() as session, session.begin():  # one country's 200, so that they make one batch
        session.execute(text("UPDATE country SET capacity = :n WHERE code = 'PE'"), {"n": CERTIFICATES})
    Catalogue(sessions=factory, storage=storage, specs={}).load(*programme())
    people = Factory(factory, settings)
    cat = Catalogue(sessions=factory, storage=storage, specs={})
    ids = []
    for _ in range(CERTIFICATES):
        actor = people.participant("PE")
        assert actor.participant_id is not None
        with factory() as session, session.begin():
            progress_service.record_events(session, actor.participant_id,
                                           events_completing_the_programme(cat, datetime.now(UTC)
                                                                           - timedelta(minutes=5)), None)
        ids.append(actor.participant_id)
    return ids


def _contents(factory: Any, public_base_url: str) -> list[CertificateContent]:
    """What the batch printed, certificate by certificate, to render again the plain way."""
    with factory() as session:
        return [CertificateContent(code=c.code, holder_name=c.holder_name, country=c.country,
                                   modules=tuple(ModuleLine(**m) for m in c.modules), completed_at=c.completed_at,
                                   issued_at=c.issued_at, verify_url=verify_url(public_base_url, c.code))
                for c in session.scalars(select(Certificate).order_by(Certificate.id))]


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


_PLAIN_LOOP = """
import pickle, sys
from app.certificates.render import {renderer} as render
with open(sys.argv[1], "rb") as held:
    contents = pickle.load(held)
for content in contents:
    render(content)
"""


def _plain(contents: list[CertificateContent], folder: Path, renderer: str) -> tuple[float, float]:
    """The certificates one after another by ``renderer`` (``write_pdf``: plain WeasyPrint; ``render_pdf``: the
    service's renderer) in a fresh process of its own, clocked from its start as the worker is: (wall seconds, CPU
    seconds). Not in this process: its heap (the app, the test factories) makes every garbage collection of a
    render slower, which flattered the ratio by about a tenth."""
    held = folder / "contents.pickle"
    held.write_bytes(pickle.dumps(contents))
    started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", _PLAIN_LOOP.format(renderer=renderer), str(held)], cwd=ROOT, check=True)
    return time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - cpu


_STACK_CHUNKS = """
import json, pickle, resource, sys, time
from app.certificates.render import render_pdf, write_pdf
with open(sys.argv[1], "rb") as held:
    contents = pickle.load(held)[:2]
write_pdf(contents[0])  # fonts, CSS and caches made before anything is counted

def at_depth(depth, render, content):
    return at_depth(depth - 1, render, content) if depth else render(content)

found = {}
for name, render in (("write_pdf", write_pdf), ("render_pdf", render_pdf)):
    for depth in range(0, 200, 10):
        faults, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
        for content in contents:
            at_depth(depth, render, content)
        found.setdefault(name, []).append(
            [depth, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) // len(contents),
             round((time.process_time() - cpu) * 1000 / len(contents), 1)])
print(json.dumps(found))
"""


def _stack_chunks(folder: Path) -> dict[str, Any]:
    """Page faults and CPU milliseconds per page, with the caller 0 to 190 frames deep, by plain WeasyPrint and
    by the service's renderer: plain WeasyPrint's cost depends on where its caller stands."""
    found = json.loads(subprocess.run([sys.executable, "-c", _STACK_CHUNKS, str(folder / "contents.pickle")],
                                      cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    summary: dict[str, Any] = {}
    for name, rows in found.items():
        faults = [row[1] for row in rows]
        milliseconds = [row[2] for row in rows]
        summary[name] = {"faults_per_page_min_median_max": [min(faults), int(statistics.median(faults)),
                                                            max(faults)],
                         "cpu_ms_per_page_min_median_max": [min(milliseconds), statistics.median(milliseconds),
                                                            max(milliseconds)]}
    summary["by_depth_frames_faults_ms"] = found
    return summary


def _once(folder: Path) -> dict[str, Any]:
    """One batch on a fresh database, then the same certificates rendered the two plain ways (their contents
    left in ``folder`` for ``_stack_chunks``)."""
    with fresh_database("postgresql") as url:
        settings = make_test_settings(url, data_dir=folder / "data", job_runner="queue")
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        storage = storage_for(settings)
        started = time.perf_counter()
        _graduates(factory, settings, storage)
        setup_seconds = time.perf_counter() - started
        admin = Factory(factory, settings).admin()
        app = create_app(settings)
        with TestClient(app) as client:
            response = client.post("/api/v1/certificates/batch", json={"country": "PE"}, headers=admin.headers)
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
        app.state.engine.dispose()

        env = {**os.environ, "CAMINOS_DATABASE_URL": url, "CAMINOS_DATA_DIR": str(settings.data_dir),
               "CAMINOS_ENVIRONMENT": "test", "CAMINOS_SECRET_KEY": settings.secret_key,
               "CAMINOS_PUBLIC_BASE_URL": settings.public_base_url}
        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
        worker = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "worker", "--once"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        memory = PeakMemory(worker.pid)
        _, stderr = worker.communicate(timeout=900)
        batch_seconds = time.perf_counter() - started
        # the worker and its pool children, all reaped by now
        batch_cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu
        memory.stop()
        assert worker.returncode == 0, stderr.decode()
        with factory() as session:
            job = session.get_one(Job, job_id)
            assert (job.status.value, job.done, job.total, job.errors) == ("done", CERTIFICATES, CERTIFICATES, [])
            job_seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at and \
                job.started_at else None

        contents = _contents(factory, settings.public_base_url)
        assert len(contents) == CERTIFICATES
        weasyprint_seconds, weasyprint_cpu = _plain(contents, folder, "write_pdf")
        renderer_seconds, renderer_cpu = _plain(contents, folder, "render_pdf")
        load_after = os.getloadavg()[0]
        engine.dispose()
    return {
        "setup_seconds": round(setup_seconds, 1),
        "batch_wall_seconds": round(batch_seconds, 2),
        "batch_job_seconds_inside_worker": round(job_seconds, 2) if job_seconds is not None else None,
        # the figure: against plain WeasyPrint
        "plain_weasyprint_seconds": round(weasyprint_seconds, 2),
        "ratio": round(batch_seconds / weasyprint_seconds, 3),
        # against the service's own renderer in one process: what the pool alone costs and saves
        "one_process_renderer_seconds": round(renderer_seconds, 2),
        "ratio_to_one_process_renderer": round(batch_seconds / renderer_seconds, 3),
        # CPU used, whatever else ran on the machine: what the pool costs beyond the rendering itself
        "batch_cpu_seconds": round(batch_cpu, 2),
        "plain_weasyprint_cpu_seconds": round(weasyprint_cpu, 2),
        "one_process_renderer_cpu_seconds": round(renderer_cpu, 2),
        "cpu_ratio_to_one_process_renderer": round(batch_cpu / renderer_cpu, 3),
        # the best wall ratio that CPU allows on idle cores (the batch's CPU spread over every core, against the
        # one-process render's CPU, which is its wall time when nothing else runs)
        "cpu_floor_ratio_to_one_process_renderer": round(batch_cpu / (os.cpu_count() or 1) / renderer_cpu, 3),
        # where the batch's CPU went, as last sampled (up to 50 ms short): the worker's own process (start-up,
        # planning, database) and its render processes (their start-up and warm-up, then the pages)
        "worker_main_cpu_seconds": round(memory.cpu_ticks.get(worker.pid, 0) / TICKS, 2),
        "render_processes_cpu_seconds": sorted(round(t / TICKS, 2) for pid, t in memory.cpu_ticks.items()
                                               if pid != worker.pid and t > TICKS),
        "worker_peak_rss_mib": round(memory.peak_kib / 1024, 1),
        "worker_processes_at_peak": memory.peak_processes,
        "load_average_before_after": [round(load_before, 2), round(load_after, 2)],
    }


def run() -> dict[str, Any]:
    """REPEATS runs, each a batch followed by its two plain renders (so each ratio compares clocks a few seconds
    apart, under the same load); the figures are the medians, the runs are kept."""
    folder = Path(tempfile.mkdtemp(prefix="caminos-bench-certificates-"))
    runs = [_once(folder) for _ in range(REPEATS)]

    def median(key: str) -> float:
        return round(statistics.median(run[key] for run in runs), 3)

    return {
        "certificates": CERTIFICATES,
        "cores": os.cpu_count(),
        "render_workers": default_workers(),
        "repeats": REPEATS,
        "goal_ratio": 0.6,
        "median": {key: median(key) for key in (
            "batch_wall_seconds", "plain_weasyprint_seconds", "ratio", "one_process_renderer_seconds",
            "ratio_to_one_process_renderer", "batch_cpu_seconds", "one_process_renderer_cpu_seconds",
            "cpu_floor_ratio_to_one_process_renderer", "worker_main_cpu_seconds")},
        "plain_weasyprint_seconds_per_certificate": round(median("plain_weasyprint_seconds") / CERTIFICATES, 3),
        "one_process_renderer_seconds_per_certificate":
            round(median("one_process_renderer_seconds") / CERTIFICATES, 3),
        "worker_peak_rss_mib": max(run["worker_peak_rss_mib"] for run in runs),
        "runs": runs,
        "stack_chunks": _stack_chunks(folder),
    }
