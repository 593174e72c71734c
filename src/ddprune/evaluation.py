"""Metrics on the full train and test sets, as the research question needs them.

Training error is measured on the labels the model was trained on (noisy) *and* on the
clean labels; memorisation is the fraction of noisy-label samples whose noisy label the
model reproduces -- the quantity that explains the peak at the interpolation threshold.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ddprune.data import RunData


@torch.inference_mode()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Logits for ``x`` in large batches, in evaluation mode."""
    was_training = model.training
    model.eval()
    logits = torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return logits


def evaluate(model: nn.Module, data: RunData, batch_size: int) -> dict[str, float]:
    """Loss, error and memorisation on the full training and test sets."""
    train_logits = predict(model, data.x_train, batch_size)
    train_pred = train_logits.argmax(dim=1)
    test_logits = predict(model, data.x_test, batch_size)
    noisy = data.is_noisy
    memorization = (
        (train_pred[noisy] == data.y_train[noisy]).float().mean().item()
        if bool(noisy.any())
        else math.nan
    )
    return {
        "train_loss": F.cross_entropy(train_logits, data.y_train).item(),
        "train_error": (train_pred != data.y_train).float().mean().item(),
        "train_error_clean": (train_pred != data.y_train_clean).float().mean().item(),
        "memorization": memorization,
        "test_loss": F.cross_entropy(test_logits, data.y_test).item(),
        "test_error": (test_logits.argmax(dim=1) != data.y_test).float().mean().item(),
    }
