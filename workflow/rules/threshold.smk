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
        # The patterns of the checkpoints it may select, not filled in here.
        final=lambda wildcards: LAYOUT.final_checkpoint,
        checkpoints=lambda wildcards: LAYOUT.checkpoints,
        config=config_sections("threshold"),
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
    group:
        network_group
    conda:
        "../../envs/ddprune.yaml"
    threads: STUDY.platform.threads
    resources:
        **NETWORK_RESOURCES,
    params:
        config=config_sections("train"),
        options=dataset_options,
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
