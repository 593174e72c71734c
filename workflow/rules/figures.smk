"""Figures and tables for the report, one set per (dataset, model) family."""


rule double_descent_figure:
    input:
        dense=LAYOUT.dense,
        threshold=LAYOUT.threshold,
    output:
        report(
            LAYOUT.figure("double_descent"),
            **family_report("double_descent", "double descent"),
        ),
    log:
        LAYOUT.log(f"figures/{FAMILY}/double_descent"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind="double_descent",
        options=lambda wc: STUDY.dataset_options(wc.dataset),
    script:
        "../scripts/figure.py"


rule prune_vs_small_figure:
    input:
        compression=LAYOUT.compression,
    output:
        report(
            LAYOUT.figure("prune_vs_small"),
            **family_report("prune_vs_small", "prune large vs train small"),
        ),
    log:
        LAYOUT.log(f"figures/{FAMILY}/prune_vs_small"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind="prune_vs_small",
    script:
        "../scripts/figure.py"


rule epochwise_heatmap:
    input:
        dense=LAYOUT.dense,
        threshold=LAYOUT.threshold,
    output:
        report(
            LAYOUT.figure("epochwise_heatmap"),
            **family_report("epochwise_heatmap", "epoch-wise heatmap"),
        ),
    log:
        LAYOUT.log(f"figures/{FAMILY}/epochwise_heatmap"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind="epochwise_heatmap",
    script:
        "../scripts/figure.py"


rule dense_summary_table:
    input:
        LAYOUT.dense,
    output:
        report(
            LAYOUT.family_table("dense_summary"),
            **family_report("dense_summary", "summary table"),
        ),
    log:
        LAYOUT.log(f"tables/{FAMILY}/dense_summary"),
    conda:
        "../../envs/ddprune.yaml"
    script:
        "../scripts/dense_summary.py"


rule threshold_table:
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
    params:
        kind=lambda wildcards: wildcards.kind,
    script:
        "../scripts/figure.py"


rule recovery_table:
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
    script:
        "../scripts/recovery_table.py"
