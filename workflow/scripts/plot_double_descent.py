from ddprune.jobs import double_descent_figure
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
double_descent_figure(
    dense_path=snakemake.input[0],
    schema=snakemake.params.schema,
    dataset=snakemake.wildcards.dataset,
    model=snakemake.wildcards.model,
    output=snakemake.output[0],
)
