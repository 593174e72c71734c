from ddprune.jobs import verify_selected
from ddprune.logs import log_to_file
from ddprune.study import Run

log_to_file(snakemake.log[0])
verify_selected(
    study=snakemake.params.study,
    run=Run.from_wildcards(snakemake.wildcards),
    epoch=int(snakemake.wildcards.epoch),
    threshold_path=snakemake.input.threshold,
    checkpoint_path=snakemake.input.checkpoint,
    metrics_path=snakemake.input.metrics,
    labels_path=snakemake.input.labels,
    options=snakemake.params.options,
    train_config=snakemake.params.train,
    platform_config=snakemake.config["platform"],
    schemas=snakemake.params.schemas,
    output=snakemake.output[0],
    threads=snakemake.threads,
)
