"""Benchmark: the default batch against two ways of making the same reports without it.

Contenders, each making exactly the same reports (asserted: the same job names, notebooks and
layered params files, taken from one ``plan_batch()``):

- ``batch``: ``run_batch`` of the default batch's reports (every default notebook x every
  default sector set; the partner briefs left out), HTML export included, with the
  shared-results cache cold at the start of each repeat (``MITRA_CACHE_DIR`` points at a
  fresh folder).
- ``cli-loop``: what a user would do by hand, one report after another: ``papermill`` then
  ``jupyter nbconvert --to html --no-input`` per report.
- ``in-process``: the notebooks' own code, run sequentially in this one Python process for
  the same parameter sets (each notebook's code cells executed with the validated parameters
  the batch would inject; no kernels, no export), with its own cold shared-results cache.
  This is the floor a batch is measured against: the issue's goal is
  ``batch <= 0.6 x in-process`` on 2 cores.

With ``--compare-cold``, a fourth contender ``batch-cold`` runs the same batch with
``warm_kernels=False`` (each kernel started when its report starts, as before warm kernels),
so the gain of warm kernels is measured in the same session.

Contenders alternate within each repeat (order rotated per repeat); medians and the ratios
``batch / in-process`` and ``batch / cli-loop`` are printed.

    .venv/bin/python bench/bench_batch.py [--repeat 3] [--workers N] [--skip-loop]
        [--compare-cold]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.reports import plan_batch, run_batch, validate_jobs  # noqa: E402


def _jobs():
    # The 12 default reports (4 notebooks x 3 sector sets); briefs are left out because
    # their partner/language overrides exist only inside the batch.
    jobs = plan_batch()
    return jobs, validate_jobs(jobs)


def cli_loop(out: Path, jobs, _parameters) -> tuple[float, list[str]]:
    """papermill, then nbconvert, one report after another."""
    bin_dir = Path(sys.executable).parent
    made = []
    t0 = time.perf_counter()
    for job in jobs:
        nb = out / f"{job.name}.ipynb"
        args = [
            str(bin_dir / "papermill"),
            job.notebook,
            str(nb),
            "--no-progress-bar",
            "-k",
            "mitra",
            "--cwd",
            str(ROOT / Path(job.notebook).parent),
        ]
        for f in job.params_files:
            args += ["-f", f]
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(
            [str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        made.append(job.name)
    return time.perf_counter() - t0, made


def in_process(_out: Path, jobs, parameters) -> tuple[float, list[str]]:
    """Each notebook's code cells, executed here with the parameters the batch injects."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    os.environ["MITRA_CACHE_DIR"] = str(_out / "cache")  # cold cache, as for the batch
    made = []
    t0 = time.perf_counter()
    for job in jobs:
        nb = nbformat.read(ROOT / job.notebook, as_version=4)
        namespace: dict[str, object] = {"__name__": "__main__"}
        cwd = os.getcwd()
        os.chdir(ROOT / Path(job.notebook).parent)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                for cell in nb.cells:
                    if cell.cell_type != "code":
                        continue
                    source = "\n".join(
                        line
                        for line in cell.source.splitlines()
                        if not line.lstrip().startswith(("%", "!"))
                    )
                    exec(compile(source, job.notebook, "exec"), namespace)
                    if "parameters" in cell.metadata.get("tags", []):
                        namespace.update(parameters[job.name])
        finally:
            os.chdir(cwd)
            plt.close("all")
        made.append(job.name)
    return time.perf_counter() - t0, made


def batch(
    out: Path, jobs, _parameters, workers: int | None = None, warm: bool = True
) -> tuple[float, list[str]]:
    os.environ["MITRA_CACHE_DIR"] = str(out / "cache")  # cold cache every repeat
    t0 = time.perf_counter()
    result = run_batch(
        jobs, run_id="bench", reports_dir=out, workers=workers, progress=False, warm_kernels=warm
    )
    elapsed = time.perf_counter() - t0
    assert result.ok, result.failed
    return elapsed, sorted(result.records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--skip-loop", action="store_true", help="leave out the CLI loop")
    parser.add_argument(
        "--compare-cold", action="store_true", help="also run the batch without warm kernels"
    )
    args = parser.parse_args()
    jobs, parameters = _jobs()
    names = sorted(j.name for j in jobs)
    contenders = {
        "batch": lambda out: batch(out, jobs, parameters, args.workers),
        "in-process": lambda out: in_process(out, jobs, parameters),
    }
    if args.compare_cold:
        contenders["batch-cold"] = lambda out: batch(out, jobs, parameters, args.workers, False)
    if not args.skip_loop:
        contenders["cli-loop"] = lambda out: cli_loop(out, jobs, parameters)
    times: dict[str, list[float]] = {k: [] for k in contenders}
    order = list(contenders)
    for rep in range(args.repeat):
        for name in order[rep % len(order) :] + order[: rep % len(order)]:
            with tempfile.TemporaryDirectory() as tmp:
                seconds, made = contenders[name](Path(tmp))
            assert sorted(made) == names, f"{name} made other reports than the batch plan"
            times[name].append(seconds)
            # Each result as it comes: a long run stopped early still says what it measured.
            print(f"repeat {rep + 1}: {name} {seconds:.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}"
    )
    print(
        f"reports: {len(jobs)} (every contender, asserted); repeats: {args.repeat}; "
        f"workers: {args.workers or os.cpu_count()}"
    )
    for k, v in times.items():
        print(f"{k:>10}: median {med[k]:6.1f} s  ({', '.join(f'{t:.1f}' for t in v)})")
    print(f"ratio batch / in-process: {med['batch'] / med['in-process']:.2f} (goal <= 0.6)")
    if "batch-cold" in med:
        print(f"ratio batch-cold / in-process: {med['batch-cold'] / med['in-process']:.2f}")
        print(f"ratio batch / batch-cold: {med['batch'] / med['batch-cold']:.2f} (warm kernels)")
    if "cli-loop" in med:
        print(f"ratio batch / cli-loop:   {med['batch'] / med['cli-loop']:.2f}")


if __name__ == "__main__":
    main()
