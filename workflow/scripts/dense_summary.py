from ddprune.jobs.report import dense_summary
from ddprune.jobs.snakemake import start

start(snakemake)
wildcards = snakemake.wildcards
dense_summary(snakemake.input[0], snakemake.output[0], wildcards.dataset, wildcards.model)
