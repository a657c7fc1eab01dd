"""`make bench`: runs every benchmark, prints the figures and keeps them in bench-results/.

`python -m tests.benchmarks.run hotpaths cohort` runs only those named."""

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks import (
    bench_applications,
    bench_certificates,
    bench_hotpaths,
    bench_imports,
    bench_offline,
    bench_progress,
    bench_reports,
)

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "applications": bench_applications.run,
    "progress": bench_progress.run,
    "offline": bench_offline.run,
    "certificates": bench_certificates.run,
    "imports": bench_imports.run,
    "reports": bench_reports.run,
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
