from ddprune.jobs.dense import solve
from ddprune.jobs.snakemake import start

wildcards = snakemake.wildcards
solve(
    *start(snakemake),
    wildcards.dataset,
    wildcards.model,
    float(wildcards.noise),
    int(wildcards.seed),
)
