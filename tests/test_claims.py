"""Chang et al.'s claims per width: a claim whose sign reverses along p is reported in bands,
never as one verdict (ddprune.closed_form.claims)."""

from __future__ import annotations

import pandas as pd
import pytest

from ddprune.closed_form.claims import claim_table, sentences
from ddprune.foundations.tables import frame, validate_table

N_TRAIN, KEEP, SEEDS = 10, 4, 10
WIDTHS = [4, 6, 8, 12, 20, 40]
# seed-mean test risk per width; small 1.0 and small-ridge 0.9 at every width
RISK = {
    ("dense", None): [1.5, 2.0, 3.0, 2.5, 1.2, 1.1],
    ("pruned", "hessian"): [1.2, 1.1, 1.3, 0.8, 0.7, 1.5],  # beats small at p/n 1.2 and 2
    ("refit", "hessian"): [1.1, 0.95, 1.2, 0.9, 0.8, 1.6],  # helps below n, hurts above
}


def compression() -> pd.DataFrame:
    rows = []
    curves = {**RISK, ("small", None): [1.0] * 6, ("small-ridge", None): [0.9] * 6}
    for (variant, score), risks in curves.items():
        for width, risk in zip(WIDTHS, risks, strict=True):
            for seed in range(SEEDS):
                # every seed a little different, never enough to flip a sign
                error = risk + 0.003 * ((seed * 7 + len(variant) * width) % 5)
                rows.append(
                    {
                        "study": "s",
                        "dataset": "world",
                        "model": "linear",
                        "width": width,
                        "noise": 0.0,
                        "noise_kind": "incorrect-class",
                        "noise_realised": 0.0,
                        "seed": seed,
                        "n_train": N_TRAIN,
                        "keep": KEEP,
                        "variant": variant,
                        "score": score,
                        "error_metric": "mean_squared_error",
                        "train_error": 0.0,
                        "train_loss": 0.0,
                        "test_error": error,
                        "penalty": None,
                        "val_error": error,
                        "val_loss": error,
                        "test_loss": error,
                    }
                )
    return frame(rows, "compression")


def test_every_claim_is_tested_at_every_width_and_corrected_per_claim():
    claims = claim_table(compression(), alpha=0.05, level=0.95)
    validate_table(claims, "compression_claims")
    per_claim = claims.groupby("claim")["width"].agg(list).to_dict()
    assert per_claim["c"] == WIDTHS and per_claim["ridge"] == WIDTHS
    assert sorted(per_claim["a"]) == sorted(WIDTHS * 2)  # pruned and refit
    # (b): each p > n against the p < n of lowest validation error (dense: 4; pruned: 6)
    b = claims[claims["claim"] == "b"]
    assert set(b["width"]) == {12, 20, 40}
    assert set(b["against"]) == {"dense at p = 4", "pruned (hessian) at p = 6"}
    sizes = claims.groupby("claim")["family_size"].first().to_dict()
    assert sizes == {"a": 12, "b": 6, "c": 6, "ridge": 6}
    assert claims["decided"].all()  # 10 seeds: 2/2^10 x 12 < 0.05, every sign kept
    c = claims[claims["claim"] == "c"].set_index("width")["mean"]
    assert c[4] == pytest.approx(-0.1, abs=0.01) and c[40] == pytest.approx(0.1, abs=0.01)


def test_the_sentences_say_where_a_claim_holds_and_where_it_reverses():
    claims = claim_table(compression(), alpha=0.05, level=0.95)
    text = " ".join(sentences(compression(), claims))
    assert (
        "(c) Does refitting after pruning help? refit (hessian) - pruned (hessian): helps at "
        "p/n 0.4 to 0.8 (largest" in text
    )
    assert "hurts at p/n 1.2 to 4 (largest" in text
    assert "-- the sign reverses along p" in text
    # (a): worse below n, better at 1.2 and 2, worse again at 4 -- two bands of one sign
    assert "pruned (hessian): worse at p/n 0.4 to 0.8, p/n 4 (largest" in text
    assert "beats it at p/n 1.2 to 2 (largest -0.3" in text
    # (b): the pruned curve dips below its best p < n (1.1 at p = 6) and climbs above it
    assert "pruned (hessian) against its best p < n (p = 6): lower at p/n 1.2 to 2" in text
    assert "higher at p/n 4" in text
    assert "Holm-corrected together (a: 12, c: 6, ridge: 6, b: 6)" in text
