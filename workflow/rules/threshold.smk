"""Find the interpolation threshold and fan out over the checkpoints selected around it."""


checkpoint threshold:
    """Find the IT of every family on validation and select checkpoints around it."""
    input:
        LAYOUT.dense,
    output:
        LAYOUT.threshold,
    log:
        LAYOUT.log("threshold"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        config=config["threshold"],
    script:
        "../scripts/threshold.py"


rule verify_selected:
    """Reload one selected checkpoint; it must reproduce its recorded metrics."""
    input:
        threshold=LAYOUT.threshold,
        checkpoint=selected_checkpoint_file,
        metrics=LAYOUT.metrics,
        labels=LAYOUT.labels,
        data=data_file,
    output:
        LAYOUT.verified,
    log:
        LAYOUT.log(f"selected/{RUN}/epoch{{epoch}}"),
    conda:
        "../../envs/ddprune.yaml"
    threads: config["platform"]["threads"]
    resources:
        gpu=GPUS_PER_JOB,
    params:
        train=config["train"],
        options=lambda wc: STUDY.dataset_options(wc.dataset),
    script:
        "../scripts/verify_selected.py"


rule aggregate_selection:
    """Concatenate the verified selection into selection.parquet."""
    input:
        lambda wildcards: selected_paths(LAYOUT.verified),
    output:
        LAYOUT.selection,
    log:
        LAYOUT.log("aggregate_selection"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        table="selection",
    script:
        "../scripts/aggregate.py"
