from ddprune.jobs.dense import solve
from ddprune.jobs.snakemake import start
from ddprune.study.runs import parse_noise_wildcard

wildcards = snakemake.wildcards
solve(
    start(snakemake),
    wildcards.dataset,
    wildcards.model,
    *parse_noise_wildcard(wildcards.noise),
    labels=list(snakemake.input.labels),
    dense=snakemake.output.dense,
    compression=snakemake.output.compression,
)
