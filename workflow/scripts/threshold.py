from ddprune.jobs.snakemake import start
from ddprune.jobs.threshold import threshold

threshold(*start(snakemake))
