"""Figures and tables for the report, one set per (dataset, model) family."""


rule double_descent_figure:
    input:
        f"{RESULTS}/dense.parquet",
    output:
        report(
            f"{RESULTS}/figures/{{dataset}}/{{model}}/double_descent.png",
            caption="../report/double_descent.rst",
            category="1. Double descent",
            subcategory="{dataset} / {model}",
            labels={
                "dataset": "{dataset}",
                "model": "{model}",
                "figure": "double descent",
            },
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/{{model}}/double_descent.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("dense"),
    script:
        "../scripts/plot_double_descent.py"


rule dense_summary_table:
    input:
        f"{RESULTS}/dense.parquet",
    output:
        report(
            f"{RESULTS}/tables/{{dataset}}/{{model}}/dense_summary.html",
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
        f"{LOGS}/tables/{{dataset}}/{{model}}/dense_summary.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("dense"),
    script:
        "../scripts/dense_summary.py"
