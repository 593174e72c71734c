import subprocess
import sys

# Each check runs in a fresh interpreter: whether torchvision imports depends on process state.
SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
from ddprune.data.torchvision_compat import import_torchvision
tv = import_torchvision()
assert import_torchvision() is tv
import torch
from torchvision import datasets, transforms
from torchvision.transforms import v2
image = torch.arange(3 * 8 * 8, dtype=torch.uint8).reshape(3, 8, 8)
out = v2.Compose([v2.RandomCrop(8, padding=2), v2.RandomHorizontalFlip()])(image)
assert out.shape == image.shape and out.dtype == torch.uint8
assert hasattr(datasets, "CIFAR10") and hasattr(datasets, "FashionMNIST")
print("OK")
"""


def test_torchvision_datasets_and_transforms_import():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "OK"
    # Where the compiled operators are missing the workaround is announced exactly once.
    assert sum("compiled operators are unavailable" in line for line in lines) <= 1


def test_plain_import_fails_here_so_the_workaround_is_exercised():
    """Documents why the shim exists; if a future torchvision imports cleanly, this tells us."""
    result = subprocess.run(
        [sys.executable, "-c", "import torch; import torchvision"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        import pytest

        pytest.skip("torchvision imports cleanly here: the shim is a no-op on this machine")
    assert "operator torchvision::nms does not exist" in result.stderr
