"""Inference for paired comparisons over seeds: the exact sign-flip test, the interval that
inverts it, its two one-sided tests of equivalence, the fixed-sequence procedure that tests
a study's questions in order, and (for the closed-form claims) the t interval and Holm.

Why these: a study's comparisons are paired by seed (the two sides share the label-noise
draw, the initialisation and the data order), and a study affords few seeds. The sign-flip
(randomisation) test needs no normality -- under the null that a seed's two sides are
exchangeable, every sign pattern of the differences is equally likely, so enumerating the
2^n patterns gives the exact p. Its arithmetic limits what a study can claim: the smallest
two-sided p is 2 / 2^n (0.25 at 3 seeds, 0.031 at 6, 0.002 at 10).

One object, :class:`SignFlip`, answers every question asked of the differences, so the test,
its interval and its equivalence test cannot disagree in kind. Flipping the signs of a
subset A of the differences (shifted by a candidate centre c) lowers their sum by
2 * sum_A(d - c), so a pattern's sum reaches the observed one exactly when mean_A(d) <= c
(Hartigan 1969): the one-sided p at c counts the subset means on one side of c. The
two-sided p is twice the smaller one-sided p, so the set of centres it does not reject is an
interval between two order statistics of the subset means -- the interval printed beside
every tested comparison -- and two one-sided tests at +-margin (TOST) are read off the same
counts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    import pandas as pd

LEVEL = 0.95
EXACT_UP_TO = 20  # seeds; beyond this the sign patterns are sampled (MONTE_CARLO draws)
MONTE_CARLO = 200_000
# Outcomes of a test in a fixed sequence (:func:`fixed_sequence`).
DECIDED, NOT_DECIDED, NOT_REACHED = "decided", "not decided", "not reached"


class SignFlip:
    """The sign-flip distribution of ``n`` paired differences, held as the sorted means of
    their non-empty subsets: all 2^n - 1 of them up to :data:`EXACT_UP_TO` values, else
    those of :data:`MONTE_CARLO` random sign patterns (seeded, so every run reads the same).

    Ties and rounding: a seed whose difference is zero is kept. Flipping it changes nothing,
    so every pattern that flips it ties with the one that does not; ties count as at least
    as extreme as the observed sum, which keeps the test conservative (a tied seed can only
    raise p: one tie among 6 seeds gives at least 2/2^5). Differences of error rates are
    multiples of 1/n_test, so two means closer than a billionth of the largest |difference|
    are the same number, and float rounding cannot break a tie (differences that sum to zero
    give p 1).
    """

    def __init__(self, differences: np.ndarray) -> None:
        d = np.asarray(differences, dtype=float)
        self.n = len(d)
        self.mean = float(d.mean()) if self.n else math.nan
        self.tolerance = 1e-9 * float(np.abs(d).max()) if self.n else 0.0
        if self.n <= EXACT_UP_TO:
            sums, sizes = np.zeros(1), np.zeros(1)
            for value in d:  # every subset: those without this value, then those with it
                sums, sizes = (
                    np.concatenate([sums, sums + value]),
                    np.concatenate([sizes, sizes + 1]),
                )
            self.means = np.sort(sums[1:] / sizes[1:])
            self.patterns = 2**self.n
            self.always = 1  # the empty subset: the observed pattern itself
        else:
            flipped = np.random.default_rng(0).random((MONTE_CARLO, self.n)) < 0.5
            sizes = flipped.sum(axis=1)
            chosen = sizes > 0
            self.means = np.sort((flipped @ d)[chosen] / sizes[chosen])
            self.patterns = MONTE_CARLO + 1  # the observed pattern counts once more
            self.always = 1 + int((~chosen).sum())

    def p_greater(self, centre: float = 0.0) -> float:
        """One-sided p of "the differences are centred at or below ``centre``"."""
        at_or_below = np.searchsorted(self.means, centre + self.tolerance, side="right")
        return (self.always + int(at_or_below)) / self.patterns

    def p_less(self, centre: float = 0.0) -> float:
        """One-sided p of "the differences are centred at or above ``centre``"."""
        below = np.searchsorted(self.means, centre - self.tolerance, side="left")
        return (self.always + len(self.means) - int(below)) / self.patterns

    def p(self, centre: float = 0.0) -> float:
        """Two-sided p of "the differences are centred at ``centre``": twice the smaller
        one-sided p (NaN without differences)."""
        if not self.n:
            return math.nan
        return min(1.0, 2 * min(self.p_greater(centre), self.p_less(centre)))

    def _rank(self, tail: float) -> int:
        """How many subset means a one-sided p below ``tail`` leaves on that side, at most
        (-1: no p reaches below ``tail``)."""
        return math.ceil(tail * self.patterns - self.always - 1e-9) - 1

    def interval(self, level: float) -> tuple[float, float]:
        """The centres the two-sided test does not reject at 1 - ``level``: every c with
        p(c) >= 1 - level, a closed interval (infinite where the seeds are too few to reject
        any centre; NaN without differences)."""
        if not self.n:
            return math.nan, math.nan
        k = self._rank((1 - level) / 2)
        if k < 0:
            return -math.inf, math.inf
        return float(self.means[k]), float(self.means[len(self.means) - 1 - k])

    def equivalence_p(self, margin: float) -> float:
        """p of the two one-sided tests (TOST) of "the centre lies at -margin or below, or
        at +margin or above": below alpha, the differences are equivalent within the margin."""
        if not self.n:
            return math.nan
        return max(self.p_greater(-margin), self.p_less(margin))

    def equivalence_bound(self, alpha: float) -> float:
        """The smallest margin the seeds show equivalence within at ``alpha``: TOST decides
        for every margin larger than this (inf where no margin can be decided)."""
        k = self._rank(alpha)
        if not self.n or k < 0:
            return math.inf
        return max(0.0, -float(self.means[k]), float(self.means[len(self.means) - 1 - k]))

    def detectable(self, alpha: float) -> float:
        """The minimum detectable effect: the smallest shift of these differences' centre,
        in either direction, that the two-sided test would decide at ``alpha`` with their
        scatter unchanged (inf where the seeds are too few to decide any)."""
        low, high = self.interval(1 - alpha)
        return max(self.mean - low, high - self.mean)


def smallest_p(seeds: int) -> float:
    """The smallest two-sided sign-flip p that ``seeds`` paired values can give."""
    return min(1.0, 2.0 / 2.0**seeds) if seeds else math.nan


def fixed_sequence(p_values: list[float], alpha: float) -> list[str]:
    """The fixed-sequence procedure: each hypothesis in its stated order is tested at
    ``alpha`` only if every earlier one was rejected; the first that is not stops the
    sequence, and those after it are not reached. Why it controls the family-wise error at
    ``alpha``: to make any false claim it must first reject the earliest true null in the
    order, which happens with probability at most ``alpha`` (a NaN p stops the sequence)."""
    outcomes = []
    for p in p_values:
        if outcomes and outcomes[-1] != DECIDED:
            outcomes.append(NOT_REACHED)
        else:
            outcomes.append(DECIDED if p < alpha else NOT_DECIDED)
    return outcomes


def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The t interval of the mean of ``values`` (NaN with fewer than two)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * np.std(values, ddof=1) / math.sqrt(n)
    mean = float(np.mean(values))
    return mean - half, mean + half


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


def paired(
    differences: np.ndarray, level: float = LEVEL, flips: SignFlip | None = None
) -> dict[str, float]:
    """What every tested comparison reports of its per-seed differences: seeds, mean, sd,
    the t interval (low, high) and the sign-flip p (from ``flips``, the differences'
    :class:`SignFlip`, where the caller holds it already)."""
    d = np.asarray(differences, dtype=float)
    low, high = t_interval(d, level)
    return {
        "seeds": len(d),
        "mean": float(d.mean()) if len(d) else math.nan,
        "sd": float(d.std(ddof=1)) if len(d) > 1 else math.nan,
        "low": low,
        "high": high,
        "p": (flips or SignFlip(d)).p(),
    }


def decided(p_adjusted: pd.Series, low: pd.Series, high: pd.Series, alpha: float) -> pd.Series:
    """A direction may be claimed: the corrected p is below ``alpha`` and the interval
    excludes zero (elementwise for Series)."""
    return (p_adjusted < alpha) & ((low > 0) | (high < 0))
