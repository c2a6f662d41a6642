"""Lay fetched values over the committed snapshot: newer vintages win, flagged and listed.

The partner panel is built from the committed snapshot (``data/raw/partners``). When
``mitra data fetch`` has filled the cache, :func:`prefer_fetched` puts the fetched values in:

- a cell (``iso3, year, indicator``) the snapshot lacks gets the fetched value, flagged
  ``fetched``;
- a cell the snapshot has is replaced when the fetched vintage is *newer* than the
  snapshot's, flagged ``fetched;fetched_newer``; otherwise the snapshot value stays;
- every decision is a row of the returned table (``action`` = ``added``, ``replaced`` or
  ``kept_snapshot``), so the panel can say what changed.

A fetched indicator the catalogue does not define is left out (listed with ``action =
not_in_catalogue``); a fetched unit that differs from the catalogue's unit for its indicator
is an error, never a silent pass-through.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["OVERLAY_COLUMNS", "prefer_fetched"]

OVERLAY_COLUMNS: tuple[str, ...] = (
    "iso3",
    "year",
    "indicator",
    "action",
    "snapshot_value",
    "snapshot_vintage",
    "fetched_value",
    "fetched_vintage",
    "fetched_source",
)

_KEY = ["iso3", "year", "indicator"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(text: object) -> str:
    m = _DATE.search(str(text))
    return m.group(0) if m else ""


def prefer_fetched(
    frame: pd.DataFrame, fetched: pd.DataFrame, catalogue: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``frame`` with fetched values laid over it, and the table of decisions.

    Parameters
    ----------
    frame
        The snapshot panel, long: ``iso3, year, indicator, value, unit, source, vintage,
        flags`` (one row per cell).
    fetched
        :func:`analysis.data.loaders.fetched_frame` output (same columns less ``flags``,
        plus ``note``).
    catalogue
        The indicator catalogue (``code, unit, ...``).

    Returns
    -------
    (frame, decisions)
        The panel frame (same columns, one row per cell) and one row per fetched cell
        (:data:`OVERLAY_COLUMNS`).

    Raises
    ------
    DataValidationError
        A fetched value's unit differs from the catalogue's unit for its indicator.
    """
    if fetched.empty:
        return frame, pd.DataFrame(columns=list(OVERLAY_COLUMNS))
    units = catalogue.set_index("code")["unit"]
    known = fetched["indicator"].isin(units.index)
    outside = fetched[~known]
    fetched = fetched[known]
    wrong = fetched[fetched["unit"] != fetched["indicator"].map(units)]
    if len(wrong):
        row = wrong.iloc[0]
        raise DataValidationError(
            "fetch cache",
            f"{row['indicator']} for {row['iso3']} {row['year']} is in {row['unit']!r}",
            column="unit",
            expected=f"the catalogue's unit {units[row['indicator']]!r}",
        )
    merged = fetched.merge(
        frame[[*_KEY, "value", "vintage"]].rename(
            columns={"value": "snapshot_value", "vintage": "snapshot_vintage"}
        ),
        on=_KEY,
        how="left",
        indicator=True,
    )
    absent = merged["_merge"] == "left_only"
    newer = ~absent & (merged["vintage"].map(_date) > merged["snapshot_vintage"].map(_date))
    merged["action"] = "kept_snapshot"
    merged.loc[absent, "action"] = "added"
    merged.loc[newer, "action"] = "replaced"

    take = merged[merged["action"] != "kept_snapshot"]
    flags = pd.Series("fetched", index=take.index)
    flags = flags.where(take["action"] == "added", "fetched;fetched_newer")
    incoming = take.assign(flags=flags)[[*_KEY, "value", "unit", "source", "vintage", "flags"]]
    replaced = take.loc[take["action"] == "replaced", _KEY]
    keep = frame.merge(replaced, on=_KEY, how="left", indicator=True)["_merge"] == "left_only"
    out = pd.concat(
        [frame[keep.to_numpy()], incoming[frame.columns.intersection(incoming.columns)]],
        ignore_index=True,
    )
    out = out.reindex(columns=frame.columns)
    if "flags" in out.columns:
        out["flags"] = out["flags"].fillna("")
    out = out.sort_values(_KEY, ignore_index=True)

    decisions = merged.rename(
        columns={
            "value": "fetched_value",
            "vintage": "fetched_vintage",
            "source": "fetched_source",
        }
    )[list(OVERLAY_COLUMNS)]
    if len(outside):
        extra = outside.assign(
            action="not_in_catalogue",
            snapshot_value=float("nan"),
            snapshot_vintage="",
            fetched_value=outside["value"],
            fetched_vintage=outside["vintage"],
            fetched_source=outside["source"],
        )[list(OVERLAY_COLUMNS)]
        decisions = pd.concat([decisions, extra], ignore_index=True)
    return out, decisions.sort_values(["action", *_KEY], ignore_index=True)
