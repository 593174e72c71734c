from ddprune.jobs.report import aggregate
from ddprune.jobs.snakemake import start

start(snakemake)
aggregate(inputs=list(snakemake.input), output=snakemake.output[0], table=snakemake.params.table)
