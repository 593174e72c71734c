from ddprune.jobs.dense import train
from ddprune.jobs.snakemake import start
from ddprune.study import Run

train(*start(snakemake), Run.from_wildcards(snakemake.wildcards), threads=snakemake.threads)
