from ddprune.jobs.snakemake import start
from ddprune.jobs.threshold import threshold

threshold(
    start(snakemake),
    dense=snakemake.input[0],
    output=snakemake.output[0],
    final=snakemake.params.final,
    checkpoints=snakemake.params.checkpoints,
)
