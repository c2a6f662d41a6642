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
    from analysis.data.check import check_data
    from analysis.data.ledger import LedgerSettings, build_ledger
    from analysis.data.realisation import read_realisation_table

    settings = LedgerSettings(
        fx_basis=args.fx_basis,
        fx_fallback=None if args.fx_fallback == "none" else args.fx_fallback,
    )
    imports = [read_realisation_table(p, published=args.published) for p in args.import_]
    ledger = build_ledger(args.data, settings, imports=imports)
    report = check_data(ledger)
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
