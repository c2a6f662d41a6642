"""Benchmark: PPML with three fixed effects, Mitra's fit_gravity against pyfixest and statsmodels.

All engines fit the same SEEDED SYNTHETIC gravity panels (no real data) of N rows with three
sets of fixed effects (``fe_ex`` exporter-year style, ``fe_im`` importer-year style,
``fe_pair`` pair style; integer codes, skewed group sizes so some groups are small), two
continuous regressors and a Poisson outcome ``y ~ Poisson(exp(0.5 x1 - 0.3 x2 + fe effects))``
with many zeros. Every group has >= 2 rows and a positive outcome by construction, so no engine
has a reason to drop rows (the rows each engine used are reported anyway).

Engines, in the same invocation, alternating (order rotated each repeat), ``--repeat`` times:

- **Mitra**: ``analysis.models.gravity.fit_gravity(df, "y", ["x1", "x2"], [fe_ex, fe_im,
fe_pair])``
  (pyfixest underneath, plus Mitra's drop checks, table, fingerprint and pseudo R2).
- **pyfixest direct** (the baseline): ``pyfixest.fepois`` with the arguments Mitra passes
  (``vcov="hetero"``, ``iwls_tol=1e-10``, ``iwls_maxiter=100``, ``fixef_rm="none"``,
  ``separation_check=["ir"]``).
- **statsmodels**: Poisson GLM with the fixed effects as dummy columns (``pd.get_dummies``;
  building them is timed), only where rows x columns <= 60e6; otherwise skipped with the
  memory the design matrix would need.

Prints the machine, median wall time per engine and size, the ratio engine / pyfixest direct
(the target: Mitra within 2x of pyfixest on 1M rows), rows used, Markdown lines for the
README, and the agreement of the x1, x2 coefficients. Exits 1 if the engines disagree (Mitra
vs pyfixest rtol 1e-6; Mitra vs statsmodels rtol 1e-4, looser because the convergence
criteria differ: pyfixest stops on relative deviance change < 1e-10, statsmodels on absolute
deviance change < 1e-8).

    .venv/bin/python bench/bench_gravity.py [--sizes 100000 1000000] [--repeat N]
        [--seed 20261127] [--skip-statsmodels]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pyfixest as pf  # noqa: E402
import statsmodels.api as sm  # noqa: E402

from analysis.models.gravity import fit_gravity  # noqa: E402

FE = ("fe_ex", "fe_im", "fe_pair")
X = ("x1", "x2")
TRUE = {"x1": 0.5, "x2": -0.3}
FML = "y ~ x1 + x2 | fe_ex + fe_im + fe_pair"
# Mitra's settings (analysis.models.gravity.fit_gravity defaults), passed to pyfixest directly.
PF_KW = {
    "vcov": "hetero",
    "iwls_tol": 1e-10,
    "iwls_maxiter": 100,
    "fixef_rm": "none",
    "separation_check": ["ir"],
}
DUMMY_CELLS_MAX = 60e6
# statsmodels' peak memory over the float64 dummy design: measured ~15x with tracemalloc at
# 100k x 350 (statsmodels 0.15: GLM keeps exog copies, IRLS a weighted copy per iteration,
# results the pinv). Replaced by this run's measurement when statsmodels runs first.
SM_PEAK_FACTOR = 15.0
RTOL_PYFIXEST = 1e-6
RTOL_STATSMODELS = 1e-4
MITRA = "Mitra fit_gravity"
PYFIXEST = "pyfixest fepois (direct)"
STATSMODELS = "statsmodels GLM + dummies"


# -- synthetic data --------------------------------------------------------------------------


def fe_levels(n: int) -> dict[str, int]:
    """Levels per fixed effect: 150/150/50 at 100k rows, proportional to n (so the average
    group size is the same at every size)."""
    s = n / 100_000
    return {
        "fe_ex": max(5, round(150 * s)),
        "fe_im": max(5, round(150 * s)),
        "fe_pair": max(3, round(50 * s)),
    }


def make_panel(n: int, seed: int) -> tuple[pd.DataFrame, int]:
    """A synthetic panel of n rows; returns it and how many outcomes were forced to 1.

    Group sizes are skewed (probabilities ~ lognormal), but every level gets >= 2 rows, so
    there are no singletons. A group whose Poisson draws are all zero gets y = 1 on its first
    row (raising an outcome cannot make another group all-zero), so no group is separated.
    """
    rng = np.random.default_rng([seed, n])
    codes, effects = {}, {}
    for name, levels in fe_levels(n).items():
        p = rng.lognormal(0.0, 1.5, levels)
        c = np.concatenate(
            [np.repeat(np.arange(levels), 2), rng.choice(levels, n - 2 * levels, p=p / p.sum())]
        )
        rng.shuffle(c)
        codes[name] = c
        effects[name] = rng.normal(0.0, 0.5 if name == "fe_pair" else 1.0, levels)
    x1 = rng.normal(size=n) + 0.5 * effects["fe_ex"][codes["fe_ex"]]
    x2 = rng.normal(size=n) + 0.5 * effects["fe_im"][codes["fe_im"]]
    eta = -0.5 + TRUE["x1"] * x1 + TRUE["x2"] * x2 + sum(effects[f][codes[f]] for f in FE)
    y = rng.poisson(np.exp(eta)).astype(float)
    forced = 0
    for f in FE:
        total = np.bincount(codes[f], weights=y)
        zero = np.flatnonzero(total == 0)
        if zero.size:
            _, first = np.unique(codes[f], return_index=True)
            y[first[zero]] = 1.0
            forced += zero.size
    df = pd.DataFrame({"y": y, "x1": x1, "x2": x2, **codes})
    return df, forced


def dummy_columns(n: int) -> int:
    """Columns of the dummy-variable design: intercept, regressors, levels - 1 per FE."""
    return 1 + len(X) + sum(v - 1 for v in fe_levels(n).values())


# -- engines -----------------------------------------------------------------------------------


def run_mitra(df: pd.DataFrame) -> tuple[pd.Series, int]:
    res = fit_gravity(df, "y", list(X), list(FE))
    return res.coef()[list(X)], res.nobs


def run_pyfixest(df: pd.DataFrame) -> tuple[pd.Series, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pf.fepois(FML, data=df, **PF_KW)
    return model.coef()[list(X)], len(np.asarray(model.resid()))  # rows used (public API)


def run_statsmodels(df: pd.DataFrame) -> tuple[pd.Series, int]:
    dummies = pd.get_dummies(df[list(FE)], columns=list(FE), drop_first=True, dtype=float)
    design = pd.concat(
        [pd.Series(1.0, index=df.index, name="const"), df[list(X)], dummies], axis=1
    )
    res = sm.GLM(df["y"], design, family=sm.families.Poisson()).fit(maxiter=100)
    if not res.converged:
        raise RuntimeError("statsmodels GLM did not converge")
    return res.params[list(X)], int(res.nobs)


def timed(fn: Callable, df: pd.DataFrame) -> tuple[float, pd.Series, int]:
    t0 = time.perf_counter()
    coef, nobs = fn(df)
    return time.perf_counter() - t0, coef, nobs


def rss_gb() -> float:
    """Current resident set size (Linux /proc; NaN elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30
    except OSError:
        return float("nan")


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="fits per engine and size")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--skip-statsmodels", action="store_true")
    args = parser.parse_args()

    machine = (
        f"{platform.platform()}, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}, pyfixest {pf.__version__}, statsmodels "
        f"{sm.__version__}, pandas {pd.__version__}, numpy {np.__version__}"
    )
    print(f"machine: {machine}")
    print(
        f"load average (1/5/15 min) at start: {load()} (2 busy cores = 2.0; other work on "
        "the machine inflates times)"
    )
    print(
        f"data: SYNTHETIC gravity panels, seed {args.seed}; true x1 = {TRUE['x1']}, "
        f"x2 = {TRUE['x2']}"
    )

    t0 = time.perf_counter()
    warm, _ = make_panel(5_000, args.seed)
    run_mitra(warm)
    run_pyfixest(warm)
    print(
        f"warm-up: one Mitra and one pyfixest fit on a 5,000-row synthetic panel "
        f"(numba JIT compile in pyfixest), {time.perf_counter() - t0:.1f} s, not timed"
    )
    sys.stdout.flush()

    rows: list[dict] = []
    failures: list[str] = []
    factor, factor_src = SM_PEAK_FACTOR, "measured earlier with tracemalloc at 100k x 350"
    for n in args.sizes:
        df, forced = make_panel(n, args.seed)
        levels = fe_levels(n)
        print(
            f"\n== {n:,} rows (synthetic): levels fe_ex {levels['fe_ex']}, fe_im "
            f"{levels['fe_im']}, fe_pair {levels['fe_pair']}; zero outcomes "
            f"{(df['y'] == 0).mean():.1%}; {forced} all-zero groups given y = 1 on one row; "
            f"smallest group {min(df[f].value_counts().min() for f in FE)} rows; "
            f"{args.repeat} repeat(s)"
        )
        engines: dict[str, Callable] = {MITRA: run_mitra, PYFIXEST: run_pyfixest}
        k = dummy_columns(n)
        gb = n * k * 8 / 2**30
        if args.skip_statsmodels:
            print(f"statsmodels: skipped (--skip-statsmodels); {n:,} x {k} dummy design")
        elif n * k <= DUMMY_CELLS_MAX:
            engines[STATSMODELS] = run_statsmodels
            print(
                f"statsmodels: {n:,} x {k} dummy design = {n * k / 1e6:.0f}e6 cells, "
                f"{gb:.2f} GB float64"
            )
        else:
            print(
                f"statsmodels: skipped: would need {gb:.1f} GB for the {n:,} x {k} float64 "
                f"dummy design alone ({n * k / 1e6:.0f}e6 cells > "
                f"{DUMMY_CELLS_MAX / 1e6:.0f}e6 limit), about {factor * gb:.0f} GB at "
                f"statsmodels' peak ({factor:.0f}x the design, {factor_src}); this machine "
                f"has {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB"
            )
        times: dict[str, list[float]] = {e: [] for e in engines}
        coefs: dict[str, pd.Series] = {}
        nobs: dict[str, int] = {}
        order = list(engines)
        for r in range(args.repeat):
            rot = order[r % len(order) :] + order[: r % len(order)]
            for e in rot:
                rss0, peak0 = rss_gb(), peak_gb()
                t, coefs[e], nobs[e] = timed(engines[e], df)
                times[e].append(t)
                print(f"  repeat {r + 1}: {e:<27} {t:8.2f} s")
                if e == STATSMODELS and r == 0 and peak_gb() > peak0 and rss0 == rss0:
                    # ru_maxrss only moves when a new peak is reached: first fit only.
                    factor = (peak_gb() - rss0) / gb
                    factor_src = f"measured in this run at {n:,} x {k}"
                    print(
                        f"    statsmodels peak memory above start: {peak_gb() - rss0:.2f} GB "
                        f"= {factor:.1f}x the design"
                    )
                sys.stdout.flush()
        print(f"  load average after timing: {load()}")
        base = statistics.median(times[PYFIXEST])
        for e in engines:
            med = statistics.median(times[e])
            rows.append(
                {
                    "rows": n,
                    "engine": e,
                    "median_s": med,
                    "ratio": med / base,
                    "used": nobs[e],
                    "runs": times[e],
                }
            )
        for other, rtol in ((PYFIXEST, RTOL_PYFIXEST), (STATSMODELS, RTOL_STATSMODELS)):
            if other not in coefs:
                continue
            a, b = coefs[MITRA].to_numpy(), coefs[other].to_numpy()
            diff = np.abs(a - b)
            rel = diff / np.abs(b)
            ok = bool(np.allclose(a, b, rtol=rtol, atol=0))
            print(
                f"agreement Mitra vs {other}: x1 {a[0]:.10f} vs {b[0]:.10f}, x2 {a[1]:.10f} "
                f"vs {b[1]:.10f}; max abs diff {diff.max():.2e}, max rel diff "
                f"{rel.max():.2e} (rtol {rtol:g}) {'OK' if ok else 'DISAGREE'}"
            )
            if not ok:
                failures.append(f"{n:,} rows: Mitra vs {other}")
        if nobs[MITRA] != nobs[PYFIXEST]:
            failures.append(
                f"{n:,} rows: Mitra used {nobs[MITRA]} rows, pyfixest {nobs[PYFIXEST]}"
            )
        del df

    print(f"\nResults (synthetic data; median wall seconds; ratio = engine / {PYFIXEST})")
    print(f"machine: {machine}")
    print(f"{'rows':>10}  {'engine':<27} {'median s':>9} {'ratio':>7} {'rows used':>10}  runs")
    for r in rows:
        print(
            f"{r['rows']:>10,}  {r['engine']:<27} {r['median_s']:>9.2f} "
            f"{r['ratio']:>6.2f}x {r['used']:>10,}  "
            f"{', '.join(f'{t:.2f}' for t in r['runs'])}"
        )
    for n in args.sizes:
        m = next(r for r in rows if r["rows"] == n and r["engine"] == MITRA)
        print(
            f"Mitra / pyfixest at {n:,} rows: {m['ratio']:.2f}x (target <= 2x): "
            f"{'met' if m['ratio'] <= 2 else 'NOT met'}"
        )

    print("\nREADME (Markdown):")
    print("| Rows (synthetic) | Engine | Median s | vs pyfixest | Rows used |")
    print("|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['rows']:,} | {r['engine']} | {r['median_s']:.2f} | "
            f"{r['ratio']:.2f}x | {r['used']:,} |"
        )
    print(f"\n_Machine: {machine}._")

    if failures:
        print("\nFAILED: " + "; ".join(failures))
        sys.exit(1)
    print("\ncoefficients agree across engines")


if __name__ == "__main__":
    main()
