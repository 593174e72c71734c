from ddprune.jobs.dense import train
from ddprune.jobs.snakemake import start
from ddprune.study import Run

train(
    start(snakemake),
    Run.from_wildcards(snakemake.wildcards),
    labels=snakemake.input.labels,
    metrics=snakemake.output.metrics,
    final=snakemake.output.model,
    checkpoints=snakemake.params.checkpoints,
    threads=snakemake.threads,
    weight_decay=float(snakemake.wildcards.weight_decay),
)
