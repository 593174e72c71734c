from ddprune.jobs.report import compression_claims
from ddprune.jobs.snakemake import start

compression_claims(start(snakemake), snakemake.input[0], snakemake.output[0])
