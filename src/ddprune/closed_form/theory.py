"""The closed-form test risk of minimum-norm least squares, drawn over the measured curve."""

from __future__ import annotations

import math
from typing import Any

from ddprune.catalog import dims_follow_width


def risk_isotropic(p: int, n: int, sigma: float, r: float) -> float:
    """Expected excess test risk of min-norm least squares, isotropic Gaussian features.

    Well-specified (beta* in R^p, ||beta*|| = r), finite n (Hastie, Montanari, Rosset &
    Tibshirani 2019; Belkin, Hsu & Xu 2019): sigma^2 p / (n - p - 1) below the threshold,
    r^2 (1 - n/p) + sigma^2 n / (p - n - 1) above it; infinite within one of p = n. Add
    sigma^2 for the risk on noisy test targets.
    """
    if p < n - 1:
        return sigma**2 * p / (n - p - 1)
    if p > n + 1:
        return r**2 * (1 - n / p) + sigma**2 * n / (p - n - 1)
    return math.inf


def theory_curve(dataset: str, options: dict[str, Any], widths: list[int]) -> list[dict] | None:
    """Expected test MSE (noise floor included) per width, where the closed form holds:
    gaussian-linear with isotropic features and d = p (None elsewhere)."""
    isotropic = not options.get("blocks") and not options.get("correlation", {}).get("rho")
    if not (dims_follow_width(dataset, options) and isotropic):
        return None
    n, sigma, r = options["n_train"], options["sigma"], options["signal_norm"]
    return [{"width": p, "value": sigma**2 + risk_isotropic(p, n, sigma, r)} for p in widths]
