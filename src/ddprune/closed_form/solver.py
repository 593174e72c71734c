"""Models solved in closed form: double descent and pruning without SGD.

After Chang, Li, Oymak & Thrampoulidis (AAAI 2021), the same questions as for networks --
where is the interpolation threshold, and does pruning a large model beat training a small
one? -- asked of least squares, where everything is exact and cheap:

- ``linear``: least squares on the first ``p`` (= width) coordinates of the data;
- ``rff``: least squares on ``p`` random ReLU features ``relu(W x)``, ``W ~ N(0, 1/d)``,
  on any dataset (one-hot targets for classification). The features of width ``p`` are the
  first ``p`` of every wider model of the same seed, so the sweep grows one model.

Both use the minimum-l2-norm solution ``pinv(Phi) @ Y`` (float64): ordinary least squares
when p < n, the interpolating solution of smallest norm when p > n. Singular values below
``rcond * s_max`` count as zero; ``rcond`` defaults to ``eps * max(n, p)``, numpy's choice.

Pruning keeps ``keep`` of the ``p`` coordinates by a score -- magnitude ``|theta_i|^2``, the
Hessian-weighted ``H_ii |theta_i|^2`` with ``H = Phi^T Phi / n`` (the training loss's
Hessian; its diagonal estimates Sigma_ii), or the oracle ``Sigma_ii b_i^2`` with ``b`` the
population-optimal coefficients of the p-feature model (known for ``linear`` on
``gaussian-linear``; ``b`` is beta*'s first p when the features are independent) -- with or
without refitting least squares on the kept columns. The baselines a theorist checks first
stand beside them: the small model, least squares on ``keep`` features chosen up front (the
informative ones where known, else the first ``keep``: for ``rff`` a model of width
``keep``); the same small model with a ridge penalty tuned on the validation sample; and, for
regression, the null predictor (zero). Where the population is known (``linear`` on
``gaussian-linear``) the test columns hold the exact population risk, not a sampled estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ddprune.catalog import dims_follow_width, source
from ddprune.data.base import Dataset
from ddprune.data.builtin import GaussianLinear
from ddprune.data.datasets import load_dataset
from ddprune.data.gaussian_design import GaussianDesign
from ddprune.data.noise import NoisyLabels
from ddprune.foundations.registry import Registry
from ddprune.foundations.seeds import derive_seed
from ddprune.study.hparams import ClosedFormConfig
from ddprune.training.evaluation import label_errors

SCORES = ("magnitude", "hessian", "oracle")
FeatureMap = Callable[[torch.Tensor, int, int], torch.Tensor]
SOLVERS: Registry[FeatureMap] = Registry("closed-form model")
solver_names = SOLVERS.names


@SOLVERS.register("linear")
def linear_features(x: torch.Tensor, width: int, seed: int) -> torch.Tensor:
    """The first ``width`` coordinates of the (flattened) inputs."""
    x = x.flatten(1)
    if width > x.shape[1]:
        raise ValueError(f"linear: width {width} exceeds the data's {x.shape[1]} features")
    return x[:, :width].double()


@SOLVERS.register("rff")
def random_relu_features(x: torch.Tensor, width: int, seed: int) -> torch.Tensor:
    """``relu(x W^T)`` with ``width`` rows of W ~ N(0, 1/d), nested across widths."""
    x = x.flatten(1).double()
    generator = torch.Generator().manual_seed(derive_seed("rff-features", seed))
    weights = torch.randn(width, x.shape[1], generator=generator, dtype=torch.float64)
    return torch.relu(x @ weights.T / math.sqrt(x.shape[1]))


def min_norm_solve(phi: torch.Tensor, targets: torch.Tensor, rcond: float | None) -> torch.Tensor:
    """The minimum-norm least-squares solution of ``phi @ theta = targets``."""
    cutoff = torch.finfo(phi.dtype).eps * max(phi.shape) if rcond is None else rcond
    return torch.linalg.pinv(phi, rtol=cutoff) @ targets


@dataclass(frozen=True)
class Problem:
    """One least-squares problem: features, targets and what the metrics need."""

    phi_train: torch.Tensor
    phi_val: torch.Tensor
    phi_test: torch.Tensor
    y_train: torch.Tensor  # targets fitted: (n, 1) real values or (n, C) one-hot (noisy)
    labels: NoisyLabels | None  # classification only: the training labels
    y_val: torch.Tensor  # (n_val, 1) real values, or the noisy validation classes
    y_test: torch.Tensor  # (n_test, 1) real values, or class indices
    design: GaussianDesign | None  # the population, where the model's features are x's own

    @property
    def regression(self) -> bool:
        return self.labels is None

    @property
    def width(self) -> int:
        return self.phi_train.shape[1]

    @property
    def oracle(self) -> torch.Tensor | None:
        """Per-feature true signal Sigma_ii b_i^2 of the p-feature model, where known."""
        if self.design is None:
            return None
        best = self.design.best_coefficients(self.width)
        return self.design.variance[: self.width] * best**2


def build_problem(
    model: str, width: int, seed: int, data: Dataset, labels: dict[str, NoisyLabels] | None
) -> Problem:
    """Features of ``model`` at ``width`` for ``data`` (trained on ``labels`` if classes, by
    split as :func:`ddprune.data.noise.draw_noise` gives them)."""
    phi_train, phi_val, phi_test = (
        SOLVERS[model](x, width, seed) for x in (data.x_train, data.x_val, data.x_test)
    )
    if labels is None:
        y_train, y_val, y_test = (
            y.double()[:, None] for y in (data.y_train, data.y_val, data.y_test)
        )
        train_labels = None
    else:
        train_labels = labels["train"]
        y_train = torch.nn.functional.one_hot(train_labels.noisy, data.num_classes).double()
        y_val, y_test = labels["validation"].noisy, data.y_test
    design = data.design if model == "linear" and isinstance(data, GaussianLinear) else None
    return Problem(phi_train, phi_val, phi_test, y_train, train_labels, y_val, y_test, design)


def metrics(problem: Problem, theta: torch.Tensor) -> dict[str, float]:
    """Errors and squared losses; for regression the error *is* the mean squared error, and
    on the test side the exact population risk where the population is known."""
    train = problem.phi_train @ theta
    if problem.design is not None:
        risk = problem.design.risk(theta)
        test = {"test_loss": risk, "test_error": risk}
    else:
        test = _held_out(problem.phi_test @ theta, problem.y_test, "test")
    if problem.regression:
        train_mse = ((train - problem.y_train) ** 2).mean().item()
        return {
            "train_loss": train_mse,
            "train_error": train_mse,
            "train_error_clean": train_mse,
            "memorization": math.nan,
            **_held_out(problem.phi_val @ theta, problem.y_val, "val"),
            **test,
        }
    labels = problem.labels
    return {
        "train_loss": ((train - problem.y_train) ** 2).sum(dim=1).mean().item(),
        **label_errors(train.argmax(dim=1), labels.noisy, labels.clean),
        **_held_out(problem.phi_val @ theta, problem.y_val, "val"),
        **test,
    }


def sampled_test_risk(problem: Problem, theta: torch.Tensor) -> float:
    """The test MSE on the dataset's sampled test set (what :func:`metrics` replaces by the
    exact risk where it is known; kept to check the two agree)."""
    return ((problem.phi_test @ theta - problem.y_test) ** 2).mean().item()


def _held_out(predicted: torch.Tensor, targets: torch.Tensor, split: str) -> dict[str, float]:
    """Squared loss and error of one held-out split: for real targets the error is the mean
    squared error, for classes the misclassified fraction (NaN for an empty split)."""
    if len(targets) == 0:
        return {f"{split}_loss": math.nan, f"{split}_error": math.nan}
    if targets.dtype.is_floating_point:
        mse = ((predicted - targets) ** 2).mean().item()
        return {f"{split}_loss": mse, f"{split}_error": mse}
    one_hot = torch.nn.functional.one_hot(targets, predicted.shape[1]).double()
    return {
        f"{split}_loss": ((predicted - one_hot) ** 2).sum(dim=1).mean().item(),
        f"{split}_error": (predicted.argmax(dim=1) != targets).double().mean().item(),
    }


def scores(problem: Problem, theta: torch.Tensor, score: str) -> torch.Tensor | None:
    """Per-feature importance by ``score`` (None: the oracle is unknown for this problem)."""
    squared = (theta**2).sum(dim=1)
    if score == "magnitude":
        return squared
    if score == "hessian":
        return (problem.phi_train**2).mean(dim=0) * squared
    if score == "oracle":
        return problem.oracle
    raise ValueError(f"closed_form.scores: {score!r}; allowed: {list(SCORES)}")


def fit_columns(problem: Problem, columns: torch.Tensor, rcond: float | None) -> torch.Tensor:
    """Least squares on the ``columns`` only; zero elsewhere (the retrained pruned model)."""
    theta = torch.zeros(problem.width, problem.y_train.shape[1], dtype=torch.float64)
    theta[columns] = min_norm_solve(problem.phi_train[:, columns], problem.y_train, rcond)
    return theta


# Ridge penalties tried for the tuned small model, relative to the mean feature variance
# (the scale of Phi^T Phi / n): from nearly least squares to nearly zero.
RIDGE_GRID = tuple(10.0**k for k in torch.linspace(-4, 4, 33).tolist())


def fit_ridge(problem: Problem, columns: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Ridge on the ``columns`` (min ||Phi theta - y||^2 / n + lam ||theta||^2), its penalty
    chosen on the validation sample (lowest validation error, then loss; ties to the larger
    penalty): the small model a practitioner would tune, and the one an overparameterised
    model's implicit regularisation has to beat."""
    if len(problem.y_val) == 0:
        raise ValueError("the small-ridge model is tuned on validation: n_validation is 0")
    phi = problem.phi_train[:, columns]
    n = phi.shape[0]
    u, s, vh = torch.linalg.svd(phi, full_matrices=False)
    projected = u.T @ problem.y_train
    scale = float((phi**2).mean(dim=0).mean())
    best = None
    for lam in sorted(RIDGE_GRID, reverse=True):
        theta = torch.zeros(problem.width, problem.y_train.shape[1], dtype=torch.float64)
        theta[columns] = vh.T @ ((s / (s**2 + n * lam * scale))[:, None] * projected)
        held = _held_out(problem.phi_val @ theta, problem.y_val, "val")
        rank = (held["val_error"], held["val_loss"])
        if best is None or rank < best[0]:
            best = (rank, theta, lam * scale)
    return best[1], best[2]


def top(values: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices of the ``keep`` largest values; ties go to the lower index (deterministic)."""
    order = torch.sort(-values, stable=True).indices
    return order[:keep].sort().values


def prune_rows(
    problem: Problem, theta: torch.Tensor, keep: int, score_names: list[str], rcond: float | None
) -> list[dict[str, Any]]:
    """The pruned model (without and with refitting) by every score that is defined here."""
    rows = []
    for score in score_names:
        values = scores(problem, theta, score)
        if values is None:
            continue
        kept = top(values, keep)
        mask = torch.zeros(len(values), dtype=torch.bool)
        mask[kept] = True
        pruned = theta * mask[:, None]
        for variant, weights in (("pruned", pruned), ("refit", fit_columns(problem, kept, rcond))):
            rows.append({"variant": variant, "score": score, **metrics(problem, weights)})
    return rows


def solve_run(
    dataset: str,
    options: dict[str, Any],
    model: str,
    widths: list[int],
    seed: int,
    config: ClosedFormConfig,
    labels: dict[str, NoisyLabels] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every width of one (dataset, model, noise, seed): dense rows and compression rows.

    The compression rows hold, per width, the dense model, the pruned ones (widths above
    ``keep``) and the baselines (small, small-ridge, null), so that each width's rows compare
    like with like. Where d follows the width (the well-specified sweep) the world grows with
    p, and only the dense model and the null predictor are recorded.
    """
    dense, compression = [], []
    shared = None if dims_follow_width(dataset, options) else _data(dataset, options, 0, seed)
    baselines = None
    for width in widths:
        data = shared or _data(dataset, options, width, seed)
        keep = resolve_keep(config, dataset, data)
        if baselines is None or shared is None:  # they depend on the data only
            baselines = baseline_rows(model, seed, data, labels, config, keep, shared is None)
        problem = build_problem(model, width, seed, data, labels)
        theta = min_norm_solve(problem.phi_train, problem.y_train, config.rcond)
        measured = metrics(problem, theta)
        common = {
            "width": width,
            "n_train": len(data.y_train),
            "n_val": len(data.y_val),
            "n_test": len(data.y_test),
            "keep": keep,
        }
        dense.append(
            {
                **{k: v for k, v in common.items() if k != "keep"},
                **measured,
                "diverged": False,  # a least-squares solve has no loss to blow up
                "n_params": theta.numel(),
                "data_sha256": data.sha256,
            }
        )
        compression.append({**common, "variant": "dense", "score": None, **measured})
        if width > keep:
            rows = prune_rows(problem, theta, keep, list(config.scores), config.rcond)
            compression += [{**common, **row} for row in rows]
        compression += [{**common, **row} for row in baselines]
    return dense, compression


def resolve_keep(config: ClosedFormConfig, dataset: str, data: Dataset) -> int:
    """``closed_form.keep`` for ``dataset``; null: the informative features' count (where the
    data knows them: gaussian-linear)."""
    keep = config.keep_for(dataset)
    if keep is not None:
        return keep
    if not isinstance(data, GaussianLinear):
        raise ValueError(f"closed_form.keep: null for {dataset!r}, which has no known support")
    return len(data.design.support)


def _data(dataset: str, options: dict[str, Any], width: int, seed: int) -> Dataset:
    """The run's data; gaussian-linear draws a sample per seed (in ``width`` dims if d is null)."""
    if source(dataset, options) != "gaussian-linear":
        return load_dataset(dataset, options)
    d = width if dims_follow_width(dataset, options) else options["d"]
    return load_dataset(dataset, {**options, "d": d, "seed": seed})


def baseline_rows(
    model: str,
    seed: int,
    data: Dataset,
    labels: dict[str, NoisyLabels] | None,
    config: ClosedFormConfig,
    keep: int,
    grown_world: bool = False,
) -> list[dict[str, Any]]:
    """The models that do not depend on p: least squares on ``keep`` features (for linear on
    gaussian-linear the informative ones: the largest Sigma_ii beta*_i^2 of the whole world;
    else the first ``keep``, for rff a model of width ``keep``), the same with a validated
    ridge penalty, and for regression the null predictor. In a ``grown_world`` (d = p) the
    small model on the informative features is the dense model itself: only the null
    predictor is recorded."""
    if model == "linear" and isinstance(data, GaussianLinear):
        problem = build_problem(model, data.design.d, seed, data, labels)
        kept = top(problem.oracle, keep)
    else:
        problem = build_problem(model, keep, seed, data, labels)
        kept = torch.arange(keep)
    rows = []
    if problem.regression:
        zero = torch.zeros(problem.width, 1, dtype=torch.float64)
        rows.append({"variant": "null", "score": None, **metrics(problem, zero)})
    if grown_world:
        return rows
    small = fit_columns(problem, kept, config.rcond)
    ridge, penalty = fit_ridge(problem, kept)
    return [
        {"variant": "small", "score": None, **metrics(problem, small)},
        {"variant": "small-ridge", "score": None, "penalty": penalty, **metrics(problem, ridge)},
        *rows,
    ]
