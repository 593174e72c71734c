"""What the closed-form studies say about Chang et al.'s claims, from ``compression.parquet``:
the risk curves per estimator, the paired contrasts that decide each claim, and the sentences.

The claims (Chang, Li, Oymak & Thrampoulidis, AAAI 2021) and the contrasts that test them,
per regime (one (dataset, model, noise) family), paired by seed, **one contrast per width**:

- (a) pruning a large model beats the small model on the known features: ``pruned`` (and
  ``refit``) - ``small``;
- (b) the pruned model has a double descent of its own: its risk at each p > n minus its
  risk at the p < n chosen on validation (the dense model's the same, for comparison);
- (c) refitting after pruning helps with correlated features: ``refit`` - ``pruned``;
- the tuned baseline: ``pruned`` - ``small-ridge`` (does pruning beat a small model that is
  regularised as well as validation can tune it?);
- (d) all of it for random features too: the same contrasts on ``rff`` families.

Why per width: a claim can hold in one band of p/n and reverse in the next (refitting helps
below some width and hurts above it; the pruned curve can dip below its best p < n and climb
back above it), and one average over the widths, or one width, reports a single verdict that
hides the reversal. The sentences say, per estimator, in which bands of p/n each sign is
decided and where it reverses.

Every contrast has a paired t interval and a sign-flip p; Holm's correction runs over each
claim's contrasts in a regime (every width of every estimator the claim compares), and a
sentence claims a direction only when the corrected p is below ``alpha`` and the interval
excludes zero.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ddprune.analysis.answer.inference import decided, holm, paired

FAMILY = ["study", "dataset", "model", "noise", "noise_kind"]
BASELINES = ("small", "small-ridge", "null")


def estimator(variant: str, score: str | None) -> str:
    """One name per curve: 'dense', 'small', 'pruned (hessian)', 'refit (oracle)' ..."""
    return variant if score is None or pd.isna(score) else f"{variant} ({score})"


def _with_estimator(compression: pd.DataFrame) -> pd.DataFrame:
    rows = compression.copy()
    rows["estimator"] = [
        estimator(v, s) for v, s in zip(rows["variant"], rows["score"], strict=True)
    ]
    return rows


def curve_table(compression: pd.DataFrame) -> pd.DataFrame:
    """Seed-mean test risk (error) per family, estimator and width, with its standard error
    over seeds and p / n: the curves of ``prune_vs_small``."""
    rows = _with_estimator(compression)
    keys = [*FAMILY, "estimator", "variant", "score", "width", "n_train", "keep"]
    grouped = rows.groupby(keys, dropna=False)["test_error"]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    table["standard_error"] = table["std"] / np.sqrt(table["count"])
    table["p_over_n"] = table["width"] / table["n_train"]
    return table.rename(columns={"mean": "test_error", "count": "n_seeds"}).drop(columns="std")


def _contrast(differences: pd.Series, level: float, **fields: Any) -> dict[str, Any]:
    stats = paired(differences.dropna().to_numpy(), level)
    sd = stats.pop("sd")  # the claims table reports the standard error instead
    return {
        **fields,
        **stats,
        "standard_error": sd / math.sqrt(stats["seeds"]) if stats["seeds"] else math.nan,
    }


def family_claims(rows: pd.DataFrame, level: float) -> list[dict[str, Any]]:
    """Every contrast of one regime (its compression rows), before correction."""
    n_train = int(rows["n_train"].iloc[0])
    risk = rows.pivot_table(
        index="seed", columns=["estimator", "width"], values="test_error", aggfunc="first"
    )
    val = rows.pivot_table(
        index="seed", columns=["estimator", "width"], values="val_error", aggfunc="first"
    )
    estimators = set(rows["estimator"])
    pruned_like = sorted(e for e in estimators if e.startswith(("pruned", "refit")))
    pruned = [e for e in pruned_like if e.startswith("pruned")]
    pairs = [(name, "small", "a") for name in pruned_like]
    pairs += [(f"refit{name[len('pruned') :]}", name, "c") for name in pruned]
    pairs += [(name, "small-ridge", "ridge") for name in pruned if "small-ridge" in estimators]
    out = []
    for name, against, claim in pairs:
        for width in sorted(risk[name].columns.intersection(risk[against].columns)):
            out.append(
                _contrast(
                    risk[(name, width)] - risk[(against, width)],
                    level,
                    claim=claim,
                    estimator=name,
                    against=against,
                    width=width,
                )
            )
    if max(rows["width"]) > n_train:
        for name in ["dense", *pruned]:
            out += _claim_b(risk[name], val[name], name, n_train, level)
    return out


def _claim_b(
    risk: pd.DataFrame, val: pd.DataFrame, name: str, n_train: int, level: float
) -> list[dict[str, Any]]:
    """Claim (b) for one estimator (its risk and validation error, seed x width): each model
    past p = n against its best underparameterised one, chosen on validation (never on
    test)."""
    below = [w for w in risk.columns if w < n_train]
    if not below:
        return []
    chosen = int(val[below].mean().idxmin())
    return [
        _contrast(
            risk[width] - risk[chosen],
            level,
            claim="b",
            estimator=name,
            against=f"{name} at p = {chosen}",
            width=width,
        )
        for width in risk.columns
        if width > n_train
    ]


def claim_table(compression: pd.DataFrame, alpha: float, level: float) -> pd.DataFrame:
    """Every regime's contrasts with Holm's correction over each claim's contrasts in the
    regime (its family)."""
    frames = []
    for key, rows in _with_estimator(compression).groupby(FAMILY, dropna=False):
        claims = pd.DataFrame(family_claims(rows, level))
        if claims.empty:
            continue
        by_claim = claims.groupby("claim")["p"]
        claims["p_adjusted"] = by_claim.transform(lambda p: pd.Series(holm(list(p)), p.index))
        claims["family_size"] = by_claim.transform(lambda p: int(p.notna().sum()))
        claims["decided"] = decided(claims["p_adjusted"], claims["low"], claims["high"], alpha)
        claims["n_train"] = int(rows["n_train"].iloc[0])
        claims["keep"] = int(rows["keep"].iloc[0])
        frames.append(claims.assign(**dict(zip(FAMILY, key, strict=True))))
    columns = [*FAMILY, "n_train", "keep", "claim", "estimator", "against", "width"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    table["width"] = table["width"].astype("int64")
    return table[[*columns, *[c for c in table.columns if c not in columns]]]


METHOD = (
    "Closed-form regimes: the test risk is the exact population risk sigma^2 + (theta - "
    "beta)^T Sigma (theta - beta) where Sigma and beta are known (linear on gaussian-linear), "
    "else the test set's. Contrasts are paired by seed (mean ± standard error); a direction is "
    "claimed only when the sign-flip p (exact up to 20 seeds, seeded Monte Carlo beyond), "
    "Holm-corrected over the claim's contrasts in the regime (one per width and estimator), "
    "is below answer.alpha and the paired t interval excludes zero; a claim is stated per band "
    "of p/n, with the bands where its sign reverses. The ridge penalty of small-ridge and the "
    "p < n that claim (b) compares against are chosen on validation."
)


def page_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The contrasts as the answer page prints them."""
    shown = claims[
        [
            "dataset",
            "model",
            "claim",
            "estimator",
            "against",
            "width",
            "mean",
            "standard_error",
            "low",
            "high",
            "p_adjusted",
            "family_size",
            "decided",
        ]
    ].copy()
    return shown


def _value(x: float) -> str:
    return f"{x:.3g}"


def _signed(row: pd.Series) -> str:
    return f"{row['mean']:+.3g} ± {row['standard_error']:.2g}"


def _ratio(width: int, n_train: int) -> str:
    return f"p/n = {width / n_train:g}"


def _peaks(curves: pd.DataFrame, n_train: int) -> str:
    """Where each curve that depends on p peaks (argmax of the seed mean over widths),
    grouped by the width."""
    at: dict[int, list[str]] = {}
    for name, curve in curves.groupby("estimator", sort=False):
        if name not in BASELINES:
            at.setdefault(int(curve.loc[curve["test_error"].idxmax(), "width"]), []).append(name)
    return "; ".join(
        f"at p = {width} ({_ratio(width, n_train)}) for {', '.join(names)}"
        for width, names in sorted(at.items())
    )


def _span(widths: list[int], n_train: int) -> str:
    """A run of widths as a p/n band: 'p/n 2' or 'p/n 2 to 10'."""
    low, high = widths[0] / n_train, widths[-1] / n_train
    return f"p/n {low:g}" if low == high else f"p/n {low:g} to {high:g}"


def _bands(rows: pd.DataFrame, n_train: int, lower: str, higher: str) -> str:
    """Where one estimator's contrast is decided lower, decided higher or not decided, as
    runs of consecutive widths (bands of p/n), with the largest decided difference of each
    sign -- and whether the sign reverses along p."""
    rows = rows.sort_values("width")
    status = [
        (lower if m < 0 else higher) if d else "not decided"
        for m, d in zip(rows["mean"], rows["decided"], strict=True)
    ]
    runs: list[tuple[str, list[int]]] = []
    for word, width in zip(status, rows["width"], strict=True):
        if runs and runs[-1][0] == word:
            runs[-1][1].append(int(width))
        else:
            runs.append((word, [int(width)]))
    parts = []
    for word in dict.fromkeys(w for w, _ in runs):
        bands = ", ".join(_span(widths, n_train) for w, widths in runs if w == word)
        part = f"{word} at {bands}"
        if word != "not decided":
            side = rows[[s == word for s in status]]
            most = side.loc[side["mean"].abs().idxmax()]
            part += f" (largest {_signed(most)} at p = {int(most['width'])})"
        parts.append(part)
    reverses = lower in status and higher in status
    return "; ".join(parts) + (" -- the sign reverses along p" if reverses else "")


QUESTIONS = (  # claim, question, what lower and higher mean, against what
    ("a", "(a) Does pruning the large model beat the small model?", "beats it", "worse"),
    ("b", "(b) Does the curve come back down past p = n?", "lower", "higher"),
    ("c", "(c) Does refitting after pruning help?", "helps", "hurts"),
    (
        "ridge",
        "Does pruning beat the small model with a validated ridge penalty?",
        "pruning is better",
        "the tuned small model is better",
    ),
)


def _claim(rows: pd.DataFrame, claim: str, n_train: int, lower: str, higher: str) -> str:
    """One claim's verdicts in a regime, estimator by estimator, in bands of p/n."""
    parts = []
    for name, mine in rows.groupby("estimator", sort=False):
        if (mine["mean"].abs() < 1e-12).all() and (mine["standard_error"] < 1e-12).all():
            parts.append(f"{name} is the {mine['against'].iloc[0]} model at every width")
            continue
        against = mine["against"].iloc[0]
        label = {
            "a": name,
            "b": f"{name} against its best p < n (p = {against.rsplit(' ', 1)[-1]})",
            "c": f"{name} - {against}",
            "ridge": f"{name} - small-ridge",
        }[claim]
        parts.append(f"{label}: {_bands(mine, n_train, lower, higher)}")
    return "; ".join(parts)


def regime_sentences(curves: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """Paragraphs on one regime: what it is and where its curves peak, then one per claim."""
    first = curves.iloc[0]
    n_train, keep = int(first["n_train"]), int(first["keep"])
    constant = curves[curves["estimator"].isin(BASELINES)].groupby("estimator")["test_error"]
    baselines = ", ".join(f"{name} {_value(v)}" for name, v in constant.first().items())
    noise = f", {first['noise']:.0%} label noise" if first["noise"] else ""
    pruned = curves["variant"].isin(["pruned", "refit"]).any()
    out = [
        f"{first['dataset']} / {first['model']} (n = {n_train}"
        f"{f', keep {keep}' if pruned else ''}{noise}, {int(curves['n_seeds'].max())} seeds; "
        f"risk of the baselines: {baselines}). The risk peaks {_peaks(curves, n_train)}."
    ]
    if claims.empty:
        return out
    sizes = claims.groupby("claim", sort=False)["family_size"].first()
    out[0] += (
        " Each claim's contrasts, one per width and estimator, are Holm-corrected together ("
        + ", ".join(f"{claim}: {size}" for claim, size in sizes.items())
        + ")."
    )
    for claim, question, lower, higher in QUESTIONS:
        rows = claims[claims["claim"] == claim]
        if len(rows):
            out.append(f"{question} {_claim(rows, claim, n_train, lower, higher)}.")
    return out


def sentences(compression: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """The paragraphs of every regime, in the table's order."""
    curves = curve_table(compression)
    paragraphs = []
    for key, family in curves.groupby(FAMILY, sort=False, dropna=False):
        where = (claims[FAMILY] == pd.Series(dict(zip(FAMILY, key, strict=True)))).all(axis=1)
        paragraphs += regime_sentences(family, claims[where])
    return paragraphs
