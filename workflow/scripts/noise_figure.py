from ddprune.jobs.report import noise_figure
from ddprune.jobs.snakemake import start

noise_figure(start(snakemake), snakemake.input[0], snakemake.output[0])
