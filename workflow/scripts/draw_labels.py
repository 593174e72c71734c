from ddprune.jobs import draw_labels
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
draw_labels(
    study=snakemake.params.study,
    dataset=snakemake.wildcards.dataset,
    noise=float(snakemake.wildcards.noise),
    seed=int(snakemake.wildcards.seed),
    options=snakemake.params.options,
    output=snakemake.output[0],
    schema=snakemake.params.schema,
)
