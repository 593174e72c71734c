from ddprune.jobs import recovery_table
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
recovery_table(
    pruning_path=snakemake.input[0],
    schema=snakemake.params.schema,
    dataset=snakemake.wildcards.dataset,
    model=snakemake.wildcards.model,
    output=snakemake.output[0],
)
