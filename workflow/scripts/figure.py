from ddprune.jobs import figure
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
figure(
    kind=snakemake.params.kind,
    dense_path=snakemake.input.dense,
    schema=snakemake.params.schema,
    dataset=snakemake.wildcards.dataset,
    model=snakemake.wildcards.model,
    output=snakemake.output[0],
    threshold_path=snakemake.input.get("threshold"),
)
