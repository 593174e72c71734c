from ddprune.jobs.report import figure
from ddprune.jobs.snakemake import start

wildcards = snakemake.wildcards
figure(
    start(snakemake),
    wildcards.kind,
    wildcards.dataset,
    wildcards.model,
    inputs=dict(snakemake.input.items()),
    output=snakemake.output[0],
)
