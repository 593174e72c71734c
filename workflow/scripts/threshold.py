from ddprune.jobs import threshold
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
threshold(
    study=snakemake.params.study,
    dense_path=snakemake.input[0],
    schema=snakemake.params.schema,
    threshold_config=snakemake.params.config,
    checkpoint_template=snakemake.params.checkpoint,
    output=snakemake.output[0],
)
