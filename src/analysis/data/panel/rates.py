"""Exchange rates of the partner panel (to convert national-currency values)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.base.errors import DataValidationError
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table

from .mappings import FILES

# --- exchange rates --------------------------------------------------------------------


@dataclass(frozen=True)
class _Rates:
    """Official annual average rates: (currency, year) -> (per US$, source, file:line)."""

    table: dict[tuple[str, int], tuple[float, str, str]]

    @property
    def currencies(self) -> set[str]:
        return {c for c, _ in self.table} | {"USD"}


def _load_rates(root: Path) -> _Rates:
    rel = FILES["fx"]
    verify_file(rel, root=root)
    fx = read_table(
        root / rel,
        [
            Column(
                "currency",
                check=lambda s: re.fullmatch(r"[A-Z]{3}", s) is not None,
                expected="an ISO 4217 code",
            ),
            Column("year", "int", bounds=(1960, 2100)),
            Column(
                "basis", check=lambda s: s in ("apbn", "market_avg"), expected="apbn or market_avg"
            ),
            Column("per_usd", "float", bounds=(1e-9, 1e9), expected="units per US$ > 0"),
            Column("source_url"),
            Column("note", nullable=True),
        ],
        key=("currency", "year", "basis", "per_usd", "source_url"),
        label=f"data/{rel}",
    )
    market = fx[fx["basis"] == "market_avg"].rename(columns={"_line": "line_no"})
    dup = market.duplicated(["currency", "year"], keep=False)
    if dup.any():
        first = market[dup].iloc[0]
        raise DataValidationError(
            f"data/{rel}",
            f"two market_avg rates for {first['currency']} {first['year']}",
            row=int(market[dup]["line_no"].iloc[-1]),
            column="per_usd",
            expected="one official annual average per currency and year",
        )
    table = {
        (str(r.currency), int(r.year)): (
            float(r.per_usd),
            str(r.source_url),
            f"data/{rel}:{r.line_no}",
        )
        for r in market.itertuples(index=False)
    }
    # Rupiah market averages before 2015 come from the older IDR table (same series, the
    # compiler checked that 2015-2020 coincide).
    rel_idr = FILES["fx_idr"]
    verify_file(rel_idr, root=root)
    idr = pd.read_csv(root / rel_idr, dtype=str, keep_default_na=False)
    for i, r in idr.iterrows():
        if r["kind"] == "market_avg" and ("IDR", int(r["year"])) not in table:
            table[("IDR", int(r["year"]))] = (
                float(r["rate_idr_per_usd"]),
                str(r["source_url"]),
                f"data/{rel_idr}:{int(i) + 2}",
            )
    return _Rates(table)
