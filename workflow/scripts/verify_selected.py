from ddprune.jobs.snakemake import start
from ddprune.jobs.verify import verify_selected
from ddprune.study import Run

verify_selected(
    *start(snakemake),
    Run.from_wildcards(snakemake.wildcards),
    int(snakemake.wildcards.epoch),
    threads=snakemake.threads,
)
