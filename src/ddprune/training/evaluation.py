"""Metrics on the full train, validation and test sets, as the research question needs them.

Training error is measured on the labels the model was trained on (noisy) *and* on the
clean labels; memorisation is the fraction of samples whose label the noise changed that the
model predicts as their noisy label -- the quantity that explains the peak at the
interpolation threshold. Validation loss and error are on the validation split's noisy labels:
they are what every choice is made on, so they must be what a user could measure.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ddprune.data.feed import Feed
from ddprune.data.run_data import RunData


def label_errors(
    predicted: torch.Tensor, noisy: torch.Tensor, clean: torch.Tensor
) -> dict[str, float]:
    """Training error against the noisy and the clean labels, and memorisation (NaN without
    noise), from predicted classes: shared by trained and closed-form models.

    Memorisation counts the samples whose label changed, not all redrawn ones: a symmetric
    redraw that kept the true class cannot be memorised (for incorrect-class noise the two
    sets are the same)."""
    changed = noisy != clean
    return {
        "train_error": (predicted != noisy).float().mean().item(),
        "train_error_clean": (predicted != clean).float().mean().item(),
        "memorization": (predicted[changed] == noisy[changed]).float().mean().item()
        if bool(changed.any())
        else math.nan,
    }


def held_out_metrics(
    model: nn.Module, feed: Feed, x: torch.Tensor, labels: torch.Tensor, split: str
) -> dict[str, float]:
    """``{split}_loss`` and ``{split}_error`` on a held-out split (NaN for an empty one)."""
    if labels.numel() == 0:
        return {f"{split}_loss": math.nan, f"{split}_error": math.nan}
    logits = feed.predict(model, x)
    return {
        f"{split}_loss": F.cross_entropy(logits, labels).item(),
        f"{split}_error": (logits.argmax(dim=1) != labels).float().mean().item(),
    }


def evaluate(model: nn.Module, data: RunData, feed: Feed) -> dict[str, float]:
    """Loss, error and memorisation on the full training, validation and test sets, and
    ``diverged``.

    A model whose training loss is not finite has diverged: the argmax of NaN logits is an
    arbitrary class, so its "errors" would be numbers without meaning. They are NaN instead,
    and every reader (means, threshold, figures) leaves such rows out.
    """
    train_logits = feed.predict(model, data.x_train)
    train_pred = train_logits.argmax(dim=1)
    metrics = {
        "train_loss": F.cross_entropy(train_logits, data.y_train).item(),
        **label_errors(train_pred, data.y_train, data.y_train_clean),
        **held_out_metrics(model, feed, data.x_val, data.y_val, "val"),
        **held_out_metrics(model, feed, data.x_test, data.y_test, "test"),
    }
    if math.isfinite(metrics["train_loss"]):
        return {**metrics, "diverged": False}
    return {**dict.fromkeys(metrics, math.nan), "diverged": True}


VERIFIED = ("train_error", "train_error_clean", "val_error", "test_error", "test_loss")


def disagreements(
    measured: dict[str, float],
    recorded: dict[str, float],
    device: torch.device,
    autocast: torch.dtype | None,
) -> dict[str, tuple[float, float]]:
    """The metrics (:data:`VERIFIED`) where a reloaded model and its record disagree:
    (measured, recorded) beyond the tolerance of the way it was evaluated.

    The same kernels give the same numbers on a CPU (1e-6); a GPU of another model (a
    cluster's next node) or bfloat16 may flip a few predictions (relative 2e-3). A changed
    split or a damaged file moves the metrics by far more than either tolerance.
    """
    tolerance = 1e-6 if device.type == "cpu" and autocast is None else 2e-3
    return {
        k: (measured[k], float(recorded[k]))
        for k in VERIFIED
        if not (math.isnan(measured[k]) and math.isnan(recorded[k]))
        and not abs(measured[k] - recorded[k]) <= tolerance * max(1.0, abs(recorded[k]))
    }
