"""Benchmark: the partner ranking's Monte Carlo and Sobol design, at the issue's scale.

10,000 Monte Carlo draws over 40 partners and 15 indicators in 5 pillars (SYNTHETIC, seeded:
lognormal values, 10 % gaps, censored cells, two hubs), every choice varying per draw
(normalisation, aggregation, imputation, coverage threshold, hub treatment, Dirichlet
weights at pillar and indicator level, indicator noise, censored values). Contenders, in the
same run, alternating, ``--repeat`` times:

- **vectorised** (production): :func:`analysis.models.ranking._evaluate` on all draws at once, as
  :func:`analysis.models.ranking.rank_partners` runs it (drawing the choices is timed too);
- **baseline, one draw at a time**: the same function called once per draw (the same code,
  so the ratio measures batching alone, not a different algorithm).

The Sobol design (``--sobol-base`` x (9 choices + 2) runs, plus 200 bootstrap resamples) is
timed the same way against its own one-row-at-a-time baseline. The ranks of both contenders
are compared (float32 rounding may swap near-ties; the share that agree is printed).

    .venv/bin/python bench/bench_ranking.py [--draws 10000] [--repeat 3] [--sobol-base 256]
        [--real]   # also the shipped textile indicator set
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

from analysis.models import ranking as R  # noqa: E402


def synthetic(seed: int, partners: int = 40, indicators: int = 15) -> R.IndicatorSet:
    """SYNTHETIC indicator set shaped like the real one."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(mean=1.0, sigma=1.0, size=(partners, indicators))
    X[rng.random(X.shape) < 0.1] = np.nan  # 10 % missing, as in real partner data
    idx = [f"P{i:02d}" for i in range(partners)]
    cols = [f"i{j:02d}" for j in range(indicators)]
    upper = pd.DataFrame(np.nan, index=idx, columns=cols)
    X[partners - 12 :, 0] = np.nan
    upper.iloc[partners - 12 :, 0] = np.nanmin(X[:, 0])  # censored: below the top-N bound
    meta = pd.DataFrame(
        {
            "pillar": [f"pillar{j % 5}" for j in range(indicators)],
            "label": cols,
            "direction": 1,
            "unit": "u",
            "source": "SYNTHETIC",
            "year": "2024",
            "hub_sensitive": [j == 0 for j in range(indicators)],
        },
        index=cols,
    )
    return R.IndicatorSet(
        pd.DataFrame(X, index=idx, columns=cols), meta, upper=upper, hubs={"P00": "a", "P01": "b"}
    )


def _subset(d: R._Draws, i: int) -> R._Draws:
    sl = slice(i, i + 1)
    return R._Draws(
        d.norm[sl],
        d.agg[sl],
        d.imp[sl],
        d.hub[sl],
        d.coverage[sl],
        d.weights[sl],
        None if d.noise is None else d.noise[sl],
        None if d.censored_u is None else d.censored_u[sl],
    )


def monte_carlo(prep, s, n, seed):
    draws = R._random_draws(prep, s, n, np.random.default_rng(seed))
    scores, qual = R._evaluate(prep, draws)
    return draws, R._ranks(scores, qual)


def loop(prep, draws):
    out = [R._ranks(*R._evaluate(prep, _subset(draws, i)))[0] for i in range(len(draws))]
    return np.array(out)


def sobol_vectorised(prep, s, ok):
    return R._sobol(prep, s, ok)


def sobol_design(prep, s):
    from SALib.sample import sobol as sobol_sample

    U = sobol_sample.sample(
        R._sobol_problem(prep), s.sobol_base, calc_second_order=False, seed=s.seed
    )
    return R._sobol_draws(prep, s, U)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sobol-base", type=int, default=256)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--real", action="store_true", help="also time the shipped textile set")
    args = parser.parse_args()
    data = synthetic(args.seed)
    s = R.RankingSettings(draws=args.draws, sobol_base=args.sobol_base, seed=args.seed)
    prep = R._prepare(data, s)
    ok = R._evaluate(prep, R._nominal_draws(prep, s), np.float64)[1][0]
    times: dict[str, list[float]] = {k: [] for k in ("mc", "mc_loop", "sobol", "sobol_loop")}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    agree = []
    for rep in range(args.repeat):
        order = ["mc", "mc_loop", "sobol", "sobol_loop"]
        if rep % 2:
            order.reverse()  # alternate, so neither contender always runs on a warm cache
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            if name == "mc":
                _, ranks = monte_carlo(prep, s, args.draws, args.seed + rep)
            elif name == "mc_loop":
                d = R._random_draws(prep, s, args.draws, np.random.default_rng(args.seed + rep))
                loop_ranks = loop(prep, d)
            elif name == "sobol":
                sobol_vectorised(prep, s, ok)
            else:
                loop(prep, sobol_design(prep, s))
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
        same = (ranks == loop_ranks) | (np.isnan(ranks) & np.isnan(loop_ranks))
        agree.append(float(same.mean()))
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    runs = args.sobol_base * (len(R.SOBOL_CHOICES) + 2)
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, numpy {np.__version__}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"SYNTHETIC: 40 partners x 15 indicators (5 pillars), {args.draws} draws, "
        f"{args.repeat} repeats, medians"
    )
    print(
        f"Monte Carlo, vectorised (production): {med['mc']:.3f} s wall, "
        f"{med_cpu['mc']:.3f} s CPU (CPU time is what a shared machine's load inflates least)"
    )
    print(
        f"Monte Carlo, baseline one draw at a time: {med['mc_loop']:.3f} s wall, "
        f"{med_cpu['mc_loop']:.3f} s CPU"
    )
    print(
        f"  ratio baseline / vectorised: {med['mc_loop'] / med['mc']:.1f}x; ranks agree "
        f"in {100 * min(agree):.2f} % of cells (float32 near-ties)"
    )
    print(f"Sobol ({runs} runs + bootstrap), vectorised: {med['sobol']:.3f} s")
    print(f"Sobol design, baseline one run at a time (no bootstrap): {med['sobol_loop']:.3f} s")
    print(f"  ratio baseline / vectorised: {med['sobol_loop'] / med['sobol']:.1f}x")
    print(
        f"goal: Monte Carlo under 0.2 s -> {'met' if med['mc'] < 0.2 else 'not met'} on this run "
        f"(wall), {'met' if med_cpu['mc'] < 0.2 else 'not met'} in CPU time"
    )
    if args.real:
        real(args)


def real(args: argparse.Namespace) -> None:
    """The same Monte Carlo on the shipped data: the textile indicator set (after the rules)."""
    from analysis.data import build_ledger
    from analysis.data.panel import load_panel
    from analysis.models.indicators import build_indicators

    data = build_indicators(load_panel(), build_ledger(), "textile", 2024)
    s = R.RankingSettings(draws=args.draws, seed=args.seed)
    share = (data.values.notna() | data.upper.notna()).mean()
    data = data.drop([c for c in data.values.columns if share[c] < s.min_indicator_coverage])
    prep = R._prepare(data, s)
    wall, cpu = [], []
    for rep in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        monte_carlo(prep, s, args.draws, args.seed + rep)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    P, K = len(prep.partners), len(prep.codes)
    print(
        f"shipped data (textile, {P} partners x {K} indicators), {args.draws} draws: "
        f"{statistics.median(wall):.3f} s wall, {statistics.median(cpu):.3f} s CPU"
    )


if __name__ == "__main__":
    main()
