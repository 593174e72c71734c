"""CPU seconds a training or pruning job spends before its first step, now against the
earlier start (``torch.use_deterministic_algorithms``, which imports ``torch._inductor``).

Each measurement is a fresh interpreter that imports torch and the job modules and then
switches to deterministic kernels, as a Snakemake job does; it prints the CPU seconds of
each phase, the median over ``--repeats`` runs, and the ratio of the two starts. Usage:

    python benchmarks/job_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import json, sys, time
started = time.process_time()
import torch
imported_torch = time.process_time()
import ddprune.jobs.dense, ddprune.jobs.prune
from ddprune.study.hparams import Platform
from ddprune.training.platform import configure
imported = time.process_time()
if sys.argv[1] == "earlier":
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)
else:
    configure(Platform.of(), threads=1)
print(json.dumps({
    "torch": imported_torch - started,
    "job modules": imported - imported_torch,
    "deterministic switch": time.process_time() - imported,
    "inductor imported": "torch._inductor" in sys.modules,
}))
"""


def measure(start: str, repeats: int) -> dict[str, float]:
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE, start], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    phases = ("torch", "job modules", "deterministic switch")
    medians = {phase: statistics.median(run[phase] for run in runs) for phase in phases}
    medians["inductor imported"] = runs[0]["inductor imported"]
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    earlier, now = measure("earlier", repeats), measure("now", repeats)
    print(f"{'phase (CPU s, median of ' + str(repeats) + ')':36} {'earlier':>8} {'now':>8}")
    for phase in ("torch", "job modules", "deterministic switch"):
        print(f"{phase:36} {earlier[phase]:8.2f} {now[phase]:8.2f}")
    beyond = {
        k: v["job modules"] + v["deterministic switch"] for k, v in (("e", earlier), ("n", now))
    }
    print(f"{'beyond importing torch':36} {beyond['e']:8.2f} {beyond['n']:8.2f}")
    imported = (earlier["inductor imported"], now["inductor imported"])
    print(f"torch._inductor imported: earlier {imported[0]}, now {imported[1]}")
    print(f"ratio earlier / now, beyond torch: {beyond['e'] / beyond['n']:.1f}x")


if __name__ == "__main__":
    main()
