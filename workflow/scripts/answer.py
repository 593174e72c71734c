from ddprune.jobs.report import answer
from ddprune.jobs.snakemake import optional, start

answer(
    start(snakemake),
    dense=snakemake.input.dense,
    threshold=snakemake.input.threshold,
    pruning=optional(snakemake.input.pruning),
    tuning=optional(snakemake.input.tuning),
    answer=snakemake.output.answer,
    comparisons=snakemake.output.comparisons,
    registration=snakemake.params.registration,
)
