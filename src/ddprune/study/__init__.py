"""Planning a study, torch-free: the validated config, its runs, the names it may use and the
checkpoints the threshold selected. Snakemake imports this for every command."""

from ddprune.study.config import ConfigError, load_study, require_data
from ddprune.study.runs import Run, Study

__all__ = ["ConfigError", "Run", "Study", "load_study", "require_data"]
