from ddprune.jobs import train
from ddprune.logs import log_to_file
from ddprune.study import Run

log_to_file(snakemake.log[0])
train(
    study=snakemake.params.study,
    run=Run.from_wildcards(snakemake.wildcards),
    train_config=snakemake.params.train,
    platform_config=snakemake.config["platform"],
    options=snakemake.params.options,
    labels_path=snakemake.input.labels,
    metrics_path=snakemake.output.metrics,
    model_path=snakemake.output.model,
    schemas=snakemake.params.schemas,
    threads=snakemake.threads,
    keep_epochs=snakemake.params.keep_epochs,
)
