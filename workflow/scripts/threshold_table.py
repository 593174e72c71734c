from ddprune.jobs import threshold_table
from ddprune.logs import log_to_file

log_to_file(snakemake.log[0])
threshold_table(threshold_path=snakemake.input[0], output=snakemake.output[0])
