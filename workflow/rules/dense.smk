"""Dense training: draw the label noise, train every run, aggregate the sweep."""


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
    conda:
        "../../envs/ddprune.yaml"
    threads: STUDY.platform.threads
    resources:
        gpu=GPUS_PER_JOB,
    params:
        checkpoints=LAYOUT.checkpoints,  # periodic checkpoints and resume points
        config=config_sections("train"),
        keep_epochs=STUDY.kept_epochs(),
        options=dataset_options,
    script:
        "../scripts/train.py"


rule solve:
    """Solve the closed-form models of one family at every width and seed."""
    input:
        labels=solve_labels,
        data=data_file,
    output:
        dense=LAYOUT.solved_dense,
        compression=LAYOUT.solved_compression,
    log:
        LAYOUT.log(f"solve/{FAMILY}/noise{{noise}}"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        seeds=lambda wc: STUDY.seeds(wc.dataset, wc.model, wc.noise),
        widths=lambda wc: [
            STUDY.widths(wc.dataset, wc.model, *parse_noise_wildcard(wc.noise), seed)
            for seed in STUDY.seeds(wc.dataset, wc.model, wc.noise)
        ],
        options=dataset_options,
        config=config_sections("closed_form"),
    script:
        "../scripts/solve.py"


rule aggregate_compression:
    """Concatenate the closed-form prune-vs-small rows."""
    input:
        [LAYOUT.solved_compression.format(**w) for w in STUDY.solved_families],
    output:
        LAYOUT.compression,
    log:
        LAYOUT.log("aggregate_compression"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        table="compression",
    script:
        "../scripts/aggregate.py"


rule compression_claims:
    """Test Chang et al.'s claims on each closed-form regime (paired by seed, Holm)."""
    input:
        LAYOUT.compression,
    output:
        LAYOUT.compression_claims,
    log:
        LAYOUT.log("compression_claims"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        config=config_sections("answer"),
    script:
        "../scripts/compression_claims.py"


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
