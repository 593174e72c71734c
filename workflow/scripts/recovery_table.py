from ddprune.jobs.report import recovery_table
from ddprune.jobs.snakemake import start

wildcards = snakemake.wildcards
recovery_table(
    start(snakemake), snakemake.input[0], snakemake.output[0], wildcards.dataset, wildcards.model
)
