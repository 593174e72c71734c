"""Dense training: draw the label noise, train every run, aggregate the sweep (trained runs
and the closed-form families of closed_form.smk alike), and the dense baselines tuned at the
IT width once the threshold is known."""


rule labels:
    """Draw the label noise of one (dataset, noise, seed), train and validation splits."""
    input:
        data=data_file,
    output:
        LAYOUT.labels,
    log:
        LAYOUT.log("labels/{dataset}/noise{noise}/seed{seed}"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        options=dataset_options,
    script:
        "../scripts/draw_labels.py"


rule train:
    """Train (or resume) one dense run; its metrics and checkpoints."""
    input:
        labels=LAYOUT.labels,
        data=data_file,
    output:
        metrics=LAYOUT.metrics,
        model=LAYOUT.final_checkpoint,
    log:
        LAYOUT.log(f"train/{RUN}"),
    group:
        network_group
    conda:
        "../../envs/ddprune.yaml"
    threads: STUDY.platform.threads
    resources:
        **NETWORK_RESOURCES,
    params:
        checkpoints=LAYOUT.checkpoints,  # periodic checkpoints and resume points
        config=config_sections("train"),
        keep_epochs=STUDY.kept_epochs(),
        options=dataset_options,
    script:
        "../scripts/train.py"


rule tune:
    """Train (or resume) one weight-decay candidate at the IT width (baselines.weight_decay)."""
    input:
        labels=LAYOUT.labels,
        data=data_file,
    output:
        metrics=LAYOUT.tuned_metrics,
        model=LAYOUT.tuned_checkpoint,
    log:
        LAYOUT.log(f"tune/{RUN}/wd{{weight_decay}}"),
    group:
        network_group
    conda:
        "../../envs/ddprune.yaml"
    threads: STUDY.platform.threads
    resources:
        **NETWORK_RESOURCES,
    params:
        checkpoints=LAYOUT.tuned_checkpoints,
        config=config_sections("train"),
        options=dataset_options,
    script:
        "../scripts/tune.py"


rule aggregate_tuning:
    """Concatenate the tuned baseline's runs into tuning.parquet."""
    input:
        lambda wildcards: tuned_paths(LAYOUT.tuned_metrics),
    output:
        LAYOUT.tuning,
    log:
        LAYOUT.log("aggregate_tuning"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        table="tuning",
    script:
        "../scripts/aggregate.py"


rule aggregate_dense:
    """Concatenate every run's metrics into dense.parquet."""
    input:
        dense_tables(),
    output:
        LAYOUT.dense,
    log:
        LAYOUT.log("aggregate_dense"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        table="dense",
    script:
        "../scripts/aggregate.py"
