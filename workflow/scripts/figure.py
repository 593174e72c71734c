from ddprune.jobs.report import figure
from ddprune.jobs.snakemake import start

wildcards = snakemake.wildcards
figure(*start(snakemake), snakemake.params.kind, wildcards.dataset, wildcards.model)
