"""Figures and tables for the report, one set per (dataset, model) family."""


rule double_descent_figure:
    input:
        dense=f"{RESULTS}/dense.parquet",
        threshold=f"{RESULTS}/threshold.yaml",
    output:
        report(
            f"{RESULTS}/figures/{FAMILY}/double_descent.png",
            **family_report("double_descent", "double descent"),
        ),
    log:
        f"{LOGS}/figures/{FAMILY}/double_descent.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind="double_descent",
        schemas={"dense": schema("dense")},
        options=lambda wc: STUDY.dataset_options(wc.dataset),
    script:
        "../scripts/figure.py"


rule prune_vs_small_figure:
    input:
        compression=f"{RESULTS}/compression.parquet",
    output:
        report(
            f"{RESULTS}/figures/{FAMILY}/prune_vs_small.png",
            **family_report("prune_vs_small", "prune large vs train small"),
        ),
    log:
        f"{LOGS}/figures/{FAMILY}/prune_vs_small.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind="prune_vs_small",
        schemas={"compression": schema("compression")},
    script:
        "../scripts/figure.py"


rule epochwise_heatmap:
    input:
        dense=f"{RESULTS}/dense.parquet",
        threshold=f"{RESULTS}/threshold.yaml",
    output:
        report(
            f"{RESULTS}/figures/{FAMILY}/epochwise_heatmap.png",
            **family_report("epochwise_heatmap", "epoch-wise heatmap"),
        ),
    log:
        f"{LOGS}/figures/{FAMILY}/epochwise_heatmap.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind="epochwise_heatmap",
        schemas={"dense": schema("dense")},
    script:
        "../scripts/figure.py"


rule dense_summary_table:
    input:
        f"{RESULTS}/dense.parquet",
    output:
        report(
            f"{RESULTS}/tables/{FAMILY}/dense_summary.html",
            **family_report("dense_summary", "summary table"),
        ),
    log:
        f"{LOGS}/tables/{FAMILY}/dense_summary.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("dense"),
    script:
        "../scripts/dense_summary.py"


rule threshold_table:
    input:
        f"{RESULTS}/threshold.yaml",
    output:
        report(
            f"{RESULTS}/tables/thresholds.html",
            caption="../report/thresholds.rst",
            category="2. Interpolation threshold",
            labels={"table": "thresholds and selection"},
        ),
    log:
        f"{LOGS}/tables/thresholds.log",
    conda:
        "../../envs/ddprune.yaml"
    script:
        "../scripts/threshold_table.py"


rule pruning_figure:
    input:
        dense=f"{RESULTS}/dense.parquet",
        pruning=f"{RESULTS}/pruning.parquet",
    output:
        report(
            f"{RESULTS}/figures/{FAMILY}/{{kind}}.png",
            caption="../report/pruning_figure.rst",
            category="3. Pruning",
            subcategory="{dataset} / {model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "{kind}"},
        ),
    log:
        f"{LOGS}/figures/{FAMILY}/{{kind}}.log",
    wildcard_constraints:
        kind="sparse_double_descent|backwards_walk|memorization",
    conda:
        "../../envs/ddprune.yaml"
    params:
        kind=lambda wildcards: wildcards.kind,
        schemas={"dense": schema("dense"), "pruning": schema("pruning")},
    script:
        "../scripts/figure.py"


rule recovery_table:
    input:
        f"{RESULTS}/pruning.parquet",
    output:
        report(
            f"{RESULTS}/tables/{FAMILY}/recovery.html",
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
        f"{LOGS}/tables/{FAMILY}/recovery.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("pruning"),
    script:
        "../scripts/recovery_table.py"
