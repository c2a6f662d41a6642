"""A new BKPM release in five minutes: the release template and the ledger's import area.

BKPM publishes each quarter about four weeks after it ends; the compiled sources stop at FY
2025. A user who has a newer release fills in one CSV in the release format (template:
``data/templates/bkpm_release_TEMPLATE.csv``; every column in ``data/README.md``) and runs::

    mitra data add-release my_release_Q1_2026.csv

:func:`add_release` validates the file with the same rules as the shipped data, checks it
against the ledger, and only then stores a byte copy under ``data/imports/`` with one row in
``data/imports/index.csv`` (file, sha256, year, period, published, source, added). From
then on :func:`analysis.data.build_ledger` reads the import area by default, so the ledger's
latest release, the data check's "as of" and every report move to the new period.

The release format: one row per published figure,

======== ===========================================================================
column   meaning
======== ===========================================================================
year     calendar year of the release (one release per file)
period   ``Q1``, ``H1``, ``9M`` or ``FY`` (the cumulative windows BKPM releases), or a
         discrete quarter ``Q2``-``Q4`` for figures published for the quarter alone
table    ``national``, ``country``, ``sector``, ``province`` or ``jobs``
item     empty for national and jobs; ISO alpha-3 code for country (``SGP``); BKPM
         sector name or code for sector; province name or ISO 3166-2 code for province
measure  ``total``, ``pma`` or ``pmdn`` (``pma`` only for country; ``jobs`` for jobs)
value    the figure as printed, ``.`` as decimal point, no thousands separators
unit     ``Rp trillion``, ``Rp billion``, ``US$ billion``, ``US$ million`` (PMA may be
         given in both rupiah and US$: two rows); ``persons`` for jobs
source   URL or title of the release
published the release date, ``YYYY-MM-DD``
note     optional
======== ===========================================================================

Checks (each failure is a :class:`~analysis.errors.DataValidationError` naming file, line
and column, and nothing is written):

- every cell, as for the raw files (:mod:`analysis.data.schema`): numbers, units, dates,
  known partner codes, sector names (``data/mappings/sector_names.csv``), provinces;
- one release per file, and a ``national`` ``total`` row;
- the release date falls after the period's end;
- PMA + PMDN = total within rounding (PMA in rupiah, or in US$ at the year's APBN rate within
  the ledger's exchange-rate tolerance), and PMA in rupiah agrees with PMA in US$;
- no duplicate: a release already in the import area, or whose period the shipped data
  already publish, is refused (a correction goes into a new file after removing the old one
  from ``imports/index.csv``);
- the ledger with the release added shows no identity violation that the ledger without it
  did not have (e.g. an H1 total smaller than the Q1 total already in the ledger).

Figures enter the ledger as candidates flagged ``imported_release``; in a conflict with a
press report they count as the official table (rule ``official_table``). Jobs are validated
and kept in the import area (:func:`release_rows`) but the ledger has no jobs measure.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.data.provenance import sha256_of
from analysis.data.raw import CANDIDATE_COLUMNS
from analysis.data.releases import RELEASE_PERIODS, _period_end
from analysis.data.schema import Column, read_table
from analysis.data.sectors import load_sector_map
from analysis.errors import DataValidationError
from analysis.vocab import UNITS, is_partner_code, province_code

__all__ = [
    "IMPORTS_DIR",
    "INDEX_COLUMNS",
    "RELEASE_COLUMNS",
    "TEMPLATE",
    "ImportedRelease",
    "add_release",
    "imported_candidates",
    "read_release",
    "release_rows",
]

IMPORTS_DIR = "imports"
INDEX_FILE = "imports/index.csv"
TEMPLATE = "templates/bkpm_release_TEMPLATE.csv"
INDEX_COLUMNS = ("file", "sha256", "year", "period", "published", "source", "added")
RELEASE_COLUMNS = (
    "year",
    "period",
    "table",
    "item",
    "measure",
    "value",
    "unit",
    "source",
    "published",
    "note",
)
TABLES = ("national", "country", "sector", "province", "jobs")
_PERIODS = ("Q1", "Q2", "Q3", "Q4", "H1", "9M", "FY")
_MEASURES = {
    "national": ("total", "pma", "pmdn"),
    "country": ("pma",),
    "sector": ("total", "pma", "pmdn"),
    "province": ("total", "pma", "pmdn"),
    "jobs": ("jobs",),
}
_MONEY_UNITS = ("Rp trillion", "Rp billion", "US$ billion", "US$ million")
_FLAG = "imported_release"


def _is_day(text: str) -> bool:
    try:
        return len(text) == 10 and dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


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


def _columns(root: Path) -> tuple[Column, ...]:
    return (
        Column("year", "int", bounds=(2000, 2100)),
        Column("period", check=lambda s: s in _PERIODS, expected=", ".join(_PERIODS)),
        Column("table", check=lambda s: s in TABLES, expected=", ".join(TABLES)),
        Column("item", nullable=True),
        Column(
            "measure",
            check=lambda s: s in ("total", "pma", "pmdn", "jobs"),
            expected="total, pma, pmdn (or jobs)",
        ),
        Column("value", "amount", bounds=(0, 1e12)),
        Column(
            "unit",
            check=lambda s: s in (*_MONEY_UNITS, "persons"),
            expected=", ".join((*_MONEY_UNITS, "persons")),
        ),
        Column("source"),
        Column("published", check=_is_day, expected="the release date, YYYY-MM-DD"),
        Column("note", nullable=True),
    )


def read_release(path: str | Path, root: str | Path | None = None) -> pd.DataFrame:
    """Read and validate one release file (cells and the release's own consistency).

    Returns
    -------
    pandas.DataFrame
        The validated rows (``_line`` = line in the file) with ``sector``, ``region`` and
        ``partner_iso3`` mapped to the ledger's codes.
    """
    root = Path(root) if root is not None else paths.DATA
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise DataValidationError(label, "file not found")
    raw = read_table(
        path,
        _columns(root),
        key=("year", "period", "table", "item", "measure", "unit"),
        label=label,
    )
    if raw.empty:
        raise DataValidationError(label, "no rows", row=2, expected="one row per figure")
    smap = load_sector_map(root)
    sectors, regions, partners = [], [], []
    for rec in raw.to_dict("records"):
        line, table = int(rec["_line"]), str(rec["table"])
        item = "" if rec["item"] is None or pd.isna(rec["item"]) else str(rec["item"]).strip()
        measure, unit = str(rec["measure"]), str(rec["unit"])

        def fail(
            problem: str, column: str, expected: str, value: object = None, line: int = line
        ) -> None:
            raise DataValidationError(
                label, problem, row=line, column=column, expected=expected, value=value
            )

        if measure not in _MEASURES[table]:
            fail(f"measure not used in table {table}", "measure", ", ".join(_MEASURES[table]))
        if (table == "jobs") != (unit == "persons"):
            fail("unit does not fit the table", "unit", "persons for jobs, money otherwise", unit)
        sector, region, partner = "all", "IDN", "WLD"
        if table in ("national", "jobs"):
            if item:
                fail(f"item given for table {table}", "item", "an empty cell", item)
        elif not item:
            fail(f"empty item for table {table}", "item", f"the {table} the figure is for")
        elif table == "country":
            if not is_partner_code(item) or item == "WLD":
                fail("unknown partner code", "item", "an ISO 3166 alpha-3 code (SGP)", item)
            partner = item
        elif table == "sector":
            ref = smap.resolve(item)
            if ref is None:
                fail(
                    "unknown sector",
                    "item",
                    "a sector code or a name in data/mappings/sector_names.csv",
                    item,
                )
            sector, region = ref.sector, ref.region
        elif table == "province":
            code = province_code(item)
            if code is None or code == "IDN":
                fail("unknown province", "item", "a province name (Jawa Barat) or ID-JB", item)
            region = code
        sectors.append(sector)
        regions.append(region)
        partners.append(partner)
    raw["sector"], raw["region"], raw["partner_iso3"] = sectors, regions, partners
    _check_release(raw, label)
    return raw


def _check_release(raw: pd.DataFrame, label: str) -> None:
    first = raw.iloc[0]
    for col in ("year", "period"):
        other = raw[raw[col].astype(str) != str(first[col])]
        if len(other):
            raise DataValidationError(
                label,
                f"a second release in one file ({col} {other.iloc[0][col]} after "
                f"{first[col]} on line {int(first['_line'])})",
                row=int(other.iloc[0]["_line"]),
                column=col,
                expected="one release (one year and period) per file",
            )
    year, period = int(first["year"]), str(first["period"])
    nat = raw[raw["table"] == "national"]
    if not (nat["measure"] == "total").any():
        raise DataValidationError(
            label,
            "no national total",
            row=int(raw["_line"].max()) + 1,
            column="table",
            expected="a row with table=national, measure=total (the release's headline)",
        )
    window = period if period in RELEASE_PERIODS else {"Q2": "H1", "Q3": "9M", "Q4": "FY"}[period]
    end = _period_end(year, window) if period in RELEASE_PERIODS else _quarter_end(year, period)
    for rec in raw.to_dict("records"):
        if dt.date.fromisoformat(str(rec["published"])) <= end:
            raise DataValidationError(
                label,
                f"release date before the end of {period} {year} ({end.isoformat()})",
                row=int(rec["_line"]),
                column="published",
                value=rec["published"],
                expected="the day BKPM published the figures, after the period ended",
            )


def _quarter_end(year: int, quarter: str) -> dt.date:
    month = {"Q1": 3, "Q2": 6, "Q3": 9, "Q4": 12}[quarter]
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _candidates(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    money = raw[raw["table"] != "jobs"]
    dataset = money["table"].map(
        {"national": "national", "country": "country", "sector": "sector", "province": "sector"}
    )
    note = money["note"].astype("string")
    cand = pd.DataFrame(
        {
            "dataset": dataset,
            "file": label,
            "line": money["_line"].astype(int),
            "concept": "realisation",
            "year": money["year"].astype(int),
            "period": money["period"].astype(str),
            "measure": money["measure"].astype(str),
            "sector": money["sector"],
            "region": money["region"],
            "partner_iso3": money["partner_iso3"],
            "value_published": money["value"].astype(float),
            "unit_published": money["unit"].astype(str),
            "decimals": money["value_decimals"].astype(int),
            "projects": pd.array([pd.NA] * len(money), dtype="Int64"),
            "source": money["source"].astype(str),
            "published": money["published"].astype("string"),
            "note": note,
            "flags": [(_FLAG,)] * len(money),
        }
    )
    return cand[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


def _index(root: Path) -> pd.DataFrame:
    path = root / INDEX_FILE
    if not path.is_file():
        return pd.DataFrame(columns=list(INDEX_COLUMNS))
    table = read_table(
        path,
        (
            Column("file"),
            Column("sha256", check=lambda s: len(s) == 64, expected="a hex sha256"),
            Column("year", "int", bounds=(2000, 2100)),
            Column("period", check=lambda s: s in _PERIODS, expected=", ".join(_PERIODS)),
            Column("published"),
            Column("source"),
            Column("added"),
        ),
        key=("file",),
        label=f"data/{INDEX_FILE}",
    )
    return table


def imported_candidates(root: str | Path | None = None) -> tuple[list[pd.DataFrame], dict]:
    """Candidate frames of every release in the import area, and the files' hashes.

    Each file's sha256 must match ``imports/index.csv`` (an edited import stops the run with
    :class:`~analysis.errors.ProvenanceError`).
    """
    from analysis.errors import ProvenanceError

    root = Path(root) if root is not None else paths.DATA
    index = _index(root)
    frames, hashes = [], {}
    for rec in index.to_dict("records"):
        rel = f"{IMPORTS_DIR}/{rec['file']}"
        path = root / rel
        if not path.is_file():
            raise ProvenanceError(
                f"data/{rel}: listed in data/{INDEX_FILE} but missing; restore it or remove "
                "its row"
            )
        actual = sha256_of(path)
        if actual != rec["sha256"]:
            raise ProvenanceError(
                f"data/{rel}: sha256 {actual[:12]}... does not match data/{INDEX_FILE} "
                f"({str(rec['sha256'])[:12]}...); imported releases are immutable: add a "
                "corrected release as a new file"
            )
        frames.append(_candidates(read_release(path, root), f"data/{rel}"))
        hashes[rel] = actual
    return frames, hashes


def release_rows(root: str | Path | None = None) -> pd.DataFrame:
    """Every validated row of the imported releases (jobs included), with its file."""
    root = Path(root) if root is not None else paths.DATA
    out = []
    for rec in _index(root).to_dict("records"):
        rel = f"{IMPORTS_DIR}/{rec['file']}"
        rows = read_release(root / rel, root).assign(file=f"data/{rel}")
        out.append(rows.rename(columns={"_line": "line"}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


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
    from analysis.data.ledger import LedgerSettings, build_ledger

    root = Path(root) if root is not None else paths.DATA
    settings = settings or LedgerSettings()
    path = Path(path)
    label = str(path)
    raw = read_release(path, root)
    year, period = int(raw.iloc[0]["year"]), str(raw.iloc[0]["period"])
    baseline = build_ledger(root, settings)
    _check_identities(raw, label, settings.fx_rtol, baseline.fx)
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
    return _store(path, raw, root, year, period)


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
