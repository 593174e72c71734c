"""Where the schemas live: the config's and every table's, in the workflow's schemas folder
(one place, read by people, by Snakemake and by this package)."""

from __future__ import annotations

from pathlib import Path

SCHEMAS = Path(__file__).resolve().parents[3] / "workflow" / "schemas"


def schema_file(name: str) -> Path:
    """The schema of table ``name`` (``dense``, ``pruning``, ...) or of the ``config``."""
    path = SCHEMAS / f"{name}.schema.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no schema {path}: ddprune reads its schemas from the checkout it is installed "
            "from (pip install -e .)"
        )
    return path
