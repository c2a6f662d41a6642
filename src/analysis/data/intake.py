"""Adding a BKPM release to the ledger's import area: :func:`add_release`.

:mod:`analysis.data.imports` reads and validates a release file and gives the ledger the
candidates of the releases already imported; this module, one step up, checks a new release
against the ledger built without it (no duplicate period, no new identity violation) and
only then stores it, all or nothing. The ledger imports :mod:`~analysis.data.imports`; this
module imports both, so no import goes back down.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import UNITS
from analysis.data.imports import (
    IMPORTS_DIR,
    INDEX_COLUMNS,
    INDEX_FILE,
    _candidates,
    _index,
    read_release,
)
from analysis.data.ledger import Ledger, LedgerSettings, build_ledger
from analysis.data.provenance import sha256_of
from analysis.data.units import load_fx_table

__all__ = ["ImportedRelease", "add_release"]


@dataclass(frozen=True)
class ImportedRelease:
    """What :func:`add_release` stored: the copy, its hash, the release and its row count."""

    path: Path
    sha256: str
    year: int
    period: str
    published: str
    source: str
    rows: int
    ledger: Ledger | None = None  #: the ledger with the release


def _check_identities(raw: pd.DataFrame, label: str, rtol: float, fx) -> None:
    """PMA + PMDN = total and PMA in Rp = PMA in US$ inside the release."""
    nat = raw[raw["table"] == "national"]
    year = int(raw.iloc[0]["year"])
    rate = fx.rate(year, "apbn", "market")

    def idr_bn(rec) -> tuple[float, float, bool]:
        cur, scale = UNITS[str(rec["unit"])]
        half = 0.5 * 10.0 ** (-int(rec["value_decimals"])) * scale
        if cur == "IDR":
            return rec["value"] * scale / 1e9, half / 1e9, False
        if rate is None:
            return float("nan"), float("nan"), True
        return rec["value"] * scale * rate.rate / 1e9, half * rate.rate / 1e9, True

    got = {}
    for rec in nat.to_dict("records"):
        got.setdefault(str(rec["measure"]), []).append(rec)
    pma_idr = [r for r in got.get("pma", []) if UNITS[str(r["unit"])][0] == "IDR"]
    pma_usd = [r for r in got.get("pma", []) if UNITS[str(r["unit"])][0] == "USD"]
    if pma_idr and pma_usd:
        a, ha, _ = idr_bn(pma_idr[0])
        b, hb, _ = idr_bn(pma_usd[0])
        if abs(a - b) > ha + hb + rtol * max(a, b):
            raise DataValidationError(
                label,
                f"PMA in rupiah ({a:,.0f} Rp bn) and in US$ ({b:,.0f} Rp bn at the {year} APBN "
                f"rate) differ by more than rounding and {rtol:.0%}",
                row=int(pma_usd[0]["_line"]),
                column="value",
                expected="the same PMA figure in both currencies",
            )
    if "total" in got and "pmdn" in got and got.get("pma"):
        pma = (pma_idr or pma_usd)[0]
        total, pmdn = got["total"][0], got["pmdn"][0]
        p, hp, conv = idr_bn(pma)
        d, hd, _ = idr_bn(pmdn)
        t, ht, _ = idr_bn(total)
        tol = hp + hd + ht + (rtol * p if conv else 0.0)
        if abs(p + d - t) > tol:
            raise DataValidationError(
                label,
                f"PMA + PMDN = {p + d:,.1f} Rp bn but total = {t:,.1f} Rp bn (difference "
                f"{p + d - t:,.1f}, tolerance {tol:,.1f})",
                row=int(total["_line"]),
                column="value",
                expected="total = PMA + PMDN within rounding",
            )


def _violation_keys(frame: pd.DataFrame) -> set[tuple]:
    cols = ["year", "period", "measure", "sector", "region", "partner_iso3", "identity"]
    return {tuple(r) for r in frame[cols].astype(str).itertuples(index=False)}


def add_release(
    path: str | Path, root: str | Path | None = None, *, settings=None
) -> ImportedRelease:
    """Validate one release file and store it in the import area (all or nothing).

    Parameters
    ----------
    path
        The filled-in release (``data/templates/bkpm_release_TEMPLATE.csv`` format).
    root
        The data folder whose import area receives it (default ``data/``).
    settings
        :class:`~analysis.data.ledger.LedgerSettings` of the consistency check.

    Returns
    -------
    ImportedRelease

    Raises
    ------
    DataValidationError
        A bad cell, a second release in the file, a release date before the period's end,
        PMA + PMDN != total, a duplicate release, or a new identity violation in the ledger
        (file, line, column named). Nothing is written then.
    """
    root = Path(root) if root is not None else paths.DATA
    settings = settings or LedgerSettings()
    path = Path(path)
    label = str(path)
    raw = read_release(path, root)
    year, period = int(raw.iloc[0]["year"]), str(raw.iloc[0]["period"])
    _check_identities(raw, label, settings.fx_rtol, load_fx_table(root))
    first_line = int(raw.iloc[0]["_line"])
    index = _index(root)
    same = index[(index["year"].astype(int) == year) & (index["period"] == period)]
    if len(same):
        raise DataValidationError(
            label,
            f"duplicate release: {period} {year} is already imported as "
            f"data/{IMPORTS_DIR}/{same.iloc[0]['file']}",
            row=first_line,
            column="period",
            expected="a release not yet in the import area (remove the old one from "
            f"data/{INDEX_FILE} to replace it)",
        )
    baseline = build_ledger(root, settings)
    shipped = baseline.select(
        year=year, period=period, sector="all", region="IDN", partner_iso3="WLD",
        concept="realisation", origin="published",
    )  # fmt: skip
    if len(shipped):
        o = shipped.iloc[0]
        raise DataValidationError(
            label,
            f"duplicate release: {period} {year} is already in the ledger "
            f"({o['measure']} {o['value']:,.1f} {o['unit']}, {str(o['lines']).split(' | ')[0]})",
            row=first_line,
            column="period",
            expected="a period the ledger does not yet hold",
        )
    cand = _candidates(raw, label)
    trial = build_ledger(root, settings, imports=[cand])
    new = _violation_keys(trial.violations) - _violation_keys(baseline.violations)
    if new:
        v = trial.violations
        keys = v[["year", "period", "measure", "sector", "region", "partner_iso3", "identity"]]
        hit = v[[tuple(r) in new for r in keys.astype(str).itertuples(index=False)]].iloc[0]
        line = raw[
            (raw["table"] == "national") & (raw["measure"] == str(hit["measure"]))
        ]["_line"]  # fmt: skip
        raise DataValidationError(
            label,
            f"the release contradicts the ledger's identities: {hit['equation']} for "
            f"{hit['measure']} {hit['year']} ({hit['lhs']:,.1f} vs {hit['rhs']:,.1f} "
            f"{hit['unit']})",
            row=int(line.iloc[0]) if len(line) else first_line,
            column="value",
            expected="figures consistent with the releases already in the ledger",
        )
    stored = _store(path, raw, root, year, period)
    return ImportedRelease(**{**stored.__dict__, "ledger": trial})


def _store(path: Path, raw: pd.DataFrame, root: Path, year: int, period: str) -> ImportedRelease:
    folder = root / IMPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"bkpm_release_{year}_{period}.csv"
    dest = folder / name
    if dest.exists():
        raise DataValidationError(
            str(path),
            f"data/{IMPORTS_DIR}/{name} exists but is not listed in data/{INDEX_FILE}",
            expected="remove the stray file, then import again",
        )
    data = path.read_bytes()
    nat = raw[(raw["table"] == "national") & (raw["measure"] == "total")].iloc[0]
    index = _index(root)
    row = {
        "file": name,
        "sha256": "",
        "year": year,
        "period": period,
        "published": str(nat["published"]),
        "source": str(nat["source"]),
        "added": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    tmp_data = tmp_index = None
    try:
        fd, tmp_data = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".csv")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        row["sha256"] = sha256_of(tmp_data)
        table = pd.concat(
            [index.drop(columns=["_line"], errors="ignore"), pd.DataFrame([row])],
            ignore_index=True,
        )[list(INDEX_COLUMNS)]
        fd, tmp_index = tempfile.mkstemp(dir=folder, prefix=".tmp-index-", suffix=".csv")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            table.to_csv(handle, index=False, lineterminator="\n")
        os.replace(tmp_data, dest)
        tmp_data = None
        try:
            os.replace(tmp_index, root / INDEX_FILE)
            tmp_index = None
        except OSError:
            dest.unlink(missing_ok=True)  # the index never listed it: leave no stray file
            raise
    finally:
        for leftover in (tmp_data, tmp_index):
            if leftover is not None:
                Path(leftover).unlink(missing_ok=True)
    return ImportedRelease(
        dest, row["sha256"], year, period, row["published"], row["source"], len(raw)
    )
