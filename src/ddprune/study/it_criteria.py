"""The criteria of the interpolation threshold (IT) as records: each is one way to read the
IT off a family's seed-mean final metrics over width, and they disagree in practice, so the
threshold stage reports every one with its own status.

A criterion names

* the seed-mean curve it reads (``metric``): a validation or test curve, or the training
  error on the noisy labels;
* how it reads it (``search``, a name in :data:`ddprune.analysis.threshold.criteria.SEARCHES`):
  ``peak``, the largest value *after the first local minimum* (the second peak, not the
  error of tiny models), with its height and prominence; ``crossing``, the smallest width
  whose value is at or below ``threshold.interpolation_tolerance``;
* how the report shows it (``label``; ``linetype`` of its line in the double-descent figure,
  None for none; ``details``, the numbers the thresholds table prints beside its width).

Only criteria that read no test data may choose the IT (:attr:`ITCriterion.choosable`): the
pruning stage's comparisons are then measured on a test set that chose nothing. The test
peaks are reported beside them as *oracles* (what a choice on test would have been).

Torch-free and light: the config's validation and the threshold file's check read the names
here. A new criterion is one more record (and, for a new way of reading a curve, one search
function).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ddprune.foundations.registry import Registry

PEAK_DETAILS = ("width", "height", "prominence")


@dataclass(frozen=True)
class ITCriterion:
    name: str
    metric: str
    search: str
    label: str
    details: tuple[str, ...] = PEAK_DETAILS
    linetype: str | None = None

    @property
    def choosable(self) -> bool:
        """Whether it may choose the IT: it reads no test data."""
        return not self.metric.startswith("test_")

    @property
    def column(self) -> str:
        """Its heading in the thresholds table (an oracle says so)."""
        return self.label if self.choosable else f"{self.label} (oracle)"


IT_CRITERIA: Registry[ITCriterion] = Registry("IT criterion")
for _criterion in (
    ITCriterion("val_error_peak", "val_error", "peak", "validation-error peak", linetype="solid"),
    ITCriterion("val_loss_peak", "val_loss", "peak", "validation-loss peak", linetype="dashed"),
    ITCriterion("test_error_peak", "test_error", "peak", "test-error peak"),
    ITCriterion("test_loss_peak", "test_loss", "peak", "test-loss peak"),
    ITCriterion(
        "interpolation",
        "train_error",
        "crossing",
        "interpolation point",
        details=("width", "n_params", "params_per_sample"),
        linetype="dotted",
    ),
):
    IT_CRITERIA.add(_criterion.name, _criterion)

# The second peak of validation error: its first minimum places the ``first_minimum``
# control, and the sparse statistics ask whether a pruning trajectory passes its size.
VALIDATION_ERROR_PEAK = "val_error_peak"


def it_criteria() -> Iterator[ITCriterion]:
    """Every criterion, in the order they were registered."""
    return iter(IT_CRITERIA.values())


def choosable_names() -> list[str]:
    """The criteria that may choose the IT (``threshold.criterion``, ``threshold.fallback``)."""
    return [c.name for c in it_criteria() if c.choosable]
