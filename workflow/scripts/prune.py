from ddprune.jobs import prune
from ddprune.logs import log_to_file
from ddprune.study import Run

log_to_file(snakemake.log[0])
prune(
    study=snakemake.params.study,
    run=Run.from_wildcards(snakemake.wildcards),
    epoch=int(snakemake.wildcards.epoch),
    method=snakemake.wildcards.method,
    threshold_path=snakemake.input.threshold,
    checkpoint_path=snakemake.input.checkpoint,
    rewind_path=snakemake.input.rewind or None,
    labels_path=snakemake.input.labels,
    options=snakemake.params.options,
    train_config=snakemake.params.train,
    prune_config=snakemake.params.prune,
    platform_config=snakemake.config["platform"],
    schemas=snakemake.params.schemas,
    output=snakemake.output[0],
    threads=snakemake.threads,
)
