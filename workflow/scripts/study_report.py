"""Study-wide report jobs of ddprune.jobs.report that take (study, layout): params.job names one."""

from ddprune.jobs import report
from ddprune.jobs.snakemake import start

getattr(report, snakemake.params.job)(*start(snakemake))
