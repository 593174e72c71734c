from ddprune.jobs.prune import prune
from ddprune.jobs.snakemake import optional, start
from ddprune.study import Run

files = snakemake.input
prune(
    start(snakemake),
    Run.from_wildcards(snakemake.wildcards),
    int(snakemake.wildcards.epoch),
    snakemake.wildcards.method,
    threshold=files.threshold,
    checkpoint=files.checkpoint,
    labels=files.labels,
    rewind=optional(files.rewind),
    counts=optional(files.counts),
    output=snakemake.output[0],
    rounds=snakemake.params.rounds,
    threads=snakemake.threads,
)
