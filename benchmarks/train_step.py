"""Training-step speed: ddprune vs a bare PyTorch loop, and masked (pruned) vs dense.

1. ddprune's training step against the minimal hand-written forward/backward/step loop on the
   same model, initialisation and device-resident digits data (goal: throughput ratio >= 0.9).
2. ddprune's masked step (80% of the prunable weights pruned: gradients masked before the
   step, weights after it) against its dense step (goal: time ratio <= 1.10).

Timings are interleaved and repeated, and the median is reported. Usage:

    python benchmarks/train_step.py [--widths 16 128 512] [--steps 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from ddprune.data.datasets import load_dataset
from ddprune.data.feed import Feed
from ddprune.models import build_model
from ddprune.pruning.masks import MaskedWeights, magnitude_masks, prunable_weights
from ddprune.training.loop import train_epoch


def bare_loop(model, optimizer, x, y, steps, batch_size, generator):
    n = len(x)
    for _ in range(steps // max(1, -(-n // batch_size)) if batch_size else steps):
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


def ddprune_loop(model, optimizer, x, y, steps, batch_size, generator, masks=None):
    n = len(x)
    for _ in range(steps // max(1, -(-n // batch_size)) if batch_size else steps):
        train_epoch(model, optimizer, x, y, batch_size, generator, Feed(), masks)


def masked_loop(model, optimizer, x, y, steps, batch_size, generator):
    weights = prunable_weights(model)
    masks = MaskedWeights(model, magnitude_masks(weights, 0.2, "global"))
    masks.apply_to_weights()
    ddprune_loop(model, optimizer, x, y, steps, batch_size, generator, masks)


def seconds(loop, model, x, y, steps, batch_size) -> float:
    model = copy.deepcopy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    loop(model, optimizer, x, y, steps // 10, batch_size, generator)  # warm-up
    start = time.perf_counter()
    loop(model, optimizer, x, y, steps, batch_size, generator)
    return time.perf_counter() - start


def compare(first, second, model, x, y, steps, batch_size, repeats) -> tuple[float, float]:
    """Median seconds of two loops, interleaved so that machine noise hits both alike."""
    a, b = [], []
    for _ in range(repeats):
        a.append(seconds(first, model, x, y, steps, batch_size))
        b.append(seconds(second, model, x, y, steps, batch_size))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 128, 512])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[0, 128], help="0 = full")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("digits")
    x, y = data.x_train, data.y_train
    print(f"digits, {len(x)} samples, torch {torch.__version__}, {args.threads} thread(s)")
    print(
        f"{'width':>6} {'batch':>6} {'bare steps/s':>13} {'ddprune steps/s':>16} "
        f"{'ratio':>6} {'masked/dense time':>18}"
    )
    ratios, masked = [], []
    for width in args.widths:
        for batch in args.batch_sizes:
            batch_size = batch or None
            torch.manual_seed(0)
            model = build_model("mlp", width, data.input_shape, data.num_classes)
            bare, ours = compare(
                bare_loop, ddprune_loop, model, x, y, args.steps, batch_size, args.repeats
            )
            dense, pruned = compare(
                ddprune_loop, masked_loop, model, x, y, args.steps, batch_size, args.repeats
            )
            ratios.append(bare / ours)
            masked.append(pruned / dense)
            print(
                f"{width:>6} {batch or 'full':>6} {args.steps / bare:>13.0f} "
                f"{args.steps / ours:>16.0f} {bare / ours:>6.3f} {pruned / dense:>18.3f}"
            )
    print(
        f"throughput ratio ddprune / bare: min {min(ratios):.3f}, "
        f"median {statistics.median(ratios):.3f} (goal >= 0.9)"
    )
    print(
        f"time ratio masked / dense step: max {max(masked):.3f}, "
        f"median {statistics.median(masked):.3f} (goal <= 1.10)"
    )


if __name__ == "__main__":
    main()
