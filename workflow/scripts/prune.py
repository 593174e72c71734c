from ddprune.jobs.prune import prune
from ddprune.jobs.snakemake import start
from ddprune.study import Run

prune(
    *start(snakemake),
    Run.from_wildcards(snakemake.wildcards),
    int(snakemake.wildcards.epoch),
    snakemake.wildcards.method,
    threads=snakemake.threads,
)
