from ddprune.jobs.report import threshold_table
from ddprune.jobs.snakemake import start

threshold_table(start(snakemake)[1])
