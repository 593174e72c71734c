"""Import torchvision even where its compiled operators cannot load.

The torchvision build that matches the pinned torch is a CUDA build; on a CPU-only torch
its ``_C`` extension fails to load, and ``import torchvision`` then dies while registering
fake kernels for ``torchvision::nms``/``qnms`` ("operator torchvision::nms does not exist").
ddprune needs only torchvision's datasets and transforms, which are pure Python, so
:func:`import_torchvision` declares the two missing operator schemas (without kernels) and
imports again. Detection operators (``torchvision.ops.nms``) stay unavailable; everything
ddprune uses works. The workaround is logged once per process.
"""

from __future__ import annotations

import importlib
import logging
import sys
from types import ModuleType

import torch

log = logging.getLogger(__name__)

_MISSING_OPERATOR = "operator torchvision::nms does not exist"
_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_placeholder_library: torch.library.Library | None = None


def import_torchvision() -> ModuleType:
    """Return the ``torchvision`` module, working around missing compiled operators."""
    global _placeholder_library
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as error:
        if _MISSING_OPERATOR not in str(error):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    _placeholder_library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS.values():
        _placeholder_library.define(schema)
    module = importlib.import_module("torchvision")
    log.warning(
        "torchvision's compiled operators are unavailable (CUDA torchvision build on a "
        "CPU-only torch); datasets and transforms work, detection operators do not"
    )
    return module
