"""Inference for paired comparisons over seeds: the t interval, the exact sign-flip test, and
Holm's correction across a family of comparisons.

Why these: a study's comparisons are paired by seed (the two sides share the label-noise
draw, the initialisation and the data order), and a study affords few seeds. The paired t
interval is exact for normal differences and widens honestly as seeds get fewer; the sign-flip
(randomisation) test needs no normality at all -- under the null that the two sides are
exchangeable within a seed, every sign pattern of the differences is equally likely, so
enumerating the 2^n patterns gives the exact p. Its arithmetic limits what a study can claim:
the smallest two-sided p is 2 / 2^n (0.25 at 3 seeds, 0.031 at 6, 0.002 at 10).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    import pandas as pd

LEVEL = 0.95
EXACT_UP_TO = 20  # seeds; beyond this the sign flips are sampled (MONTE_CARLO draws)
MONTE_CARLO = 200_000


def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The t interval of the mean of ``values`` (NaN with fewer than two)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * np.std(values, ddof=1) / math.sqrt(n)
    mean = float(np.mean(values))
    return mean - half, mean + half


def sign_flip_p(differences: np.ndarray) -> float:
    """Two-sided p of the paired sign-flip test of mean zero: the fraction of sign patterns
    whose |mean| is at least the observed one (the observed pattern included, so p >= 2/2^n).

    Exact (all 2^n patterns) up to :data:`EXACT_UP_TO` values, else from :data:`MONTE_CARLO`
    random patterns (seeded, so the same p every run). NaN without values.

    Sums are compared as the exact numbers they stand for: differences of error rates are
    multiples of 1/n_test, so two sums that differ by less than a billionth of the total
    |difference| are equal (float rounding otherwise makes differences that sum to zero give
    p < 1). Ties: a seed whose difference is zero is kept; flipping it changes nothing, so
    the test is the test of the other seeds (its p at least 2 / 2^(non-zero seeds)).
    """
    d = np.asarray(differences, dtype=float)
    n = len(d)
    if n == 0:
        return math.nan
    observed = abs(d.sum()) - 1e-9 * np.abs(d).sum()
    if n <= EXACT_UP_TO:
        hits, total = 0, 0
        head = min(n, 12)  # enumerate in blocks of 2^12 patterns: memory stays small
        block = np.array(list(itertools.product((1.0, -1.0), repeat=head)))
        for tail in itertools.product((1.0, -1.0), repeat=n - head):
            sums = block @ d[:head] + np.dot(tail, d[head:])
            hits += int((np.abs(sums) >= observed).sum())
            total += len(block)
        return hits / total
    rng = np.random.default_rng(0)
    signs = rng.choice((1.0, -1.0), size=(MONTE_CARLO, n))
    return float((1 + (np.abs(signs @ d) >= observed).sum()) / (MONTE_CARLO + 1))


def smallest_p(seeds: int) -> float:
    """The smallest two-sided sign-flip p that ``seeds`` paired values can give."""
    return min(1.0, 2.0 / 2.0**seeds) if seeds else math.nan


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (NaN entries are left out of the family and stay
    NaN): controls the chance of any false claim in the family at the level it is read at."""
    finite = [(p, i) for i, p in enumerate(p_values) if not math.isnan(p)]
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(finite)):
        running = max(running, min(1.0, (len(finite) - rank) * p))
        adjusted[i] = running
    return adjusted


def paired(differences: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """What every tested comparison reports of its per-seed differences: seeds, mean, sd,
    the t interval (low, high) and the sign-flip p."""
    d = np.asarray(differences, dtype=float)
    low, high = t_interval(d, level)
    return {
        "seeds": len(d),
        "mean": float(d.mean()) if len(d) else math.nan,
        "sd": float(d.std(ddof=1)) if len(d) > 1 else math.nan,
        "low": low,
        "high": high,
        "p": sign_flip_p(d),
    }


def decided(p_adjusted: pd.Series, low: pd.Series, high: pd.Series, alpha: float) -> pd.Series:
    """A direction may be claimed: the corrected p is below ``alpha`` and the interval
    excludes zero (elementwise for Series)."""
    return (p_adjusted < alpha) & ((low > 0) | (high < 0))
