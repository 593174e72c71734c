"""Find the interpolation threshold and fan out over the checkpoints selected around it."""


checkpoint threshold:
    input:
        f"{RESULTS}/dense.parquet",
    output:
        f"{RESULTS}/threshold.yaml",
    log:
        f"{LOGS}/threshold.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        study=STUDY.name,
        config=config["threshold"],
        schema=schema("dense"),
        checkpoint=lambda wildcards: CHECKPOINT,
    script:
        "../scripts/threshold.py"


rule verify_selected:
    input:
        threshold=f"{RESULTS}/threshold.yaml",
        checkpoint=selected_checkpoint_file,
        metrics=f"{RESULTS}/train/{RUN}/metrics.parquet",
        labels=rules.labels.output[0],
        data=data_file,
    output:
        f"{RESULTS}/selected/{RUN}/epoch{{epoch}}.parquet",
    log:
        f"{LOGS}/selected/{RUN}/epoch{{epoch}}.log",
    conda:
        "../../envs/ddprune.yaml"
    threads: config["platform"]["threads"]
    resources:
        gpu=GPUS_PER_JOB,
    params:
        study=STUDY.name,
        checkpoint_every=CHECKPOINT_EVERY,
        train=config["train"],
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        schemas={
            "labels": schema("labels"),
            "dense": schema("dense"),
            "selection": schema("selection"),
        },
    script:
        "../scripts/verify_selected.py"


rule aggregate_selection:
    input:
        lambda wildcards: selected_paths(
            f"{RESULTS}/selected/{RUN}/epoch{{epoch}}.parquet"
        ),
    output:
        f"{RESULTS}/selection.parquet",
    log:
        f"{LOGS}/aggregate_selection.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("selection"),
    script:
        "../scripts/aggregate.py"
