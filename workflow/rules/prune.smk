"""Prune every checkpoint selected around the IT, by every configured method."""


rule prune:
    input:
        threshold=f"{RESULTS}/threshold.yaml",
        checkpoint=selected_checkpoint_file,
        rewind=rewind_checkpoint_file,
        labels=rules.labels.output[0],
        data=data_file,
    output:
        f"{PRUNE}/rounds.parquet",
    log:
        f"{LOGS}/prune/{RUN}/epoch{{epoch}}/{{method}}.log",
    conda:
        "../../envs/ddprune.yaml"
    threads: config["platform"]["threads"]
    resources:
        gpu=GPUS_PER_JOB,
    params:
        study=STUDY.name,
        train=config["train"],
        prune=config["prune"],
        checkpoint_every=CHECKPOINT_EVERY,
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        schemas={"labels": schema("labels"), "pruning": schema("pruning")},
    script:
        "../scripts/prune.py"


rule aggregate_prune:
    input:
        lambda wildcards: pruned_paths(f"{PRUNE}/rounds.parquet"),
    output:
        f"{RESULTS}/pruning.parquet",
    log:
        f"{LOGS}/aggregate_prune.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("pruning"),
    script:
        "../scripts/aggregate.py"
