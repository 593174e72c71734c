"""What the closed-form studies say about Chang et al.'s claims, from ``compression.parquet``:
the risk curves per estimator, the paired contrasts that decide each claim, and the sentences.

The claims (Chang, Li, Oymak & Thrampoulidis, AAAI 2021) and the contrasts that test them,
per regime (one (dataset, model, noise) family), paired by seed:

- (a) pruning a large model beats the small model on the known features: ``pruned`` (and
  ``refit``) - ``small`` at every width above ``keep``;
- (b) the pruned model has a double descent of its own: its risk at the widest p minus its
  risk at the p < n chosen on validation (the dense model's the same, for comparison);
- (c) refitting after pruning helps with correlated features: ``refit`` - ``pruned``, per seed
  averaged over the well overparameterised widths (p >= 2n, past the peak's blow-up);
- the tuned baseline: ``pruned`` - ``small-ridge`` over the same widths (does pruning beat a
  small model that is regularised as well as validation can tune it?);
- (d) all of it for random features too: the same contrasts on ``rff`` families.

Every contrast has a paired t interval and a sign-flip p; Holm's correction runs over all
contrasts of a regime, and a sentence claims a direction only when the corrected p is below
``alpha`` and the interval excludes zero.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ddprune.analysis.answer.inference import decided, holm, paired

FAMILY = ["study", "dataset", "model", "noise", "noise_kind"]
BASELINES = ("small", "small-ridge", "null")
OVERPARAMETERISED = 2.0  # p / n from which the "well past the threshold" averages run


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
    widths = sorted(rows["width"].unique())
    wide = [w for w in widths if w >= OVERPARAMETERISED * n_train]
    pruned_like = sorted(e for e in rows["estimator"].unique() if e.startswith(("pruned", "refit")))
    out = []
    for name in pruned_like:
        for width in sorted(risk[name].columns):
            out.append(
                _contrast(
                    risk[(name, width)] - risk[("small", width)],
                    level,
                    claim="a",
                    estimator=name,
                    against="small",
                    width=width,
                )
            )
    for name in [e for e in pruned_like if e.startswith("pruned")]:
        score = name[len("pruned (") : -1]
        columns = [w for w in wide if w in risk[name].columns]
        if columns:
            refit = risk[f"refit ({score})"][columns].mean(axis=1)
            out.append(
                _contrast(
                    refit - risk[name][columns].mean(axis=1),
                    level,
                    claim="c",
                    estimator=f"refit ({score})",
                    against=name,
                    width=0,
                )
            )
            out.append(
                _contrast(
                    risk[name][columns].mean(axis=1) - risk["small-ridge"][columns].mean(axis=1),
                    level,
                    claim="ridge",
                    estimator=name,
                    against="small-ridge",
                    width=0,
                )
            )
    if max(widths) > n_train:
        for name in ["dense", *[e for e in pruned_like if e.startswith("pruned")]]:
            out += _claim_b(risk[name], val[name], name, n_train, level)
    return out


def _claim_b(
    risk: pd.DataFrame, val: pd.DataFrame, name: str, n_train: int, level: float
) -> list[dict[str, Any]]:
    """Claim (b) for one estimator (its risk and validation error, seed x width): its widest
    model against its best underparameterised one, chosen on validation (never on test)."""
    below = [w for w in risk.columns if w < n_train]
    if not below:
        return []
    chosen = int(val[below].mean().idxmin())
    widest = max(risk.columns)
    return [
        _contrast(
            risk[widest] - risk[chosen],
            level,
            claim="b",
            estimator=name,
            against=f"{name} at p = {chosen}",
            width=widest,
        )
    ]


def claim_table(compression: pd.DataFrame, alpha: float, level: float) -> pd.DataFrame:
    """Every regime's contrasts with Holm's correction over the regime (its family)."""
    frames = []
    for key, rows in _with_estimator(compression).groupby(FAMILY, dropna=False):
        claims = pd.DataFrame(family_claims(rows, level))
        if claims.empty:
            continue
        claims["p_adjusted"] = holm(list(claims["p"]))
        claims["family_size"] = int(claims["p"].notna().sum())
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
    "Holm-corrected over the regime's contrasts, is below answer.alpha and the paired t "
    "interval excludes zero. The ridge penalty of small-ridge and the p < n that claim (b) "
    f"compares against are chosen on validation; the averages run over p >= {OVERPARAMETERISED:g}n."
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
    shown["width"] = shown["width"].map(lambda w: f"p >= {OVERPARAMETERISED:g}n" if w == 0 else w)
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


def _where(rows: pd.DataFrame, n_train: int) -> str:
    """The decided widths of claim-(a) rows, as p/n values."""
    return ", ".join(f"{w / n_train:g}" for w in rows["width"])


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
    out[0] += f" Its {int(claims['family_size'].iloc[0])} contrasts are Holm-corrected together."
    a = [
        _claim_a(name, rows, n_train)
        for name, rows in claims[claims["claim"] == "a"].groupby("estimator", sort=False)
    ]
    if a:
        out.append("(a) Does pruning the large model beat the small model? " + "; ".join(a) + ".")
    b = claims[claims["claim"] == "b"]
    if len(b):
        out.append(
            f"(b) Does the curve come back down past p = n? At the widest p = "
            f"{int(b['width'].iloc[0])} against its best p < n on validation: "
            + "; ".join(
                f"{row['estimator']} {_signed(row)} (vs p = {row['against'].rsplit(' ', 1)[-1]}), "
                f"{_verdict(row, 'lower', 'higher')}"
                for _, row in b.iterrows()
            )
            + "."
        )
    for claim, question, lower, higher in (
        ("c", "(c) Does refitting after pruning help?", "helps", "hurts"),
        (
            "ridge",
            "Does pruning beat the small model with a validated ridge penalty?",
            "pruning is better",
            "the tuned small model is better",
        ),
    ):
        rows = claims[claims["claim"] == claim]
        if len(rows):
            out.append(
                f"{question} Over p >= {OVERPARAMETERISED:g}n: "
                + "; ".join(
                    f"{row['estimator']} - {row['against']} {_signed(row)}, "
                    f"{_verdict(row, lower, higher)}"
                    for _, row in rows.iterrows()
                )
                + "."
            )
    return out


def _claim_a(name: str, rows: pd.DataFrame, n_train: int) -> str:
    """Where one pruned estimator beats the small model (decided widths only)."""
    wins = rows[rows["decided"] & (rows["mean"] < 0)]
    losses = rows[rows["decided"] & (rows["mean"] > 0)]
    if (rows["mean"].abs() < 1e-12).all() and (rows["standard_error"] < 1e-12).all():
        return f"{name} is the small model at every width (the same regression)"
    if len(wins):
        best = wins.loc[wins["mean"].idxmin()]
        return (
            f"{name} beats it at p/n = {_where(wins, n_train)} (most at p = "
            f"{int(best['width'])}: {_signed(best)})"
        )
    return f"{name} at no width (worse at {len(losses)} of {len(rows)}, the rest not decided)"


def _verdict(row: pd.Series, lower: str, higher: str) -> str:
    if not row["decided"]:
        return f"not decided (Holm p {row['p_adjusted']:.2g})"
    return f"{lower if row['mean'] < 0 else higher} (Holm p {row['p_adjusted']:.2g})"


def sentences(compression: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """The paragraphs of every regime, in the table's order."""
    curves = curve_table(compression)
    paragraphs = []
    for key, family in curves.groupby(FAMILY, sort=False, dropna=False):
        where = (claims[FAMILY] == pd.Series(dict(zip(FAMILY, key, strict=True)))).all(axis=1)
        paragraphs += regime_sentences(family, claims[where])
    return paragraphs
