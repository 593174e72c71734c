"""Throughput of ddprune's training step against a bare PyTorch loop (goal: ratio >= 0.9).

Both loops train the same model from the same initialisation on the same device-resident
digits data; the bare loop is the minimal forward/backward/step a person would write by hand.
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

from ddprune.datasets import load_dataset
from ddprune.models import build_model
from ddprune.training import train_epoch


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


def ddprune_loop(model, optimizer, x, y, steps, batch_size, generator):
    n = len(x)
    for _ in range(steps // max(1, -(-n // batch_size)) if batch_size else steps):
        train_epoch(model, optimizer, x, y, batch_size, generator)


def seconds(loop, model, x, y, steps, batch_size) -> float:
    model = copy.deepcopy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    loop(model, optimizer, x, y, steps // 10, batch_size, generator)  # warm-up
    start = time.perf_counter()
    loop(model, optimizer, x, y, steps, batch_size, generator)
    return time.perf_counter() - start


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
    print(f"{'width':>6} {'batch':>6} {'bare steps/s':>13} {'ddprune steps/s':>16} {'ratio':>6}")
    ratios = []
    for width in args.widths:
        for batch in args.batch_sizes:
            batch_size = batch or None
            torch.manual_seed(0)
            model = build_model("mlp", width, data.input_shape, data.num_classes)
            bare, ours = [], []
            for _ in range(args.repeats):
                bare.append(seconds(bare_loop, model, x, y, args.steps, batch_size))
                ours.append(seconds(ddprune_loop, model, x, y, args.steps, batch_size))
            ratio = statistics.median(bare) / statistics.median(ours)
            ratios.append(ratio)
            print(
                f"{width:>6} {batch or 'full':>6} {args.steps / statistics.median(bare):>13.0f} "
                f"{args.steps / statistics.median(ours):>16.0f} {ratio:>6.3f}"
            )
    print(
        f"throughput ratio ddprune / bare: min {min(ratios):.3f}, "
        f"median {statistics.median(ratios):.3f} (goal >= 0.9)"
    )


if __name__ == "__main__":
    main()
