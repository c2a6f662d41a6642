"""Predictive validity of the partner ranking: a backtest against realised PMA.

For every origin year ``t`` the data allow, the ranking is built only from data up to ``t``
(:func:`analysis.models.indicators.build_indicators` with ``end_year = t``) and scored against the
BKPM country lists published for ``t + 1 .. t + horizon`` (every period: quarterly, H1, 9M,
FY). Two naive baselines are scored the same way: the **last list's PMA ranking** (partners
ordered by their value in the latest list up to ``t``; unlisted partners tie below) and a
**GDP-only ranking** (the partners' GDP in the latest year up to ``t``).

Censoring, as in the gravity model: a partner missing from a top-N list is *below the list's
last value*, not zero. So

- ``spearman_listed``: Spearman's correlation between the score and the listed values, among
  the listed partners of each list (averaged over lists; ``n`` = lists with >= 3 ranked
  listed partners);
- ``concordance``: Harrell's C over every pair whose order the lists reveal (listed above
  listed by value; listed above every unlisted partner); unlisted-unlisted pairs are unknown
  and skipped. 0.5 is a coin toss, 1 a perfect ordering; ``n`` = comparable pairs;
- ``top10_hit``: the share of the method's top 10 that appears in at least one list of the
  window (ties at the cut-off count by their expected share under random tie-breaking);
- ``top10_recall``: the share of the window's listed partners that the top 10 holds;
- ``newcomer_auc``: among partners absent from every list up to ``t``, the AUC of the score
  for appearing in a list of the window (``n`` = such appearances; few).

Honest hold-out: the lists of ``t + 1 .. t + horizon`` (the yardstick) never enter the
indicators of origin ``t``, which use data for years ``<= t`` only. Limits: the partner
panel holds the latest *vintage* of each series (revised WDI, not the release available in
``t``), and the yardstick is PMA from all sectors: it validates the ranking's ability to
find investors in Indonesia, not its sector pillar specifically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models.ranking import IndicatorSet, RankingSettings, rank_partners

__all__ = [
    "BASELINES",
    "HORIZON",
    "METRICS",
    "Yardstick",
    "backtest",
    "concordance",
    "expected_top_hits",
    "newcomer_auc",
    "summarise_backtest",
    "yardstick",
]

HORIZON = 3
TOP = 10
BASELINES = ("last_pma", "gdp_only")
METRICS = ("spearman_listed", "concordance", "top10_hit", "top10_recall", "newcomer_auc")
VALIDATION_COLUMNS = ["sector", "variant", "origin", "window", "method", "metric", "value", "n"]


@dataclass(frozen=True)
class Yardstick:
    """The lists of one window: listed values and the unlisted (censored) partners per list."""

    lists: tuple[tuple[str, pd.Series, frozenset[str]], ...]  # (label, listed values, unlisted)
    listed: frozenset[str]  # partners listed at least once in the window

    def __len__(self) -> int:
        return len(self.lists)


def yardstick(panel_rows: pd.DataFrame, years: Sequence[int]) -> Yardstick:
    """The realised lists of ``years`` from :meth:`Ledger.partner_panel` rows.

    Rows with status ``unknown`` (no list covers the period for that partner) are ignored;
    ``censored`` rows are the partners below the list.
    """
    rows = panel_rows[panel_rows["year"].isin(list(years))]
    out = []
    for (y, per), sub in rows.groupby(["year", "period"], sort=True):
        obs = sub[sub["status"] == "observed"]
        if obs.empty:
            continue
        values = obs.set_index("partner_iso3")["value"].astype(float)
        below = frozenset(sub.loc[sub["status"] == "censored", "partner_iso3"])
        out.append((f"{y} {per}", values, below))
    listed = frozenset().union(*(set(v.index) for _, v, _ in out)) if out else frozenset()
    return Yardstick(tuple(out), listed)


def concordance(score: pd.Series, ys: Yardstick) -> tuple[float, int]:
    """Harrell's C of ``score`` over the pairs the lists order (censoring-aware)."""
    s = score.dropna()
    num, pairs = 0.0, 0
    for _, values, below in ys.lists:
        listed = [p for p in values.index if p in s.index]
        if not listed:
            continue
        # Every pair at once (the backtest scores hundreds of lists): each pair adds 1, 0.5
        # or 0, so the sum is exact in any order.
        v = values[listed].to_numpy(float)
        sc = s[listed].to_numpy(float)
        i, j = np.triu_indices(len(listed), k=1)
        ordered = v[i] != v[j]  # tied list values order nothing
        i_higher = v[i] > v[j]
        s_hi = np.where(i_higher, sc[i], sc[j])[ordered]
        s_lo = np.where(i_higher, sc[j], sc[i])[ordered]
        num += float(np.sum(s_hi > s_lo) + 0.5 * np.sum(s_hi == s_lo))
        pairs += int(ordered.sum())
        under = [b for b in below if b in s.index]  # below every listed partner
        if under:
            sb = s[under].to_numpy(float)
            num += float(np.sum(sc[:, None] > sb) + 0.5 * np.sum(sc[:, None] == sb))
            pairs += len(listed) * len(under)
    return (num / pairs if pairs else np.nan), pairs


def spearman_listed(score: pd.Series, ys: Yardstick) -> tuple[float, int]:
    """Mean Spearman correlation between score and listed values, over the window's lists."""
    s = score.dropna()
    rhos = []
    for _, values, _ in ys.lists:
        common = [p for p in values.index if p in s.index]
        if len(common) >= 3 and s[common].nunique() > 1 and values[common].nunique() > 1:
            rhos.append(stats.spearmanr(s[common], values[common]).statistic)
    return (float(np.mean(rhos)) if rhos else np.nan), len(rhos)


def expected_top_hits(score: pd.Series, hits: set[str] | frozenset[str], k: int = TOP) -> float:
    """Expected number of ``hits`` in the top ``k`` of ``score``, ties broken at random."""
    s = score.dropna().sort_values(ascending=False)
    taken, expected = 0, 0.0
    for _, group in s.groupby(s, sort=False):
        members = list(group.index)
        n_hit = sum(p in hits for p in members)
        if taken + len(members) <= k:
            expected += n_hit
            taken += len(members)
        else:
            expected += n_hit * (k - taken) / len(members)
            break
        if taken >= k:
            break
    return expected


def newcomer_auc(
    score: pd.Series, newcomers: Sequence[str], events: set[str]
) -> tuple[float, int]:
    """AUC of ``score`` for which newcomers appear in a later list (ties count half)."""
    s = score.reindex(list(newcomers)).dropna()
    pos = [p for p in s.index if p in events]
    neg = [p for p in s.index if p not in events]
    if not pos or not neg:
        return np.nan, len(pos)
    auc = np.mean([1.0 if s[a] > s[b] else 0.5 if s[a] == s[b] else 0.0 for a in pos for b in neg])
    return float(auc), len(pos)


def _metrics(score: pd.Series, ys: Yardstick, newcomers: Sequence[str]) -> dict[str, tuple]:
    n_ranked = int(score.notna().sum())
    k = min(TOP, n_ranked)
    listed_ranked = {p for p in ys.listed if p in score.dropna().index}
    hits = expected_top_hits(score, ys.listed, k)
    return {
        "spearman_listed": spearman_listed(score, ys),
        "concordance": concordance(score, ys),
        "top10_hit": (hits / k if k else np.nan, k),
        "top10_recall": (
            (hits / len(listed_ranked)) if listed_ranked else np.nan,
            len(listed_ranked),
        ),
        "newcomer_auc": newcomer_auc(score, newcomers, set(ys.listed)),
    }


def _last_pma(rows: pd.DataFrame, partners: Sequence[str]) -> pd.Series:
    """Scores from the latest list: its listed values; unlisted partners tie below (-1)."""
    obs = rows[rows["status"] == "observed"]
    out = pd.Series(-1.0, index=list(partners))
    if obs.empty:
        return out
    latest = obs.sort_values(["year", "period"]).iloc[-1][["year", "period"]]
    sub = obs[(obs["year"] == latest["year"]) & (obs["period"] == latest["period"])]
    vals = sub.set_index("partner_iso3")["value"].astype(float)
    out.update(vals.reindex(out.index).dropna())
    return out


def _nominal_scores(data: IndicatorSet, settings: RankingSettings) -> pd.Series:
    """Nominal index scores, weights kept only where they apply; not ranked: a tie at -inf.

    A partner the index does not rank (a pillar below the coverage rule) is not recommended,
    so it ties below every ranked partner: every method scores the same partners.

    Indicators below the coverage rule are dropped first (as :func:`rank_partners` does), so
    an early origin without, say, any PMA list simply has no presence pillar.
    """
    available = data.values.notna()
    if data.upper is not None:
        available |= data.upper.notna()
    sparse = [
        c for c in data.values.columns if available[c].mean() < settings.min_indicator_coverage
    ]
    data = data.drop(sparse) if sparse else data
    pillars, codes = set(data.meta["pillar"]), set(data.values.columns)
    s = replace(
        settings,
        pillar_weights={k: v for k, v in settings.pillar_weights.items() if k in pillars},
        indicator_weights={k: v for k, v in settings.indicator_weights.items() if k in codes},
    )
    r = rank_partners(data, s, uncertainty=False, sensitivity=False, audit=False)
    t = r.table.set_index("partner_iso3")
    return t["score"].where(t["status"] == "ranked", -np.inf).astype(float)


def backtest(
    sets: Mapping[int, IndicatorSet],
    panel_rows: pd.DataFrame,
    settings: RankingSettings | Mapping[str, RankingSettings],
    *,
    gdp: Callable[[int], pd.Series] | None = None,
    horizon: int = HORIZON,
    sector: str = "",
) -> pd.DataFrame:
    """Score the ranking of every origin against the lists of the following years.

    Parameters
    ----------
    sets
        Origin year -> the indicator set built from data up to that year.
    panel_rows
        :meth:`Ledger.partner_panel` rows (every period) of the candidates.
    settings
        The index's settings, or variant name -> settings (each scored).
    gdp
        Origin year -> partners' GDP for the GDP-only baseline (default: the set's ``gdp``).
    horizon
        Years after the origin whose lists are the yardstick.
    sector
        Written in the ``sector`` column.

    Returns
    -------
    pandas.DataFrame
        One row per (variant, origin, method, metric): ``value`` and ``n`` (lists, pairs,
        top-k size, listed partners or newcomer events; see the module notes).
    """
    variants = {"default": settings} if isinstance(settings, RankingSettings) else dict(settings)
    rows = []
    for t, data in sorted(sets.items()):
        window = list(range(t + 1, t + horizon + 1))
        ys = yardstick(panel_rows, window)
        if not len(ys):
            continue
        past = panel_rows[panel_rows["year"] <= t]
        partners = list(data.values.index)
        seen = set(past.loc[past["status"] == "observed", "partner_iso3"])
        newcomers = [p for p in partners if p not in seen]
        g = gdp(t) if gdp is not None else data.values.get("gdp", pd.Series(dtype=float))
        methods: dict[str, pd.Series] = {
            "last_pma": _last_pma(past, partners),
            "gdp_only": pd.Series(g, dtype=float).reindex(partners),
        }
        for name, st in variants.items():
            methods[f"index:{name}"] = _nominal_scores(data, st)
        label = f"{window[0]}-{window[-1]}"
        for method, score in methods.items():
            for metric, (value, n) in _metrics(score, ys, newcomers).items():
                rows.append(
                    {
                        "sector": sector,
                        "variant": method.split(":", 1)[1] if ":" in method else "",
                        "origin": t,
                        "window": label,
                        "method": method.split(":", 1)[0],
                        "metric": metric,
                        "value": value,
                        "n": n,
                    }
                )
    return pd.DataFrame(rows, columns=VALIDATION_COLUMNS)


def summarise_backtest(table: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over origins per method (and variant), with origins and total n."""
    if table.empty:
        return pd.DataFrame(columns=["method", "variant", "metric", "mean", "origins", "n"])
    t = table.dropna(subset=["value"]).assign(variant=table["variant"].fillna(""))
    out = (
        t.groupby(["method", "variant", "metric"], sort=False)
        .agg(mean=("value", "mean"), origins=("origin", "nunique"), n=("n", "sum"))
        .reset_index()
    )
    return out
