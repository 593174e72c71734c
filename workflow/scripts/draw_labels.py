from ddprune.jobs.dense import draw_labels
from ddprune.jobs.snakemake import start

wildcards = snakemake.wildcards
draw_labels(*start(snakemake), wildcards.dataset, float(wildcards.noise), int(wildcards.seed))
