"""Step 6 of the ledger: censoring (bounds from lists that omit a value)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.base.vocab import (
    AGGREGATE_PARTNERS,
    CANONICAL_UNITS,
)

# --- step 6: censoring -------------------------------------------------------------------


def _censoring(cand: pd.DataFrame, min_list_size: int) -> pd.DataFrame:
    rows = []
    country = cand[(cand["dataset"] == "country") & (cand["concept"] == "realisation")]
    chosen = country[
        country["chosen"]
        & ~country["partner_iso3"].isin(list(AGGREGATE_PARTNERS))
        & ~country["partner_iso3"].str.contains("+", regex=False)
    ]
    for (year, period, source), grp in country.groupby(["year", "period", "source"], sort=True):
        named = grp[
            ~grp["partner_iso3"].isin(list(AGGREGATE_PARTNERS))
            & ~grp["partner_iso3"].str.contains("+", regex=False)
        ]
        unknown = grp[grp["partner_iso3"] == "UNK"]
        n_listed = len(named) + len(unknown)
        if n_listed < min_list_size or named["value"].isna().all():
            continue
        floor = float(named["value"].min())
        unk = float(unknown["value"].max()) if len(unknown) else np.nan
        # An unnamed listed country could be any absent partner: the bound is then its value.
        bound = max(floor, unk) if not math.isnan(unk) else floor
        # A list that omits a partner another source puts above its smallest entry is not a
        # complete top-N list (e.g. an article naming only the runners-up): it bounds nothing.
        same = chosen[
            (chosen["year"] == year)
            & (chosen["period"] == period)
            & ~chosen["partner_iso3"].isin(list(named["partner_iso3"]))
        ]
        above = same[same["value"] > floor + same["half_unit"]]
        rows.append(
            {
                "year": year,
                "period": period,
                "source": source,
                "n_listed": n_listed,
                "listed": " ".join(sorted(named["partner_iso3"])),
                "smallest_listed": floor,
                "unnamed_entry": unk,
                "upper_bound": bound,
                "unit": CANONICAL_UNITS["pma"],
                "complete": above.empty,
                "omits": " ".join(sorted(set(above["partner_iso3"]))),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "year",
            "period",
            "source",
            "n_listed",
            "listed",
            "smallest_listed",
            "unnamed_entry",
            "upper_bound",
            "unit",
            "complete",
            "omits",
        ],
    )
