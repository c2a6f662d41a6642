"""The ``mitra`` command line.

Exit codes: 0 success (data problems such as conflicts or identity violations are
*reported*, not fatal); 2 for a schema, provenance or usage error, with the message naming
the file, line and column at fault.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis.errors import MitraError

__all__ = ["main"]


def _data_check(args: argparse.Namespace) -> int:
    from analysis.data.ledger import LedgerSettings, build_ledger
    from analysis.data.panel import load_panel
    from analysis.data.realisation import read_realisation_table
    from analysis.studies.audit import run_audit

    settings = LedgerSettings(
        fx_basis=args.fx_basis,
        fx_fallback=None if args.fx_fallback == "none" else args.fx_fallback,
    )
    imports = [read_realisation_table(p, published=args.published) for p in args.import_]
    ledger = build_ledger(args.data, settings, imports=imports)
    report = run_audit(ledger, load_panel(args.data))
    out = report.write(args.out)
    if not args.quiet:
        with pd.option_context(
            "display.width",
            200,
            "display.max_rows",
            400,
            "display.max_columns",
            40,
            "display.max_colwidth",
            70,
        ):
            print(report.summary().as_text())
    print(f"\nData check written to {out}/ (summary.md, CSV tables, manifest.json)")
    return 0


def _report_batch(result: object) -> int:
    from analysis.pipeline import BatchResult

    assert isinstance(result, BatchResult)
    for name in result.failed:
        err = result.records[name].get("error") or {}
        print(f"FAILED {name}: {err.get('kind')}: {err.get('message')}", file=sys.stderr)
    n = len(result.records)
    print(f"{n - len(result.failed)}/{n} reports ok. Index: {result.index}")
    if result.failed:
        print(
            f"Rerun the failed ones with: mitra batch --run-id {result.run_id} --only-failed",
            file=sys.stderr,
        )
    return 0 if result.ok else 1


def _batch_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--run-id", default=None, help="folder under reports/ (default: a timestamp)")
    cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: number of CPUs)",
    )
    cmd.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a dask.distributed cluster (e.g. tcp://10.0.0.5:8786)",
    )
    cmd.add_argument(
        "--retries", type=int, default=2, help="retries of kernel start-up failures (default 2)"
    )
    cmd.add_argument(
        "--timeout", type=int, default=1800, help="seconds a single cell may run (default 1800)"
    )
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from analysis.pipeline import plan_batch, run_batch

    files = tuple(args.params) or ("params/base.yaml",)
    job = plan_batch([Path(args.notebook)], [files])[0]
    if args.name is not None:
        job = replace(job, name=args.name)
    result = run_batch(
        [job],
        run_id=args.run_id,
        workers=1,
        scheduler=args.scheduler,
        retries=args.retries,
        execution_timeout=args.timeout,
        progress=not args.no_progress,
    )
    return _report_batch(result)


def _batch(args: argparse.Namespace) -> int:
    from analysis.pipeline import plan_batch, run_batch

    jobs = None
    if not args.only_failed:
        sets = [("params/base.yaml", f"params/{s}.yaml") for s in args.set] or None
        extra = [*(["params/ci.yaml"] if args.ci else []), *args.params]
        jobs = plan_batch(args.notebook or None, sets, extra_files=extra)
    result = run_batch(
        jobs,
        run_id=args.run_id,
        workers=args.workers,
        scheduler=args.scheduler,
        only_failed=args.only_failed,
        retries=args.retries,
        execution_timeout=args.timeout,
        progress=not args.no_progress,
    )
    return _report_batch(result)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mitra",
        description="Mitra: investment analytics for Indonesia's textile, chemical and "
        "pharmaceutical industries.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="The investment ledger.")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser(
        "check",
        help="Validate the raw data and report coverage, conflicts, identities, derived "
        "values and censoring (printed, and written under reports/data-check/).",
    )
    check.add_argument(
        "--fx-basis",
        choices=("apbn", "market"),
        default="apbn",
        help="exchange-rate basis for currency conversion (default: apbn, BKPM's convention)",
    )
    check.add_argument(
        "--fx-fallback",
        choices=("apbn", "market", "none"),
        default="market",
        help="basis for years the main basis lacks, flagged (default: market)",
    )
    check.add_argument(
        "--import",
        dest="import_",
        action="append",
        default=[],
        metavar="CSV",
        type=Path,
        help="a BKPM realisation table in Mitra's import format (repeatable)",
    )
    check.add_argument(
        "--published",
        default=None,
        metavar="YYYY-MM-DD",
        help="release date of the imported tables (for the conflict rule)",
    )
    check.add_argument(
        "--data", type=Path, default=None, help="data folder (default: the project's data/)"
    )
    check.add_argument(
        "--out", type=Path, default=None, help="output folder (default: reports/data-check)"
    )
    check.add_argument("-q", "--quiet", action="store_true", help="do not print the tables")
    check.set_defaults(func=_data_check)

    run = sub.add_parser(
        "run",
        help="Run one notebook with layered params files into "
        "reports/<run-id>/ (notebook, HTML, manifest, index).",
    )
    run.add_argument("notebook", help="e.g. notebooks/00-data-audit.ipynb")
    run.add_argument(
        "-p",
        "--params",
        action="append",
        default=[],
        metavar="YAML",
        help="params file, layered in order (default params/base.yaml)",
    )
    run.add_argument("--name", default=None, help="report name (default from the files)")
    _batch_options(run)
    run.set_defaults(func=_run)

    batch = sub.add_parser(
        "batch",
        help="Run notebooks x params sets in parallel (default: "
        "every default notebook for each sector).",
    )
    batch.add_argument(
        "--notebook",
        action="append",
        default=[],
        metavar="IPYNB",
        help="notebook to run (repeatable; default: the default batch)",
    )
    batch.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTOR",
        help="params set: base.yaml + <SECTOR>.yaml (repeatable; default: "
        "textile, chemical, pharma)",
    )
    batch.add_argument(
        "-p",
        "--params",
        action="append",
        default=[],
        metavar="YAML",
        help="extra params file layered last on every set (e.g. a scenario)",
    )
    batch.add_argument("--ci", action="store_true", help="layer params/ci.yaml last (fast)")
    batch.add_argument(
        "--only-failed", action="store_true", help="rerun only the failed reports of --run-id"
    )
    _batch_options(batch)
    batch.set_defaults(func=_batch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mitra`` command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MitraError as exc:
        print(f"mitra: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
