from ddprune.jobs.report import recovery_table
from ddprune.jobs.snakemake import start

recovery_table(*start(snakemake), snakemake.wildcards.dataset, snakemake.wildcards.model)
