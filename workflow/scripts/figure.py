from ddprune.jobs import figure
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
figure(
    kind=snakemake.params.kind,
    dataset=snakemake.wildcards.dataset,
    model=snakemake.wildcards.model,
    output=snakemake.output[0],
    schemas=snakemake.params.schemas,
    dense_path=snakemake.input.get("dense"),
    threshold_path=snakemake.input.get("threshold"),
    pruning_path=snakemake.input.get("pruning"),
    compression_path=snakemake.input.get("compression"),
    options=snakemake.params.get("options"),
)
