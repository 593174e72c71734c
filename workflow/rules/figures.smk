"""Figures and tables for the report, one set per (dataset, model) family."""


rule family_figure:
    """A dense-stage figure of one (dataset, model) family."""
    input:
        unpack(family_figure_input),
    output:
        report(
            LAYOUT.figure("{kind}"),
            caption="../report/family_figure.rst",
            category="1. Double descent",
            subcategory="{dataset} / {model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "{kind}"},
        ),
    log:
        LAYOUT.log(f"figures/{FAMILY}/{{kind}}"),
    wildcard_constraints:
        kind="|".join(FAMILY_FIGURES),
    conda:
        "../../envs/ddprune.yaml"
    params:
        options=dataset_options,
    script:
        "../scripts/figure.py"


rule dense_summary_table:
    """Seed means of the final dense metrics, as HTML."""
    input:
        LAYOUT.dense,
    output:
        report(
            LAYOUT.family_table("dense_summary"),
            caption="../report/dense_summary.rst",
            category="1. Double descent",
            subcategory="{dataset} / {model}",
            labels={
                "dataset": "{dataset}",
                "model": "{model}",
                "figure": "summary table",
            },
        ),
    log:
        LAYOUT.log(f"tables/{FAMILY}/dense_summary"),
    conda:
        "../../envs/ddprune.yaml"
    script:
        "../scripts/dense_summary.py"


rule threshold_table:
    """The IT by every criterion and the selection, as HTML."""
    input:
        LAYOUT.threshold,
    output:
        report(
            LAYOUT.threshold_table,
            caption="../report/thresholds.rst",
            category="2. Interpolation threshold",
            labels={"table": "thresholds and selection"},
        ),
    log:
        LAYOUT.log("tables/thresholds"),
    conda:
        "../../envs/ddprune.yaml"
    script:
        "../scripts/threshold_table.py"


rule pruning_figure:
    """A pruning figure of one (dataset, model) family."""
    input:
        dense=LAYOUT.dense,
        pruning=LAYOUT.pruning,
    output:
        report(
            LAYOUT.figure("{kind}"),
            caption="../report/pruning_figure.rst",
            category="3. Pruning",
            subcategory="{dataset} / {model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "{kind}"},
        ),
    log:
        LAYOUT.log(f"figures/{FAMILY}/{{kind}}"),
    wildcard_constraints:
        kind="|".join(PRUNING_FIGURES),
    conda:
        "../../envs/ddprune.yaml"
    script:
        "../scripts/figure.py"


rule recovery_table:
    """Every pruned source and method of one family, in points."""
    input:
        LAYOUT.answer,
    output:
        report(
            LAYOUT.family_table("recovery"),
            caption="../report/recovery.rst",
            category="3. Pruning",
            subcategory="{dataset} / {model}",
            labels={
                "dataset": "{dataset}",
                "model": "{model}",
                "figure": "recovery table",
            },
        ),
    log:
        LAYOUT.log(f"tables/{FAMILY}/recovery"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        config=config_sections("prune"),
    script:
        "../scripts/recovery_table.py"
