from ddprune.jobs.report import threshold_table
from ddprune.jobs.snakemake import start

start(snakemake)
threshold_table(snakemake.input[0], snakemake.output[0])
