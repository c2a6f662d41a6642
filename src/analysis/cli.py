"""The ``mitra`` command line.

Exit codes: 0 success (data problems such as conflicts or identity violations are
*reported*, not fatal); 1 when a report of a batch failed; 2 for a schema, provenance,
parameter or usage error, or a file that cannot be written, with one line naming the file,
line and column or the parameter at fault; 130, 143 or 129 when Ctrl-C, SIGTERM or SIGHUP
stopped a batch (its manifest marks the unfinished reports ``interrupted``;
``--only-failed`` completes it).
No Python traceback reaches the user (``MITRA_DEBUG=1`` shows one for unexpected errors).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis.base.errors import MitraError
from analysis.base.i18n import count

if TYPE_CHECKING:
    from analysis.data.loaders import FetchCache

__all__ = ["main"]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(text: str) -> str:
    """``--published``: a real calendar date written ``YYYY-MM-DD``, nothing else."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date written YYYY-MM-DD (e.g. 2025-01-31)"
        ) from None
    return text


def _retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 20:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 0 to 20")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= 1")
    return value


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
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    report = run_audit(ledger, load_panel(args.data), as_of=as_of)
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
    print()
    for sentence in report.check.as_of_notes():
        print(sentence)
    print(f"\nData check written to {out}/ (summary.md, CSV tables, manifest.json)")
    return 0


def _data_add_release(args: argparse.Namespace) -> int:
    from analysis.data.intake import add_release
    from analysis.data.releases import as_of_sentence

    stored = add_release(args.file, args.data)
    print(
        f"Imported {stored.period} {stored.year} ({stored.rows} rows, published "
        f"{stored.published}) as {stored.path} (sha256 {stored.sha256[:12]}...)."
    )
    print(as_of_sentence(stored.ledger))
    return 0


def _data_fetch(args: argparse.Namespace) -> int:
    from analysis.data.loaders import FetchCache, refresh, snapshot_vintages
    from analysis.data.loaders.refresh import SOURCES, resolve_sources

    try:
        keys = resolve_sources(args.sources)
    except ValueError as exc:
        print(f"mitra: error: {exc}", file=sys.stderr)
        return 2
    cache = FetchCache(args.cache)
    if args.offline:
        print("Offline: nothing downloaded. The partner panel reads the committed snapshot:")
        vintages = snapshot_vintages()
        for key in keys:
            rows = vintages[vintages["source"] == key]
            files = ", ".join(
                f"{r.file} (compiled {r.retrieved}; source release {r.release})"
                for r in rows.itertuples()
            )
            print(f"  {SOURCES[key].name}: {files or 'no committed snapshot'}")
        prov = cache.provenance()
        for key in keys:
            got = prov[prov["source"] == key]
            if len(got):
                print(
                    f"  cached {SOURCES[key].name}: {count(len(got), 'responses')} retrieved "
                    f"{got['retrieved'].max()} in {cache.root} (preferred where newer)"
                )
        return 0
    outcomes = []
    for key in keys:
        print(f"Fetching {SOURCES[key].name} ({SOURCES[key].what}) ...", flush=True)
        [outcome] = refresh([key], cache=cache)
        outcomes.append(outcome)
        if outcome.ok:
            print(f"  {outcome.message()}")
        else:
            print(f"mitra: {outcome.message()}", file=sys.stderr)
    failed = [o.source for o in outcomes if not o.ok]
    n_ok, n_all = len(outcomes) - len(failed), len(outcomes)
    print(f"{n_ok}/{count(n_all, 'sources')} fetched into {cache.root}")
    if len(failed) < len(outcomes) and not cache.off:
        _say_panel_effect(cache)
    return 1 if failed else 0


def _say_panel_effect(cache: FetchCache) -> None:
    """Say how many partner-panel values now come from the fetch cache."""
    from analysis.data.loaders import FetchCache
    from analysis.data.panel import build_panel, fetched_values

    used = FetchCache()
    if used.off:
        print("The partner panel ignores the fetch cache (MITRA_FETCH_CACHE=off).")
        return
    if Path(cache.root).resolve() != Path(used.root).resolve():
        print(f"The partner panel reads {used.root}, not {cache.root}: it is unchanged.")
        return
    panel = build_panel(fetched=fetched_values())
    flags = panel.frame["flags"].str.split(";")
    fetched = flags.map(lambda f: "fetched" in f)
    derived = flags.map(lambda f: "derived" in f)
    print(
        f"Partner panel: {int((fetched & ~derived).sum())} of {len(panel.frame)} values now "
        f"come from fetched data (flag 'fetched'; {int((fetched & derived).sum())} more are "
        "derived from them); where a fetched value and the snapshot differ, both are in "
        "the panel's conflicts with the deciding rule."
    )


def _report_batch(result: object) -> int:
    from analysis.reports import BatchResult

    if not isinstance(result, BatchResult):  # pragma: no cover - programming error
        raise TypeError(f"expected a BatchResult, got {type(result).__name__}")
    for name in result.failed:
        err = result.records[name].get("error") or {}
        status = result.records[name]["status"]
        label = "FAILED" if status == "failed" else str(status).upper()
        print(f"{label} {name}: {err.get('kind')}: {err.get('message')}", file=sys.stderr)
    n = len(result.records)
    print(f"{n - len(result.failed)}/{n} reports ok. Index: {result.index}")
    if result.failed:
        print(
            f"Rerun the unfinished ones with: mitra batch --run-id {result.run_id} --only-failed",
            file=sys.stderr,
        )
    if result.interrupted:
        from analysis.reports.interrupts import exit_code

        return exit_code(result.interrupted)
    return 0 if result.ok else 1


def _batch_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--run-id", default=None, help="folder under reports/ (default: a timestamp)")
    cmd.add_argument(
        "--workers",
        type=_positive,
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
        "--retries",
        type=_retries,
        default=2,
        help="retries of kernel start-up failures, 0-20 (default 2)",
    )
    cmd.add_argument(
        "--timeout",
        type=_positive,
        default=1800,
        help="seconds a single cell may run (default 1800)",
    )
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def _params_options(cmd: argparse.ArgumentParser, file_help: str) -> None:
    """papermill's conventions: ``-p key value``, ``-r key value``, ``-y yaml``, ``-f file``."""
    cmd.add_argument(
        "-f",
        "--params-file",
        "--params",
        dest="params",
        action="append",
        default=[],
        metavar="YAML",
        help=file_help,
    )
    cmd.add_argument(
        "-p",
        "--parameters",
        dest="parameters",
        action="append",
        nargs="+",
        default=[],
        metavar="KEY VALUE",
        help="set one parameter, value typed as papermill does (True, 3, 0.5, text); "
        "a single argument is read as a params file (mitra before 2026-12, deprecated)",
    )
    cmd.add_argument(
        "-r",
        "--parameters-raw",
        dest="parameters_raw",
        action="append",
        nargs=2,
        default=[],
        metavar=("KEY", "VALUE"),
        help="set one parameter to a text value, as given",
    )
    cmd.add_argument(
        "-y",
        "--parameters-yaml",
        dest="parameters_yaml",
        action="append",
        default=[],
        metavar="YAML",
        help="set parameters from a YAML mapping, e.g. -y 'ranking_weights: {sector: 3}'",
    )


def _resolve_type(value: str) -> object:
    """A ``-p`` value typed as papermill types it (``True``, ``None``, int, float, else text)."""
    if value in ("True", "False"):
        return value == "True"
    if value == "None":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """Single-key overrides from ``-p``, ``-r`` and ``-y`` (later wins, mappings merge).

    A lone ``-p FILE`` (the old meaning of ``-p``) is moved to the params files, with a note.
    """
    from analysis.base.safe_yaml import YamlError, load_yaml_text
    from analysis.config import ParamsError

    out: dict[str, object] = {}

    def put(key: str, value: object) -> None:
        if isinstance(value, dict) and isinstance(out.get(key), dict) and value:
            out[key] = {**out[key], **value}  # type: ignore[dict-item]
        else:
            out[key] = value

    for item in args.parameters:
        if len(item) == 1:
            print(
                f"mitra: '-p {item[0]}' reads a params file; use -f {item[0]} "
                "(-p KEY VALUE sets one parameter, as in papermill)",
                file=sys.stderr,
            )
            args.params.append(item[0])
        elif len(item) == 2 and not item[0].endswith((".yaml", ".yml")):
            put(item[0], _resolve_type(item[1]))
        else:
            raise MitraError(
                f"-p takes KEY VALUE (as in papermill), got {' '.join(item)}; "
                "a params file goes after -f"
            )
    for key, value in args.parameters_raw:
        put(key, value)
    for text in args.parameters_yaml:
        try:
            data = load_yaml_text(text, "-y")
        except YamlError as exc:
            raise ParamsError("-y", exc.key, exc.problem, line=exc.line) from None
        if not isinstance(data, dict):
            raise ParamsError("-y", None, f"expected a mapping of key: value, got {text!r}")
        for key, value in data.items():
            put(str(key), value)
    return out


def _with_overrides(jobs: list, overrides: dict[str, object]) -> list:
    """Jobs with the command line's overrides (a job's own, e.g. a brief's partner, win).

    A key that no notebook of these jobs declares is an error, as in the kernel.
    """
    from dataclasses import replace

    from analysis.base import paths
    from analysis.config import ParamsError, notebook_parameters, validate_params

    if not overrides:
        return jobs
    validate_params([("override", overrides)], fill_defaults=False)
    declared: set[str] = set()
    for nb in {j.notebook for j in jobs}:
        path = Path(nb) if Path(nb).is_absolute() else paths.ROOT / nb
        declared |= set(notebook_parameters(path))
    for key in overrides:
        if key not in declared:
            raise ParamsError(
                "override",
                key,
                "not declared by the parameters cell of "
                + ("this notebook" if len({j.notebook for j in jobs}) == 1 else "any notebook")
                + f"; it declares {', '.join(sorted(declared))}",
            )
    return [replace(j, overrides={**overrides, **dict(j.overrides)}) for j in jobs]


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from analysis.base.paths import safe_name
    from analysis.reports import plan_batch, run_batch

    overrides = _overrides(args)
    files = tuple(args.params) or ("params/base.yaml",)
    job = _with_overrides(plan_batch([Path(args.notebook)], [files]), overrides)[0]
    if args.name is not None:
        job = replace(job, name=safe_name(args.name, "--name"))
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
    from analysis.base.paths import safe_name
    from analysis.reports import plan_batch, run_batch
    from analysis.reports.plan import plan_brief_requests

    jobs = briefs = None
    overrides = _overrides(args)
    if args.rebuild_manifest and (
        args.notebook or args.set or args.params or args.ci or overrides
    ):
        raise MitraError("--rebuild-manifest takes only --run-id (it runs no report)")
    if not args.only_failed and not args.rebuild_manifest:
        sets = [
            ("params/base.yaml", f"params/{safe_name(s, '--set')}.yaml") for s in args.set
        ] or None
        extra = [*(["params/ci.yaml"] if args.ci else []), *args.params]
        jobs = plan_batch(args.notebook or None, sets, extra_files=extra)
        jobs = _with_overrides(jobs, overrides)
        # The default batch adds partner briefs, planned once the ranking reports finish.
        default = not args.notebook and sets is None
        briefs = plan_brief_requests(extra_files=extra) if default else []
    result = run_batch(
        jobs,
        briefs=briefs,
        run_id=args.run_id,
        workers=args.workers,
        scheduler=args.scheduler,
        only_failed=args.only_failed,
        rebuild_manifest=args.rebuild_manifest,
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
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="show the version"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="The investment ledger and the partner data.")
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
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="release date of the imported tables (for the conflict rule)",
    )
    check.add_argument(
        "--data", type=Path, default=None, help="data folder (default: the project's data/)"
    )
    check.add_argument(
        "--out", type=Path, default=None, help="output folder (default: reports/data-check)"
    )
    check.add_argument(
        "--as-of",
        default=None,
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="date against which missing BKPM releases are named (default: today)",
    )
    check.add_argument("-q", "--quiet", action="store_true", help="do not print the tables")
    check.set_defaults(func=_data_check)

    add = data_sub.add_parser(
        "add-release",
        help="Validate one BKPM release in the release format "
        "(data/templates/bkpm_release_TEMPLATE.csv) and add it to the ledger's import area "
        "(data/imports/): every report then moves to the new period.",
    )
    add.add_argument("file", type=Path, help="the filled-in release CSV")
    add.add_argument(
        "--data", type=Path, default=None, help="data folder (default: the project's data/)"
    )
    add.set_defaults(func=_data_add_release)

    fetch = data_sub.add_parser(
        "fetch",
        help="Download World Bank WDI, IMF (WEO, DIP) and UN Comtrade data into the local "
        "cache (data/cache/); --offline reports the committed snapshot instead.",
    )
    fetch.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="wdi, weo, dip, comtrade, imf (= weo dip) or all (default: all)",
    )
    fetch.add_argument(
        "--offline",
        action="store_true",
        help="do not touch the network; say which committed snapshot (and cache) is used",
    )
    fetch.add_argument(
        "--cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="cache folder (default: $MITRA_FETCH_CACHE or data/cache)",
    )
    fetch.set_defaults(func=_data_fetch)

    run = sub.add_parser(
        "run",
        help="Run one notebook with layered params files into "
        "reports/<run-id>/ (notebook, HTML, manifest, index).",
    )
    run.add_argument("notebook", help="e.g. notebooks/00-data-audit.ipynb")
    _params_options(run, "params file, layered in order (default params/base.yaml)")
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
    _params_options(batch, "extra params file layered last on every set (e.g. a scenario)")
    batch.add_argument("--ci", action="store_true", help="layer params/ci.yaml last (fast)")
    batch.add_argument(
        "--only-failed",
        "--resume",
        dest="only_failed",
        action="store_true",
        help="rerun only the reports of --run-id not finished ok (failed or interrupted)",
    )
    batch.add_argument(
        "--rebuild-manifest",
        action="store_true",
        help="rebuild a damaged or lost manifest of --run-id from its report files",
    )
    _batch_options(batch)
    batch.set_defaults(func=_batch)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mitra")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _os_error(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "a file"
    what = exc.strerror or str(exc)
    return f"cannot write or read {where}: {what} (earlier outputs there are unchanged)"


class _Terminated(BaseException):
    """SIGTERM outside a batch's execution (e.g. while planning): leave like Ctrl-C does."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


@contextlib.contextmanager
def _sigterm_raises():
    """While the command runs, SIGTERM raises :class:`_Terminated` (a one-line exit, no
    traceback); a batch installs its own stop handler while reports run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mitra`` command line; return the exit code."""
    from analysis.base.environment import skip_slow_optional_imports

    skip_slow_optional_imports()
    try:
        with _sigterm_raises():
            return _main(argv)
    except _Terminated:
        print("mitra: SIGTERM received: stopped", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("mitra: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MitraError as exc:
        print(f"mitra: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mitra: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mitra: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("MITRA_DEBUG"):
            raise
        print(
            f"mitra: internal error: {type(exc).__name__}: {exc} (please report it; "
            "MITRA_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
