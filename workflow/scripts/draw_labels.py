from ddprune.jobs.dense import draw_labels
from ddprune.jobs.snakemake import start
from ddprune.study.runs import parse_noise_wildcard

wildcards = snakemake.wildcards
draw_labels(
    start(snakemake),
    wildcards.dataset,
    *parse_noise_wildcard(wildcards.noise),
    int(wildcards.seed),
    output=snakemake.output[0],
)
