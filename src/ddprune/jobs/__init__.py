"""One function per Snakemake job, a module per stage (as in workflow/rules/): plain
arguments in, files out. The workflow scripts only unpack the ``snakemake`` object into
these calls, so every job can be run and tested from Python without Snakemake. The report
jobs (:mod:`ddprune.jobs.report`) never import torch."""
