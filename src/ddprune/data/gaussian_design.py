"""Gaussian designs for the closed-form studies: where the signal lives, how the features
correlate, and the exact population risk that knowing both gives for free.

A design is a D-feature world x ~ N(0, Sigma), y = x^T beta + sigma * eps, built from
*blocks* of features (count, variance, and the share of ||beta||^2 that lies in the block,
spread evenly over it) and a *correlation* structure: independent, equicorrelated
(corr(x_i, x_j) = rho for i != j) or AR(1) (corr = rho^|i - j|). A model of size p sees the
first p features. The samplers are nested: the first p features of a sample do not depend on
the features after them, so a sweep over p grows one model, as Chang, Li, Oymak &
Thrampoulidis (AAAI 2021) do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch

from ddprune.catalog import design_problem


@dataclass(frozen=True)
class GaussianDesign:
    """The population: per-feature variances, the true coefficients, the correlation."""

    variance: torch.Tensor  # (D,) float64: the diagonal of Sigma
    beta: torch.Tensor  # (D,) float64
    sigma: float  # standard deviation of the target noise
    correlation: str = "independent"
    rho: float = 0.0

    @property
    def d(self) -> int:
        return len(self.beta)

    @property
    def support(self) -> torch.Tensor:
        """Indices of the informative features (beta_i != 0)."""
        return torch.nonzero(self.beta).flatten()

    @cached_property
    def covariance(self) -> torch.Tensor:
        """Sigma = diag(sd) C diag(sd), D x D (built once per design)."""
        index = torch.arange(self.d, dtype=torch.float64)
        if self.correlation == "independent":
            corr = torch.eye(self.d, dtype=torch.float64)
        elif self.correlation == "equicorrelated":
            corr = torch.full((self.d, self.d), self.rho, dtype=torch.float64)
            corr.fill_diagonal_(1.0)
        else:  # ar1
            corr = self.rho ** (index[:, None] - index[None, :]).abs()
        sd = self.variance.sqrt()
        return sd[:, None] * corr * sd[None, :]

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n draws of (x, y). Independent features draw exactly what the diagonal designs
        always drew (z * sd, then the noise), so their samples keep their values."""
        z = torch.randn(n, self.d, generator=generator, dtype=torch.float64)
        if self.correlation == "equicorrelated":
            shared = torch.randn(n, 1, generator=generator, dtype=torch.float64)
            z = math.sqrt(1 - self.rho) * z + math.sqrt(self.rho) * shared
        elif self.correlation == "ar1":
            scale = math.sqrt(1 - self.rho**2)
            for j in range(1, self.d):  # c_j = rho c_{j-1} + sqrt(1 - rho^2) z_j
                z[:, j] = self.rho * z[:, j - 1] + scale * z[:, j]
        x = z * self.variance.sqrt()
        noise = torch.randn(n, generator=generator, dtype=torch.float64)
        return x, x @ self.beta + self.sigma * noise

    def risk(self, theta: torch.Tensor) -> float:
        """Exact expected squared error on a fresh (x, y) of a predictor theta on the first
        p features: sigma^2 + (theta - beta)^T Sigma (theta - beta), theta zero-padded to D.
        Exact where a sampled test set only estimates it (with its own noise)."""
        gap = -self.beta.clone()
        gap[: len(theta)] += theta.reshape(-1)
        return self.sigma**2 + float(gap @ self.covariance @ gap)

    def best_coefficients(self, p: int) -> torch.Tensor:
        """The population-optimal coefficients of a model that sees the first p features:
        Sigma_pp^-1 Sigma_p,: beta. With independent features that is beta's first p; with
        correlated ones the omitted features' signal is carried by their correlates."""
        if self.correlation == "independent" or p == self.d:
            return self.beta[:p].clone()
        cov = self.covariance
        return torch.linalg.solve(cov[:p, :p], cov[:p] @ self.beta)


def build_design(
    d: int,
    sigma: float,
    signal_norm: float,
    blocks: list[dict[str, Any]] | None,
    correlation: dict[str, Any] | None,
) -> GaussianDesign:
    """The design a ``gaussian-linear`` config describes. ``blocks`` (null: one block of all
    d features holding all the signal) lie in order from the first feature; features after
    the last block have variance 1 and no signal."""
    problem = design_problem(d, signal_norm, blocks, correlation)
    if problem:
        raise ValueError(f"gaussian-linear: {problem}")
    blocks = blocks or [{"count": d, "variance": 1.0, "signal": 1.0}]
    variance = torch.ones(d, dtype=torch.float64)
    beta = torch.zeros(d, dtype=torch.float64)
    start = 0
    for block in blocks:
        count, share = block["count"], block.get("signal", 0.0)
        variance[start : start + count] = block.get("variance", 1.0)
        beta[start : start + count] = signal_norm * math.sqrt(share / count)
        start += count
    correlation = correlation or {}
    kind, rho = correlation.get("kind", "independent"), correlation.get("rho", 0.0)
    return GaussianDesign(variance, beta, sigma, kind, rho if kind != "independent" else 0.0)
