"""ddprune: pruning at the interpolation threshold of deep double descent.

Run the study in config.yaml with `snakemake --cores N`, another with `--configfile`.
"""

from snakemake.utils import min_version

min_version("9.21")


configfile: "config.yaml"


include: "workflow/rules/common.smk"


report: landing_page()


include: "workflow/rules/dense.smk"
include: "workflow/rules/closed_form.smk"
include: "workflow/rules/threshold.smk"
include: "workflow/rules/prune.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/answer.smk"


rule all:
    """Every table, figure and page of the study."""
    default_target: True
    input:
        all_targets(),
