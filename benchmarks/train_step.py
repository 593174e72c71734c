"""Training-step speed: ddprune vs a bare PyTorch loop; masked (pruned) vs dense vs its peers.

1. ddprune's training step against the minimal hand-written forward/backward/step loop on the
   same model, initialisation and device-resident digits data (goal: throughput ratio >= 0.9).
2. A pruned network's step (80% of the prunable weights pruned) four ways, on the same model,
   masks, data and loop, so that only the masking differs:
   - dense: no masks (the reference);
   - ddprune: the weights masked once, the gradients before every step (one in-place
     multiply per step; :class:`ddprune.pruning.masks.MaskedWeights`);
   - torch.nn.utils.prune: a ``weight_orig`` parameter and a mask multiplied into ``weight``
     by a forward pre-hook in every forward pass (``prune.custom_from_mask``);
   - OpenLTH: masks as buffers, the weights multiplied by them before every forward pass
     (``PrunedModel._apply_mask`` in OpenLTH's ``pruning/pruned_model.py``).
   Goals: ddprune / dense time median <= 1.05, and ddprune never slower than either peer.
3. Time per epoch against kept weights (``--budgets``, global magnitude masks, output layer
   included, as the default study prunes): the compact network
   (:mod:`ddprune.pruning.compact`) vs the masked full network vs the dense one, for MLPs of
   widths 128 and 512 on digits and width 48 on Fashion-MNIST-sized inputs (784 features,
   1,000 samples, random values: only the shapes matter here). Goals: at <= 1,000 kept
   weights the width-512 compact step >= 4x faster than the masked one, and neither the
   masked nor the compact step slower than the dense one at any budget.

Timings are interleaved and repeated, and the median is reported. Usage:

    python benchmarks/train_step.py [--widths 16 128 512] [--steps 2000] [--repeats 5]
        [--budgets 16000 8000 4000 2000 1000 500 250 125] [--budget-steps 300]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune as torch_prune

from ddprune.data.datasets import load_dataset
from ddprune.data.feed import Feed
from ddprune.models import build_model
from ddprune.pruning.compact import compact
from ddprune.pruning.masks import MaskedWeights, Masks, prunable_weights
from ddprune.pruning.scores import magnitude, select
from ddprune.study.hparams import TrainConfig, keep_count
from ddprune.training.components import make_optimizer
from ddprune.training.loop import Masking, train_epoch

# A way to train a pruned network: model and masks -> the module to train, and the masking
# that ddprune's loop applies (None: the module masks itself, or nothing is masked).
Way = Callable[[nn.Module, Masks], tuple[nn.Module, Masking | None]]


def dense(model: nn.Module, masks: Masks) -> tuple[nn.Module, None]:
    return model, None


def ddprune_masks(model: nn.Module, masks: Masks) -> tuple[nn.Module, MaskedWeights]:
    masked = MaskedWeights(model, masks)
    masked.apply_to_weights()
    return model, masked


def torch_nn_utils_prune(model: nn.Module, masks: Masks) -> tuple[nn.Module, None]:
    for name, mask in masks.items():
        torch_prune.custom_from_mask(model.get_submodule(name.rpartition(".")[0]), "weight", mask)
    return model, None


class OpenLTHPruned(nn.Module):
    """OpenLTH's ``PrunedModel``: mask buffers multiplied into the weights before every
    forward pass."""

    def __init__(self, model: nn.Module, masks: Masks) -> None:
        super().__init__()
        self.model = model
        for name, mask in masks.items():
            self.register_buffer(name.replace(".", "___") + "_mask", mask.float())
        self._apply_mask()

    def _apply_mask(self) -> None:
        for name, param in self.model.named_parameters():
            mask = getattr(self, name.replace(".", "___") + "_mask", None)
            if mask is not None:
                param.data *= mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._apply_mask()
        return self.model(x)


def openlth(model: nn.Module, masks: Masks) -> tuple[nn.Module, None]:
    return OpenLTHPruned(model, masks), None


def compacted(model: nn.Module, masks: Masks) -> tuple[nn.Module, MaskedWeights]:
    """ddprune's compact network (the masked one where there is nothing to drop)."""
    _, masking = ddprune_masks(model, masks)
    small = compact(model, masks)
    return (small.model, MaskedWeights(small.model, small.masks)) if small else (model, masking)


PRUNED_WAYS: dict[str, Way] = {
    "dense": dense,
    "ddprune": ddprune_masks,
    "torch.nn.utils.prune": torch_nn_utils_prune,
    "OpenLTH": openlth,
}


def epochs_for(steps: int, n: int, batch_size: int | None) -> int:
    return steps // max(1, -(-n // batch_size)) if batch_size else steps


def bare_loop(model, optimizer, x, y, steps, batch_size, generator, masks=None) -> None:
    n = len(x)
    for _ in range(epochs_for(steps, n, batch_size)):
        if batch_size is None:
            batches = [(x, y)]
        else:
            order = torch.randperm(n, generator=generator)
            batches = [(x[i], y[i]) for i in order.split(batch_size)]
        for xb, yb in batches:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def ddprune_loop(model, optimizer, x, y, steps, batch_size, generator, masks=None) -> None:
    for _ in range(epochs_for(steps, len(x), batch_size)):
        train_epoch(model, optimizer, x, y, batch_size, generator, Feed(), masks)


def seconds(loop, way: Way, model, masks: Masks, x, y, steps, batch_size) -> float:
    """Seconds for ``steps`` steps of ``loop`` on a copy of ``model`` pruned ``way``."""
    module, masking = way(copy.deepcopy(model), masks)
    optimizer = make_optimizer(TrainConfig.of(lr=1e-3), module)  # Adam, as the studies train
    generator = torch.Generator().manual_seed(0)
    loop(module, optimizer, x, y, steps // 10, batch_size, generator, masking)  # warm-up
    start = time.perf_counter()
    loop(module, optimizer, x, y, steps, batch_size, generator, masking)
    return time.perf_counter() - start


def median_seconds(
    runs: dict[str, tuple[Callable, Way]], model, masks, x, y, steps, batch_size, repeats
) -> dict[str, float]:
    """Median seconds of each run, interleaved so that machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (loop, way) in runs.items():
            times[name].append(seconds(loop, way, model, masks, x, y, steps, batch_size))
    return {name: statistics.median(t) for name, t in times.items()}


def budget_sweep(budgets: list[int], steps: int, repeats: int) -> None:
    """Part 3: seconds per full-batch epoch against kept weights, compact / masked / dense."""
    digits = load_dataset("digits")
    generator = torch.Generator().manual_seed(0)
    fashion_sized = (torch.randn(1000, 784, generator=generator), torch.arange(1000) % 10)
    cases = [
        ("digits", 128, digits.x_train, digits.y_train),
        ("digits", 512, digits.x_train, digits.y_train),
        ("784-dim", 48, *fashion_sized),
    ]
    ways = {"dense": dense, "masked": ddprune_masks, "compact": compacted}
    print(f"\nseconds per epoch (full batch, Adam, {steps} steps, median of {repeats})")
    print(
        f"{'data':>8} {'width':>6} {'kept':>7} {'dense ms':>9} {'masked ms':>10} "
        f"{'compact ms':>11} {'masked/compact':>15} {'compact/dense':>14} {'masked/dense':>13}"
    )
    speedups, worst = [], 0.0
    for name, width, x, y in cases:
        torch.manual_seed(0)
        model = build_model("mlp", width, tuple(x.shape[1:]), 10)
        weights = prunable_weights(model, include_output=True)
        total = sum(w.numel() for w in weights.values())
        for budget in [b for b in budgets if b < total]:
            masks = select(magnitude(weights, None, None, None), budget, "global")
            runs = {way: (ddprune_loop, function) for way, function in ways.items()}
            ms = {
                way: 1e3 * t / steps
                for way, t in median_seconds(runs, model, masks, x, y, steps, None, repeats).items()
            }
            if width == 512 and budget <= 1000:
                speedups.append(ms["masked"] / ms["compact"])
            worst = max(worst, ms["masked"] / ms["dense"], ms["compact"] / ms["dense"])
            print(
                f"{name:>8} {width:>6} {budget:>7} {ms['dense']:>9.3f} {ms['masked']:>10.3f} "
                f"{ms['compact']:>11.3f} {ms['masked'] / ms['compact']:>15.2f} "
                f"{ms['compact'] / ms['dense']:>14.2f} {ms['masked'] / ms['dense']:>13.2f}"
            )
    if speedups:
        print(
            f"width 512 at <= 1,000 kept weights: compact {min(speedups):.1f}x to "
            f"{max(speedups):.1f}x faster than masked (goal >= 4x)"
        )
    print(f"slowest masked or compact step / dense step: {worst:.2f} (goal <= 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 128, 512])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[0, 128], help="0 = full")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pruned", type=float, default=0.8, help="fraction of weights pruned")
    parser.add_argument(
        "--budgets", type=int, nargs="*", default=[16000, 8000, 4000, 2000, 1000, 500, 250, 125]
    )
    parser.add_argument("--budget-steps", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("digits")
    x, y = data.x_train, data.y_train
    print(f"digits, {len(x)} samples, torch {torch.__version__}, {args.threads} thread(s)")
    print(f"{args.pruned:.0%} of the prunable weights pruned; time per step / dense time")
    peers = [name for name in PRUNED_WAYS if name not in ("dense", "ddprune")]
    print(
        f"{'width':>6} {'batch':>6} {'bare steps/s':>13} {'ddprune steps/s':>16} {'ratio':>6}"
        f" {'dense steps/s':>14} {'ddprune':>8}" + "".join(f" {p:>21}" for p in peers)
    )
    ratios, masked, versus_peers = [], [], []
    for width in args.widths:
        for batch in args.batch_sizes:
            batch_size = batch or None
            torch.manual_seed(0)
            model = build_model("mlp", width, data.input_shape, data.num_classes)
            weights = prunable_weights(model, include_output=True)
            total = sum(w.numel() for w in weights.values())
            scores = magnitude(weights, None, None, None)
            masks = select(scores, keep_count(total, 1 - args.pruned), "global")
            steps = median_seconds(
                {"bare": (bare_loop, dense), "ddprune": (ddprune_loop, dense)},
                model, masks, x, y, args.steps, batch_size, args.repeats,
            )  # fmt: skip
            ways = median_seconds(
                {name: (ddprune_loop, way) for name, way in PRUNED_WAYS.items()},
                model, masks, x, y, args.steps, batch_size, args.repeats,
            )  # fmt: skip
            ratios.append(steps["bare"] / steps["ddprune"])
            masked.append(ways["ddprune"] / ways["dense"])
            versus_peers.append(ways["ddprune"] / min(ways[p] for p in peers))
            print(
                f"{width:>6} {batch or 'full':>6} {args.steps / steps['bare']:>13.0f} "
                f"{args.steps / steps['ddprune']:>16.0f} {ratios[-1]:>6.3f} "
                f"{args.steps / ways['dense']:>14.0f} {masked[-1]:>8.3f}"
                + "".join(f" {ways[p] / ways['dense']:>21.3f}" for p in peers)
            )
    print(
        f"throughput ratio ddprune / bare: min {min(ratios):.3f}, "
        f"median {statistics.median(ratios):.3f} (goal >= 0.9)"
    )
    print(
        f"time ratio ddprune masked / dense step: median {statistics.median(masked):.3f}, "
        f"max {max(masked):.3f} (goal: median <= 1.05)"
    )
    print(
        f"time ratio ddprune masked / the faster peer: max {max(versus_peers):.3f} "
        f"(goal <= 1: never slower than either peer)"
    )
    budget_sweep(args.budgets, args.budget_steps, args.repeats)


if __name__ == "__main__":
    main()
