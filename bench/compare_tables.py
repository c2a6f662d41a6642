"""Compare the CSV tables of two runs of the studies (no behaviour change check).

Two commands:

``dump OUTDIR [--params FILE ...]``
    Run every study in-process on the layered params (default: base then ci) and write
    each table of ``result.tables()`` to ``OUTDIR/<study>/<name>.csv``.
``compare A B``
    Compare two such folders (or two report folders of CSVs): exit 1 and list every file
    that is missing on one side or differs, with its first differing row.

Usage::

    PYTHONPATH=src python bench/compare_tables.py dump /tmp/before
    ... refactor ...
    PYTHONPATH=src python bench/compare_tables.py dump /tmp/after
    python bench/compare_tables.py compare /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STUDIES = ("audit", "flows", "gravity", "ranking", "brief")


def _tables_old_api(name: str, params) -> tuple[dict, object]:  # pre-refactor interface
    """The tables and result of one study through the interfaces before the refactor."""
    from analysis.data import LedgerSettings, build_ledger

    ledger = build_ledger(
        settings=LedgerSettings(fx_basis=params.fx_basis, fx_fallback=params.fx_fallback_basis)
    )
    v = params.values
    if name == "audit":
        from analysis.studies.audit import AuditSettings, run_audit_report

        r = run_audit_report(
            AuditSettings(
                sector=params.sector,
                sectors=params.sectors,
                start_year=params.start_year,
                end_year=params.end_year,
                partners=tuple(params.partners),
                fx_basis=params.fx_basis,
            ),
            ledger,
        )
        return {"national": r.national(), "sector": r.sector_figures(), "counts": r.counts()}, r
    if name == "flows":
        from analysis.studies.flows import gdp_deflator, run_flows, settings_from_params

        s = settings_from_params(params)
        d, note = gdp_deflator(s.deflator_base_year)
        r = run_flows(ledger, s, deflator=d, deflator_source=note)
        return {
            "forecast": r.forecast_table(),
            "backtest": r.backtest_table(),
            "nowcast_backtest": r.nowcast_table(),
        }, r
    if name == "gravity":
        from analysis.studies.gravity import GravityStudySettings, run_gravity

        r = run_gravity(GravityStudySettings.from_params(params), ledger=ledger)
        return r.tables(), r
    if name == "ranking":
        from analysis.studies.ranking import run_ranking, settings_from_params

        r = run_ranking(settings_from_params(v), ledger=ledger)
        return r.tables(), r
    if name == "brief":
        from analysis.studies.brief import brief_settings, run_brief

        b = run_brief(brief_settings(params), ledger)
        return {
            "history": b.history,
            "trade": b.trade,
            "agreements": b.agreements,
            "potential": b.potential,
            "ranked": b.ranked(),
        }, b
    raise KeyError(name)


def study_tables(name: str, params) -> dict:
    """``{table name: DataFrame}`` of one study run in-process on ``params``, with its key
    findings and summary as ``_key_findings`` and ``_summary``."""
    from analysis import studies

    if hasattr(studies, "STUDIES"):  # one interface: settings, run -> result.tables()
        result = studies.run(name, params)
        tables = result.tables()
    else:
        tables, result = _tables_old_api(name, params)
    return {**tables, **_texts(result)}


def _texts(result) -> dict:
    """The key findings and the summary as one-column tables (sentences compared too)."""
    import pandas as pd

    kf = result.key_findings()
    lines = [f.text for f in kf.findings] if hasattr(kf, "findings") else [str(x) for x in kf]
    return {
        "_key_findings": pd.DataFrame({"text": lines}),
        "_summary": pd.DataFrame({"text": str(result.summary()).splitlines()}),
    }


def dump(out: Path, files: list[str], only: list[str]) -> None:
    from analysis.config import load_params

    params = load_params(*files)
    for name in only or STUDIES:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for tname, frame in study_tables(name, params).items():
            frame.to_csv(folder / f"{tname}.csv", index=True)
        print(f"{name}: written to {folder}", flush=True)


def compare(a: Path, b: Path) -> int:
    fa = {p.relative_to(a) for p in a.rglob("*.csv")}
    fb = {p.relative_to(b) for p in b.rglob("*.csv")}
    problems = [f"only in {a}: {p}" for p in sorted(fa - fb)]
    problems += [f"only in {b}: {p}" for p in sorted(fb - fa)]
    for rel in sorted(fa & fb):
        la = (a / rel).read_text(encoding="utf-8").splitlines()
        lb = (b / rel).read_text(encoding="utf-8").splitlines()
        if la != lb:
            n = next(
                (i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y),
                min(len(la), len(lb)),
            )
            problems.append(
                f"{rel}: differs at line {n + 1} ({len(la)} vs {len(lb)} lines)\n"
                f"  - {la[n] if n < len(la) else '<end>'}\n  + {lb[n] if n < len(lb) else '<end>'}"
            )
    same = len(fa & fb) - sum(1 for p in problems if ": differs" in p)
    print(f"{same} of {len(fa | fb)} tables identical")
    for p in problems:
        print(p)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="run the studies and write their tables")
    d.add_argument("out", type=Path)
    d.add_argument(
        "--params",
        action="append",
        default=None,
        help="params file (repeat to layer; default: base then ci)",
    )
    d.add_argument("--only", action="append", default=[], choices=STUDIES)
    c = sub.add_parser("compare", help="compare two folders of CSV tables")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out, args.params or ["base", "ci"], args.only)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
