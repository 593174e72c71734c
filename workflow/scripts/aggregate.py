from ddprune.jobs import aggregate
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
aggregate(inputs=list(snakemake.input), output=snakemake.output[0], schema=snakemake.params.schema)
