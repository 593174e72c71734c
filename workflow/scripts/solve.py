from ddprune.jobs import solve
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
solve(
    study=snakemake.params.study,
    dataset=snakemake.wildcards.dataset,
    model=snakemake.wildcards.model,
    noise=float(snakemake.wildcards.noise),
    seed=int(snakemake.wildcards.seed),
    widths=snakemake.params.widths,
    options=snakemake.params.options,
    closed_form=snakemake.params.closed_form,
    labels_path=snakemake.input.get("labels") or None,  # regression data: no labels
    schemas=snakemake.params.schemas,
    dense_path=snakemake.output.dense,
    compression_path=snakemake.output.compression,
)
