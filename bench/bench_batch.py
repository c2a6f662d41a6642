"""Benchmark: `mitra batch` against a sequential shell loop of papermill + nbconvert.

Both run the same N reports (the data-audit notebook for every sector, with and without
params/ci.yaml: N = 6) on this machine, in the same invocation, alternating, `--repeat`
times each. Prints the machine, the median wall time of each, and the ratio
loop / batch (> 1 means the batch is faster).

    .venv/bin/python bench/bench_batch.py [--repeat 3] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.pipeline import plan_batch, run_batch  # noqa: E402

SETS = [
    ("params/base.yaml", f"params/{s}.yaml", *extra)
    for extra in ((), ("params/ci.yaml",))
    for s in ("textile", "chemical", "pharma")
]


def shell_loop(out: Path) -> float:
    """What a user would do by hand: papermill, then nbconvert, one report after another."""
    bin_dir = Path(sys.executable).parent
    t0 = time.perf_counter()
    for files in SETS:
        name = "-".join(Path(f).stem for f in files)
        nb = out / f"{name}.ipynb"
        args = [str(bin_dir / "papermill"), "notebooks/00-data-audit.ipynb", str(nb),
                "--no-progress-bar", "-k", "mitra"]
        for f in files:
            args += ["-f", f]
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        str(nb)], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def batch(out: Path, workers: int | None) -> float:
    jobs = plan_batch(sets=SETS)
    t0 = time.perf_counter()
    result = run_batch(jobs, run_id="bench", reports_dir=out, workers=workers, progress=False)
    elapsed = time.perf_counter() - t0
    assert result.ok, result.failed
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    loop_t, batch_t = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            loop_t.append(shell_loop(Path(a)))
            batch_t.append(batch(Path(b), args.workers))
            shutil.rmtree(b, ignore_errors=True)
    loop_m, batch_m = statistics.median(loop_t), statistics.median(batch_t)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    print(f"reports: {len(SETS)}; repeats: {args.repeat}; workers: "
          f"{args.workers or os.cpu_count()}")
    print(f"sequential papermill + nbconvert loop: median {loop_m:.1f} s  "
          f"({', '.join(f'{t:.1f}' for t in loop_t)})")
    print(f"mitra batch:                           median {batch_m:.1f} s  "
          f"({', '.join(f'{t:.1f}' for t in batch_t)})")
    print(f"ratio loop / batch: {loop_m / batch_m:.2f}x")


if __name__ == "__main__":
    main()
