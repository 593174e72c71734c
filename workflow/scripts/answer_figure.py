from ddprune.jobs.report import answer_figure
from ddprune.jobs.snakemake import start

start(snakemake)
answer_figure(snakemake.input[0], snakemake.output[0])
