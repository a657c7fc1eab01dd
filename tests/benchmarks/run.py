"""`make bench`: runs every benchmark, prints the figures and keeps them in bench-results/.

`python -m tests.benchmarks.run hotpaths cohort` runs only those named."""

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.dashboard.session import COOKIE, LOGIN_PATH, PREFIX
from tests.benchmarks import (
    bench_applications,
    bench_certificates,
    bench_hotpaths,
    bench_imports,
    bench_offline,
    bench_progress,
    bench_reports,
)


def dashboard_login(client: httpx.Client, staff: bench_reports.Staff) -> None:
    """A cookie session as the coordinator gets one: the login page (its form token and cookie), then the form."""
    form = client.get(LOGIN_PATH)
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if form.status_code != 200 or found is None:
        raise RuntimeError(f"login page: {form.status_code}")
    answer = client.post(LOGIN_PATH, data={"username": staff.username, "password": staff.password,
                                           "csrf": found.group(1), "next": PREFIX}, follow_redirects=False)
    if answer.status_code != 303 or COOKIE not in client.cookies:
        raise RuntimeError(f"dashboard login: {answer.status_code} {answer.text[:200]}")


DASHBOARD = bench_reports.Page("dashboard_country_page", f"{PREFIX}/{{country}}", dashboard_login)

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "applications": bench_applications.run,
    "progress": bench_progress.run,
    "offline": bench_offline.run,
    "certificates": bench_certificates.run,
    "imports": bench_imports.run,
    "reports": lambda: bench_reports.run([DASHBOARD]),
    "hotpaths": bench_hotpaths.run_hot_paths,
    "cohort": bench_hotpaths.run_cohort,
}


def main(names: list[str]) -> None:
    out = Path(__file__).resolve().parents[2] / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for name, bench in BENCHMARKS.items():
        if names and name not in names:
            continue
        result = bench()
        print(json.dumps({name: result}, indent=2, ensure_ascii=False))  # noqa: T201
        (out / f"{stamp}-{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
