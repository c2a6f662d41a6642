"""Figures. Each function takes data (or a result) and an optional ``ax``, returns the Figure.

Nothing here calls ``plt.show()`` or saves: saving belongs to :mod:`analysis.reports`. All
figures share one style (:func:`mitra_style`), so reports look alike.

Chart conventions, applied by the :func:`chart` decorator that every public plot function
wears (``tests/test_plots.py`` checks that each one does):

- a source line under the chart (:func:`add_source`, text from the message catalogue);
- value axes in plain numbers with the language's thousands separators, never an offset
  (``1e6``) or scientific notation (:func:`plain_numbers`);
- a title in words and the unit on the value axis (each function sets them; the units
  match the table the report shows next to the chart).

Decorated functions accept ``language="en" | "id"`` (the source line and number format)
and ``source=`` (to name a different source).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatter, MaxNLocator, ScalarFormatter

from analysis.base.i18n import format_number, label, messages
from analysis.data.ledger import Ledger

__all__ = [
    "SOURCE_GID",
    "add_source",
    "chart",
    "mitra_style",
    "plain_numbers",
    "plot_coverage",
    "plot_drivers",
    "plot_fan",
    "plot_flow_fan",
    "plot_fy_totals",
    "plot_partner_panel",
    "plot_partner_shares",
    "plot_pillar_profile",
    "plot_potential",
    "plot_quarterly",
    "plot_rank_bands",
    "plot_scenario",
]

_STYLE = {
    "figure.figsize": (8.0, 4.0),
    "figure.dpi": 100,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "font.size": 9,
    # Reproducible image bytes: no timestamps, fixed hash salt.
    "svg.hashsalt": "mitra",
}
COLORS = {"pma": "#1f6f8b", "pmdn": "#e0a526", "total": "#333333", "bound": "#b03a2e"}


@contextlib.contextmanager
def mitra_style() -> Iterator[None]:
    """Apply Mitra's figure style inside a ``with`` block."""
    with mpl.rc_context(_STYLE):
        yield


#: ``gid`` of the source line's text artist (tests look for it).
SOURCE_GID = "mitra-source"


def _step_digits(ticks: np.ndarray) -> int:
    """Fewest decimals (0-3) that write every tick exactly (2.5 needs 1, 20 needs 0)."""
    ticks = ticks[np.isfinite(ticks)]
    if len(ticks) == 0:
        return 0
    tol = 1e-9 * max(1.0, float(np.max(np.abs(ticks))))
    for digits in range(4):
        if np.allclose(ticks, np.round(ticks, digits), rtol=0, atol=tol):
            return digits
    return 3


def plain_numbers(axis, language: str = "en") -> None:
    """Write an axis's tick labels as plain numbers with separators (no offset, no 1e6).

    Categorical or already customised axes (their formatter is not matplotlib's default
    number formatter) are left alone, and so are axes of years.
    """
    fmt = axis.get_major_formatter()
    if not isinstance(fmt, ScalarFormatter | LogFormatter):
        return
    ticks = np.asarray(axis.get_ticklocs(), dtype=float)
    finite = ticks[np.isfinite(ticks)]
    view = np.asarray(axis.get_view_interval(), dtype=float)
    if (
        isinstance(fmt, ScalarFormatter)
        and axis.axis_name == "x"
        and (
            (len(finite) and finite.min() >= 1900 and finite.max() <= 2100)
            # The view, not the ticks: ticks are laid out only at draw time, and a year
            # axis must never read "2,016" whatever ticks the locator picks later.
            or (np.isfinite(view).all() and view.min() >= 1890 and view.max() <= 2110)
        )
    ):
        # A time axis of years: whole years, no separator ("2,024") and no offset.
        if isinstance(axis.get_major_locator(), MaxNLocator):
            axis.get_major_locator().set_params(integer=True)
        axis.set_major_formatter(FuncFormatter(lambda v, _p=None: f"{v:.0f}"))
        return

    def label(value: float, _pos: int | None = None) -> str:
        digits = _step_digits(np.asarray(axis.get_ticklocs(), dtype=float))
        if isinstance(fmt, LogFormatter) and value < 1:
            digits = max(digits, int(-np.floor(np.log10(value))) if value > 0 else 0)
        return format_number(value, digits, language)

    axis.set_major_formatter(FuncFormatter(label))
    if isinstance(fmt, LogFormatter):
        axis.set_minor_formatter(FuncFormatter(lambda v, p=None: ""))


def add_source(fig: Figure, source: str, language: str = "en") -> None:
    """Write "Source: ..." under everything else on the figure (once per figure)."""
    if any(t.get_gid() == SOURCE_GID for t in fig.texts):
        return
    renderer = fig.canvas.get_renderer()
    box = fig.get_tightbbox(renderer)  # inches, includes tick labels and outside legends
    bottom = (box.y0 * fig.dpi) / (fig.get_figheight() * fig.dpi)
    left = box.x0 / fig.get_figwidth()
    fig.text(
        left,
        min(0.0, bottom) - 0.01,
        messages(language)("common.source", source=source),
        ha="left",
        va="top",
        fontsize=7,
        color="#555555",
        gid=SOURCE_GID,
        wrap=True,
    )


def chart(source_key: str) -> Callable:
    """Decorate a plot function: plain-number value axes and a source line.

    ``source_key`` names the catalogue message of the default source (``chart.<key>``).
    """

    def decorate(fn: Callable[..., Figure]) -> Callable[..., Figure]:
        takes_language = "language" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def wrapper(*args, language: str = "en", source: str | None = None, **kwargs) -> Figure:
            if takes_language:
                kwargs["language"] = language
            fig = fn(*args, **kwargs)
            for ax in fig.axes:
                if ax.get_label() == "<colorbar>":
                    continue
                plain_numbers(ax.xaxis, language)
                plain_numbers(ax.yaxis, language)
            text = source or messages(language)(f"chart.{source_key}")
            add_source(fig, text, language)
            return fig

        wrapper.chart_source = source_key  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    with mitra_style():
        fig, ax = plt.subplots(figsize=figsize or _STYLE["figure.figsize"])
    return fig, ax


@chart("source_ledger")
def plot_fy_totals(
    ledger: Ledger, start_year: int = 2015, end_year: int = 2024, ax: Axes | None = None
) -> Figure:
    """Stacked bars of full-year PMA and PMDN (Rp trillion) with the published total.

    Derived figures are hatched; missing years are left empty (never filled).
    """
    fig, ax = _axes(ax)
    years = np.arange(start_year, end_year + 1)
    data = {}
    for m in ("pma", "pmdn", "total"):
        a = ledger.annual(m).set_index("year").reindex(years)
        data[m] = a
    bottom = np.zeros(len(years))
    with mitra_style():
        for m in ("pma", "pmdn"):
            vals = data[m]["value_idr_bn"].to_numpy(dtype=float) / 1000
            derived = (data[m]["origin"] == "derived").to_numpy()
            ax.bar(
                years,
                np.nan_to_num(vals),
                bottom=bottom,
                color=COLORS[m],
                label=m.upper(),
                hatch=None,
                edgecolor="white",
            )
            for x, v, b, d in zip(years, vals, bottom, derived, strict=True):
                if d and not np.isnan(v):
                    ax.bar(x, v, bottom=b, color="none", hatch="//", edgecolor="white")
            bottom = bottom + np.nan_to_num(vals)
        tot = data["total"]["value_idr_bn"].to_numpy(dtype=float) / 1000
        ax.plot(years, tot, "o", color=COLORS["total"], label="total (published)")
        ax.set_title("Realised investment, full year (PMA + PMDN)")
        ax.set_ylabel("Rp trillion")
        ax.set_xticks(years)
        ax.legend(loc="upper left")
    return fig


@chart("source_ledger")
def plot_partner_panel(
    panel: pd.DataFrame,
    partners: Sequence[str] | None = None,
    ax: Axes | None = None,
    language: str = "en",
) -> Figure:
    """PMA by partner over years: listed values as lines, censored partners as bounds.

    A censored partner (absent from a top-N list) is drawn as a downward triangle at its
    upper bound: the value lies somewhere below it, not at zero.
    """
    fig, ax = _axes(ax)
    partners = list(partners) if partners is not None else sorted(panel["partner_iso3"].unique())
    cmap = plt.get_cmap("tab10")
    with mitra_style():
        for i, p in enumerate(partners):
            sub = panel[panel["partner_iso3"] == p].sort_values("year")
            color = cmap(i % 10)
            # NaN where not listed, so the line breaks instead of implying values in between.
            listed = sub["value"].where(sub["status"] == "observed") / 1000
            ax.plot(
                sub["year"], listed, "-o", color=color, label=label("partner", p, language), ms=4
            )
            cen = sub[sub["status"] == "censored"]
            ax.plot(
                cen["year"],
                cen["upper_bound"] / 1000,
                "v",
                color=color,
                ms=6,
                markerfacecolor="none",
            )
        ax.set_title("PMA by country of origin (open triangle = not in top list: below)")
        ax.set_ylabel("US$ billion")
        ax.legend(ncol=4, fontsize=8, loc="upper left")
        years = sorted(panel["year"].unique())
        if years:
            ax.set_xticks(years)
    return fig


@chart("source_ledger")
def plot_coverage(table: pd.DataFrame, title: str, ax: Axes | None = None) -> Figure:
    """Heat map of a coverage table (cells list periods): darker = more periods published."""
    counts = table.map(lambda s: len([p for p in str(s).split() if not p.endswith("*")]))
    fig, ax = _axes(ax, figsize=(max(4.0, 0.9 * counts.shape[1] + 2), 0.3 * len(counts) + 1.5))
    with mitra_style():
        im = ax.imshow(counts.to_numpy(dtype=float), aspect="auto", cmap="Blues", vmin=0)
        ax.set_xticks(
            range(counts.shape[1]), [str(c) for c in counts.columns], rotation=45, ha="right"
        )
        ax.set_yticks(range(counts.shape[0]), [str(i) for i in counts.index])
        ax.grid(False)
        ax.set_title(title)
        bar = fig.colorbar(im, ax=ax, label="published periods")
        bar.locator = MaxNLocator(integer=True)  # counts of periods: whole numbers
        bar.update_ticks()
    return fig


@chart("source_ledger")
def plot_fan(forecast, ax: Axes | None = None) -> Figure:
    """Fan chart of a :class:`~analysis.models.flows.FlowForecast`: observed points, median, bands.

    Derived and interpolated observations are drawn as open markers; gaps stay gaps.
    """
    fig, ax = _axes(ax)
    s = forecast.series
    fc = forecast.forecast
    with mitra_style():
        v = s.values
        published = v.where(s.origin == "published")
        other = v.where(s.origin.isin(["derived", "interpolated"]))
        ax.plot(v.index, v, "-", color=COLORS["total"], lw=1)
        ax.plot(published.index, published, "o", color=COLORS["total"], ms=4, label="published")
        if other.notna().any():
            ax.plot(
                other.index,
                other,
                "o",
                color=COLORS["total"],
                ms=5,
                markerfacecolor="white",
                label="derived / interpolated",
            )
        if len(fc):
            last = v.dropna()
            anchor_x = [last.index.max()] if len(last) else []
            anchor_y = [last.iloc[-1]] if len(last) else []
            for level, alpha in (("95", 0.15), ("80", 0.3)):
                lo, hi = fc.get(f"lo_{level}"), fc.get(f"hi_{level}")
                if lo is not None and lo.notna().any():
                    ax.fill_between(
                        fc["year"],
                        lo,
                        hi,
                        color=COLORS["pma"],
                        alpha=alpha,
                        lw=0,
                        label=f"{level} % interval",
                    )
            ax.plot(
                anchor_x + list(fc["year"]),
                anchor_y + list(fc["median"]),
                "--",
                color=COLORS["pma"],
                label=f"median ({forecast.chosen})",
            )
        top = fc["hi_95"].max() if len(fc) and "hi_95" in fc else np.nan
        if not np.isnan(top) and v.max() > 0 and top > 5 * v.max():
            ax.set_yscale("log")  # a wide interval on a short series: keep the data readable
        ax.set_title(f"{s.sector} {s.measure.upper()}: history and forecast")
        ax.set_ylabel(s.unit)
        ax.legend(loc="upper left")
        ax.xaxis.get_major_locator().set_params(integer=True)
    return fig


@chart("source_flows")
def plot_flow_fan(
    study, measure: str = "total", basis: str = "nominal", ax: Axes | None = None
) -> Figure:
    """Fan chart of one national series of a :class:`~analysis.studies.flows.FlowStudy`.

    Published history as dots, the nowcast as a diamond with its 80 % interval, the
    reconciled median and calibrated 80 %/95 % bands up to the longest backtested horizon.
    Beyond it no band is drawn: the median continues dotted and the study's scenario paths
    (targets, recent trend, slowdown) are drawn as labelled lines.
    """
    fig, ax = _axes(ax)
    v = study.views
    v = v[(v["series"] == measure) & (v["basis"] == basis)].sort_values("year")
    if v.empty:
        raise ValueError(f"no {basis} view of {measure!r} in this study")
    unit = str(v["unit"].iloc[0])
    if unit.startswith("Rp billion"):
        # Readers think in Rp trillion; the tables keep Rp billion (the ledger's unit).
        cols = ["median", "lo_80", "hi_80", "lo_95", "hi_95"]
        v = v.assign(**{c: v[c] / 1000 for c in cols})
        unit = "Rp trillion" + unit[len("Rp billion") :]
    hist = v[v["source"] == "published"]
    fut = v[v["source"] != "published"]
    with mitra_style():
        ax.plot(
            hist["year"],
            hist["median"],
            "o-",
            color=COLORS["total"],
            ms=4,
            lw=1,
            label="published",
        )
        checked = fut[fut["backtested"].astype(bool)]
        beyond = fut[~fut["backtested"].astype(bool)]
        # Bands of the checked part end where the unchecked part starts, so they join.
        for level, alpha in (("95", 0.15), ("80", 0.3)):
            ax.fill_between(
                checked["year"],
                checked[f"lo_{level}"],
                checked[f"hi_{level}"],
                color=COLORS["pma"],
                alpha=alpha,
                lw=0,
                label=f"{level} % interval (calibrated)",
            )
        anchor = hist.tail(1)
        line = pd.concat([anchor, checked])
        ax.plot(
            line["year"], line["median"], "--", color=COLORS["pma"], label="median (reconciled)"
        )
        if len(beyond):
            # No band beyond the backtested horizon: the median continues as a thin dotted
            # line, and the scenario paths (labelled scenarios) show what growth would give.
            tail = pd.concat([checked.tail(1) if len(checked) else anchor, beyond])
            ax.plot(
                tail["year"], tail["median"], ":", color=COLORS["pma"], lw=1,
                label="model median, not backtested (no interval)",
            )  # fmt: skip
        paths = getattr(study, "scenario_paths", None)
        if basis == "nominal" and paths is not None and len(paths) and not unit.startswith("US$"):
            scale = 1000 if unit.startswith("Rp trillion") else 1
            styles = {"targets": (0, (5, 2)), "trend": (0, (1, 1)), "slowdown": (0, (3, 1, 1, 1))}
            for name, g in paths[paths["series"] == measure].groupby("path", sort=False):
                g = pd.concat(
                    [pd.DataFrame({"year": anchor["year"], "value": anchor["median"] * scale}), g]
                )
                ax.plot(
                    g["year"], g["value"] / scale, color=COLORS["bound"], lw=0.9,
                    linestyle=styles.get(name, "-"),
                    label=str(g["label"].dropna().iloc[0]) if g["label"].notna().any() else name,
                )  # fmt: skip
        now = fut[fut["source"] == "nowcast"]
        if len(now):
            ax.errorbar(
                now["year"],
                now["median"],
                yerr=[now["median"] - now["lo_80"], now["hi_80"] - now["median"]],
                fmt="D",
                color=COLORS["bound"],
                ms=6,
                capsize=3,
                label="nowcast from the partial year (80 %)",
            )
        names = {"total": "Total", "pma": "Foreign (PMA)", "pmdn": "Domestic (PMDN)"}
        ax.set_title(f"{names.get(measure, measure)}: nowcast and forecast")
        ax.set_ylabel(unit)
        ax.legend(loc="upper left", fontsize=7)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return fig


@chart("source_ledger")
def plot_scenario(result, ax: Axes | None = None) -> Figure:
    """Baseline fan chart with the scenario's median path on top."""
    fig = plot_fan.__wrapped__(result.baseline, ax=ax)  # source line added once, at the end
    ax = fig.axes[0] if ax is None else ax
    with mitra_style():
        p = result.path
        if len(p):
            ax.plot(
                p["year"],
                p["median"],
                "-",
                color=COLORS["bound"],
                lw=2,
                label=f"scenario: {result.scenario.name}",
            )
            if "median_low" in p:
                ax.fill_between(
                    p["year"],
                    p["median_low"],
                    p["median_high"],
                    color=COLORS["bound"],
                    alpha=0.2,
                    lw=0,
                    label="scenario range (censored shares)",
                )
        ax.legend(loc="upper left")
    return fig


@chart("source_ledger")
def plot_partner_shares(shares, ax: Axes | None = None, language: str = "en") -> Figure:
    """Stacked shares of full-year PMA: listed partners, then the hatched unlisted bucket."""
    fig, ax = _axes(ax)
    t = shares.table
    years = sorted(t["year"].unique())
    bottom = np.zeros(len(years))
    cmap = plt.get_cmap("tab10")
    with mitra_style():
        partners = [p for p in t["partner_iso3"].unique() if p != "unlisted"]
        for i, p in enumerate(partners):
            sub = t[t["partner_iso3"] == p].set_index("year").reindex(years)
            vals = sub["share"].where(sub["status"].isin(["observed", "bucket"]))
            vals = vals.fillna(0).to_numpy()
            color = "lightgrey" if p == "other listed" else cmap(i % 10)
            ax.bar(years, vals, bottom=bottom, color=color, label=label("partner", p, language))
            bottom += vals
        unl = t[t["partner_iso3"] == "unlisted"].set_index("year").reindex(years)["share"]
        ax.bar(
            years,
            unl.fillna(0).to_numpy(),
            bottom=bottom,
            color="white",
            edgecolor="grey",
            hatch="//",
            label="unlisted partners (together)",
        )
        for y, u in zip(years, unl, strict=True):
            if pd.isna(u):
                ax.text(y, 0.02, "no shares:\nno FX rate", ha="center", fontsize=7, color="grey")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of full-year PMA")
        ax.set_title("Where PMA comes from (censored partners sit in the unlisted bucket)")
        ax.legend(ncol=5, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08))
        ax.set_xticks(years)
    return fig


@chart("source_ledger")
def plot_quarterly(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """National quarterly realisation; derived quarters as open markers, gaps left open."""
    fig, ax = _axes(ax, figsize=(10.0, 3.6))
    x = np.arange(len(table))
    with mitra_style():
        for m in ("pma", "pmdn", "total"):
            if m not in table:
                continue
            vals = table[m].to_numpy(dtype=float) / 1000
            derived = (table.get(f"{m}_origin") == "derived").to_numpy()
            ax.plot(x, vals, "-", color=COLORS[m], lw=1, label=m.upper())
            ax.plot(x[~derived], vals[~derived], "o", color=COLORS[m], ms=3)
            ax.plot(x[derived], vals[derived], "o", color=COLORS[m], ms=4, markerfacecolor="white")
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], table.index[::step], rotation=45, ha="right")
        ax.set_ylabel("Rp trillion")
        ax.set_title("Quarterly realisation (open markers: derived from cumulative figures)")
        ax.legend(loc="upper left")
    return fig


@chart("source_gravity")
def plot_potential(
    potential: pd.DataFrame, top: int = 15, ax: Axes | None = None, language: str = "en"
) -> Figure:
    """Potential (with interval) against actual PMA by partner for one year and sector.

    ``potential`` is rows of the gravity study's potential table (``predicted``, ``lo``,
    ``hi``, ``actual``, ``actual_upper``, ``partner_ofdi_total``, ``capped``), sorted as it
    should read (largest first). Censored actuals show as "below this" bounds; the partner's
    total net FDI outflow (the cap) as a bar mark, and capped potentials are hollow.
    """
    p = potential.head(top).iloc[::-1]
    fig, ax = _axes(ax, figsize=(8.0, 0.35 * len(p) + 1.8))
    y = np.arange(len(p))
    with mitra_style():
        capped = p["capped"].astype(bool).to_numpy()
        ax.errorbar(
            p["predicted"] / 1000,
            y,
            xerr=[(p["predicted"] - p["lo"]) / 1000, (p["hi"] - p["predicted"]) / 1000],
            fmt="none",
            ecolor=COLORS["pma"],
            alpha=0.8,
            capsize=2,
        )
        ax.plot(
            p["predicted"][~capped] / 1000,
            y[~capped],
            "o",
            color=COLORS["pma"],
            label="model potential (95 % interval)",
        )
        ax.plot(
            p["predicted"][capped] / 1000,
            y[capped],
            "o",
            color=COLORS["pma"],
            markerfacecolor="none",
            label="potential capped at total outward FDI",
        )
        measured = (
            p["actual_status"].eq("measured")
            if "actual_status" in p
            else pd.Series(False, index=p.index)
        )
        ax.plot(
            p["actual"].where(~measured) / 1000, y, "s", color=COLORS["total"],
            label="actual (listed)",
        )  # fmt: skip
        if measured.any():
            ax.plot(
                p["actual"].where(measured) / 1000, y, "D", color=COLORS["total"],
                markerfacecolor="none", label="actual measured by a mirror statistic",
            )  # fmt: skip
        ax.plot(
            p["actual_upper"] / 1000,
            y,
            "<",
            color=COLORS["bound"],
            markerfacecolor="none",
            label="actual below this (not in the top list)",
        )
        ofdi = p["partner_ofdi_total"].where(p["partner_ofdi_total"] > 0) / 1000
        ax.plot(ofdi, y, "|", color="0.4", markersize=10, label="partner's total net FDI outflow")
        ax.set_yticks(y, [label("partner", c, language) for c in p["partner_iso3"]])
        ax.set_xscale("log")
        ax.set_xlabel("PMA, US$ billion (current, log scale)")
        year = int(p["year"].iloc[0]) if len(p) else ""
        sector = str(p["sector"].iloc[0]) if len(p) and "sector" in p else "total"
        ax.set_title(f"Model potential against actual PMA, {year} ({sector})")
        ax.legend(loc="lower right", fontsize=7)
    return fig


@chart("source_ranking")
def plot_rank_bands(
    result, top: int | None = None, ax: Axes | None = None, language: str = "en"
) -> Figure:
    """Nominal rank (dot), median Monte Carlo rank (bar mark) and the 5-95 % band per partner.

    Hubs (``result.data.hubs``, when the result has them) are marked with a dagger.
    """
    t = result.table[result.table["status"] == "ranked"].sort_values("rank")
    if top is not None:
        t = t.head(top)
    t = t.iloc[::-1]
    hubs = getattr(getattr(result, "data", None), "hubs", {}) or {}
    names = [
        f"{label('partner', p, language)}{' †' if p in hubs else ''}" for p in t["partner_iso3"]
    ]
    fig, ax = _axes(ax, figsize=(7.0, 0.28 * len(t) + 1.8))
    y = np.arange(len(t))
    with mitra_style():
        ax.hlines(
            y,
            t["rank_p05"],
            t["rank_p95"],
            color=COLORS["pma"],
            lw=4,
            alpha=0.4,
            label="5-95 % of Monte Carlo ranks",
        )
        ax.plot(t["median_rank"], y, "|", color=COLORS["pma"], ms=12, mew=2, label="median rank")
        ax.plot(t["rank"].astype(float), y, "o", color=COLORS["total"], ms=4, label="nominal rank")
        ax.set_yticks(y, names)
        ax.invert_xaxis()
        ax.set_xlabel("rank among candidate partners (1 = best)")
        ax.set_title("How robust is each partner's place?")
        ax.legend(loc="upper left", fontsize=7)
        draws = len(getattr(result, "mc_ranks", ()))
        fig.text(
            0.01,
            0.005,
            f"† hub (routes third-country capital). Bands: {draws:,} Monte Carlo draws over "
            "every method choice.",
            fontsize=6,
            color="#555555",
        )
    return fig


@chart("source_ranking")
def plot_drivers(result, top: int = 15, ax: Axes | None = None, language: str = "en") -> Figure:
    """Heat map of each indicator's contribution to a partner's score against the average."""

    ranked = result.table[result.table["status"] == "ranked"].sort_values("rank").head(top)
    d = result.drivers.loc[ranked["partner_iso3"]]
    meta = getattr(getattr(result, "data", None), "meta", None)
    # Catalogue labels where the catalogue has the indicator, else the indicator's own label.
    cols_by_code = {
        c: str(meta.at[c, "label"])
        for c in d.columns
        if meta is not None
        and c in meta.index
        and not messages(language).has(f"label.indicator.{c}")
    }
    fig, ax = _axes(ax, figsize=(0.6 * d.shape[1] + 4, 0.3 * len(d) + 3))
    lim = np.nanmax(np.abs(d.to_numpy())) or 1.0
    with mitra_style():
        im = ax.imshow(d.to_numpy(dtype=float), cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xticks(
            range(d.shape[1]),
            [
                label("indicator", c, language) if c not in cols_by_code else cols_by_code[c]
                for c in d.columns
            ],
            rotation=45,
            ha="right",
            fontsize=7,
        )
        ax.set_yticks(range(len(d)), [label("partner", c, language) for c in d.index])
        ax.grid(False)
        ax.set_title("Drivers: what lifts (blue) or sinks (red) each partner")
        fig.colorbar(im, ax=ax, label="weighted distance from the average partner (score points)")
    return fig


@chart("source_ranking")
def plot_pillar_profile(
    scores: pd.DataFrame,
    partner: str,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    language: str = "en",
) -> Figure:
    """Grouped bars of pillar scores (0-1): the brief's partner against the top five.

    ``scores`` is partners x pillars (rows in rank order); the partner is drawn in the accent
    colour, the others in greys, so the eye finds it at once.
    """
    m = messages(language)
    pillars = list(scores.columns)
    partners = list(scores.index)
    fig, ax = _axes(ax, figsize=(8.0, 0.42 * len(pillars) + 1.3))
    y = np.arange(len(pillars))
    height = 0.8 / max(len(partners), 1)
    greys = plt.get_cmap("Greys")
    with mitra_style():
        for i, p in enumerate(partners):
            color = COLORS["pma"] if p == partner else greys(0.3 + 0.5 * i / max(len(partners), 1))
            ax.barh(
                y - 0.4 + (i + 0.5) * height,
                scores.loc[p].to_numpy(dtype=float),
                height=height,
                color=color,
                label=label("partner", p, language),
            )
        ax.set_yticks(y, [label("pillar", c, language) for c in pillars])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel(m("chart.score_axis"))
        ax.set_title(
            title or m("brief.chart_profile", partner=label("partner", partner, language))
        )
        ax.legend(ncol=3, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return fig
