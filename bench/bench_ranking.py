"""Benchmark: the partner ranking's Monte Carlo and Sobol design, at the issue's scale.

10,000 Monte Carlo draws over 40 partners and 12 indicators (SYNTHETIC, seeded), and the
Sobol design, timed separately; baseline: the same draws computed one at a time in a Python
loop (what a straightforward implementation does), in the same run, so the speed-up is a
ratio, not a claim.

    .venv/bin/python bench/bench_ranking.py [--draws 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.ranking import (  # noqa: E402
    RankingSettings,
    _sobol,
    aggregate,
    normalise,
    rank_partners,
    ranks_from_scores,
)


def synthetic(seed: int, partners: int = 40, indicators: int = 12):
    rng = np.random.default_rng(seed)  # SYNTHETIC
    X = rng.lognormal(mean=1.0, sigma=1.0, size=(partners, indicators))
    X[rng.random(X.shape) < 0.1] = np.nan  # 10 % missing, as in real partner data
    values = pd.DataFrame(X, index=[f"P{i:02d}" for i in range(partners)],
                          columns=[f"i{j:02d}" for j in range(indicators)])
    meta = pd.DataFrame({"pillar": [f"pillar{j % 6}" for j in range(indicators)],
                         "label": values.columns, "direction": 1, "unit": "u",
                         "source": "SYNTHETIC", "year": "2024"}, index=values.columns)
    return values, meta


def loop_baseline(X: np.ndarray, w: np.ndarray, draws: int, seed: int) -> float:
    """The same Monte Carlo, one draw at a time."""
    rng = np.random.default_rng(seed)
    d = np.ones(X.shape[1])
    t0 = time.perf_counter()
    for _ in range(draws):
        wd = rng.dirichlet(w * 20 * len(w))
        nm = ("minmax", "zscore", "rank")[rng.integers(3)]
        ag = ("arithmetic", "geometric", "topsis")[rng.integers(3)]
        Xd = X * np.exp(0.1 * rng.standard_normal(X.shape))
        ranks_from_scores(aggregate(normalise(Xd, nm, d), wd, ag, nm))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    values, meta = synthetic(args.seed)
    X = values.to_numpy()
    w = np.full(X.shape[1], 1 / X.shape[1])
    settings = RankingSettings(draws=args.draws, sobol_base=128, seed=args.seed)
    mc, sob, loop = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rank_partners(values, meta, settings)
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        _sobol(X, w, np.ones(X.shape[1]), meta, settings, np.random.default_rng(args.seed))
        sob.append(time.perf_counter() - t1)
        mc.append(total - sob[-1])
        loop.append(loop_baseline(X, w, args.draws, args.seed))
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, numpy {np.__version__}")
    print(f"SYNTHETIC: 40 partners x 12 indicators, {args.draws} draws, {args.repeat} repeats")
    print("vectorised Monte Carlo (rank_partners minus Sobol): median "
          f"{statistics.median(mc):.2f} s")
    print(f"Sobol design (128 base samples x 11 = 1,408 evaluations + analysis): median "
          f"{statistics.median(sob):.2f} s")
    print(f"baseline, one draw at a time: median {statistics.median(loop):.2f} s")
    print(f"ratio loop / vectorised: {statistics.median(loop) / statistics.median(mc):.1f}x")


if __name__ == "__main__":
    main()
