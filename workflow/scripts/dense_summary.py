from ddprune.jobs.report import dense_summary
from ddprune.jobs.snakemake import start

dense_summary(*start(snakemake), snakemake.wildcards.dataset, snakemake.wildcards.model)
