from ddprune.jobs.snakemake import start
from ddprune.jobs.verify import verify_selected
from ddprune.study import Run

files = snakemake.input
verify_selected(
    start(snakemake),
    Run.from_wildcards(snakemake.wildcards),
    int(snakemake.wildcards.epoch),
    threshold=files.threshold,
    checkpoint=files.checkpoint,
    metrics=files.metrics,
    labels=files.labels,
    output=snakemake.output[0],
    threads=snakemake.threads,
)
