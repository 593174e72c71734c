"""One command for a machine with CUDA: do ddprune's GPU paths work, and how fast are they?

Prints one table, in about 5-10 minutes on one modern GPU:

1. data path: ddprune's device-resident uint8 pipeline against a torchvision DataLoader on
   ResNet18-k (``benchmarks/data_pipeline.py``'s two loops; goal >= 3x);
2. speed switches: a short CIFAR-shaped study (synthetic, learnable images through the
   bring-your-own-data path) trained plain, then with channels_last, torch.compile and bf16
   autocast -- each must reach the plain run's final metrics within its tolerance;
3. determinism: the plain study twice -- identical metrics, bit for bit;
4. several runs per GPU: the same 8-run study with ``platform.runs_per_gpu`` 1 and 4 under
   ``--resources gpu=1`` -- the wall-time ratio.

Everything goes through ``snakemake`` on this checkout, as a user's study would, in a scratch
directory. Without CUDA it says so and exits 0 (CI runs it that way). Usage:

    python benchmarks/gpu_check.py [--epochs 8] [--images 4096]

``--device cpu`` rehearses the whole check on the CPU (slowly: use small ``--images``), to
test the script itself on a machine without a GPU; its speed goals mean nothing there.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
DATASET = "cifar-shaped"


@dataclass(frozen=True)
class Check:
    name: str
    measured: str
    goal: str
    ok: bool


# Speed switches and how far each may move the final metrics from the plain run's.
SWITCHES = {
    "channels_last": ({"platform": {"channels_last": True}}, 0.02),
    "torch.compile": ({"platform": {"compile": True}}, 0.02),
    "bf16 autocast": ({"train": {"precision": "bfloat16"}}, 0.05),
}
COMPARED = ["train_loss", "train_error", "test_loss", "test_error"]


def synthetic_cifar(path: Path, images: int) -> Path:
    """CIFAR-shaped uint8 images (N x 3 x 32 x 32) whose class shifts the mean colour and a
    stripe, so that a few epochs learn something and the metrics are worth comparing."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=images + 1000)
    x = rng.normal(128, 40, size=(len(labels), 3, 32, 32))
    x[np.arange(len(labels)), labels % 3] += 20 * (labels[:, None, None] - 4.5) / 4.5
    x[np.arange(len(labels)), :, labels * 3 % 32] += 60
    pixels = np.clip(x, 0, 255).astype(np.uint8)
    np.savez(
        path,
        x_train=pixels[:images],
        y_train=labels[:images],
        x_test=pixels[images:],
        y_test=labels[images:],
    )
    return path


def study_config(
    name: str, data: Path, widths: list[int], seeds: list[int], epochs: int, device: str
) -> dict:
    return {
        "study": name,
        "datasets": {DATASET: {"file": str(data)}},
        "sweep": [
            {
                "dataset": DATASET,
                "model": "resnet18k",
                "widths": widths,
                "noise": [0.2],
                "seeds": seeds,
            }
        ],
        "train": {
            "optimizer": "adam",
            "lr": 1e-3,
            "batch_size": 128,
            "max_epochs": epochs,
            "stop_at_train_error": None,
            "eval_every": epochs,
            "augment": ["crop", "flip"],
        },
        "platform": {"device": device, "threads": 2},
    }


def merged(config: dict, overrides: dict) -> dict:
    result = copy.deepcopy(config)
    for section, values in overrides.items():
        result[section] = {**result.get(section, {}), **values}
    return result


def run_study(scratch: Path, config: dict) -> tuple[pd.DataFrame, float]:
    """Train ``config``'s runs through Snakemake; (final metrics per run, wall seconds)."""
    configfile = scratch / f"{config['study']}.yaml"
    configfile.write_text(yaml.safe_dump(config))
    command = [
        *(sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")),
        *("--directory", str(scratch), "--configfile", str(configfile)),
        *("--cores", "16", "--resources", "gpu=1", "--until", "aggregate_dense", "-q"),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{config['study']} failed:\n{result.stderr[-3000:]}")
    dense = pd.read_parquet(scratch / "results" / config["study"] / "dense.parquet")
    final = dense.sort_values("epoch").groupby(["width", "seed"]).tail(1)
    return final.set_index(["width", "seed"]).sort_index()[COMPARED], seconds


def compare(name: str, plain: pd.DataFrame, other: pd.DataFrame, tolerance: float) -> Check:
    gap = float((plain - other).abs().to_numpy().max())
    goal = "identical" if tolerance == 0 else f"<= {tolerance:g}"
    return Check(name, f"largest metric difference {gap:.4g}", goal, gap <= tolerance)


def data_path(images: int, device: torch.device) -> Check:
    """benchmarks/data_pipeline.py's two loops on ResNet18-4, median of three."""
    sys.path.insert(0, str(Path(__file__).parent))
    from data_pipeline import ImageData, median_seconds

    from ddprune.study.hparams import Platform

    data = ImageData.random(images, device, channels_last=False, bf16=False)
    loader, resident = median_seconds(4, data, Platform.of(), 128, 1, 3, 4)
    ratio = loader / resident
    return Check("data path vs DataLoader (ResNet18-4)", f"{ratio:.2f}x", ">= 3x", ratio >= 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    arguments = parser.parse_args()
    if arguments.device == "cuda" and not torch.cuda.is_available():
        print(
            f"gpu_check: no CUDA device visible (torch {torch.__version__}, CUDA build "
            f"{torch.version.cuda}): nothing to check; run it on a machine with a GPU"
        )
        return 0
    device = torch.device(arguments.device)
    checks = [data_path(arguments.images, device)]
    with tempfile.TemporaryDirectory(prefix="ddprune-gpu-check-") as directory:
        scratch = Path(directory)
        data = synthetic_cifar(scratch / f"{DATASET}.npz", arguments.images)
        base = study_config("plain", data, [2, 8], [0], arguments.epochs, arguments.device)
        plain, _ = run_study(scratch, base)
        again, _ = run_study(scratch, {**base, "study": "plain-again"})
        checks.append(compare("determinism: the plain study twice", plain, again, 0.0))
        for name, (overrides, tolerance) in SWITCHES.items():
            variant = merged({**base, "study": name.replace(" ", "-").replace(".", "-")}, overrides)
            checks.append(
                compare(f"{name} vs plain", plain, run_study(scratch, variant)[0], tolerance)
            )
        shared = study_config(
            "slots", data, [1, 2, 3, 4], [0, 1], max(2, arguments.epochs // 4), arguments.device
        )
        seconds = {
            runs: run_study(
                scratch,
                merged({**shared, "study": f"slots-{runs}"}, {"platform": {"runs_per_gpu": runs}}),
            )[1]
            for runs in (1, 4)
        }
        ratio = seconds[1] / seconds[4]
        checks.append(
            Check(
                "8 runs, runs_per_gpu 4 vs 1 (--resources gpu=1)",
                f"{seconds[1]:.0f} s / {seconds[4]:.0f} s = {ratio:.2f}x",
                "> 1x",
                ratio > 1,
            )
        )
    name = torch.cuda.get_device_name() if device.type == "cuda" else "the CPU (rehearsal)"
    print(f"GPU check on {name} (torch {torch.__version__})")
    print(pd.DataFrame([vars(check) for check in checks]).to_string(index=False))
    return 0 if all(check.ok for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
