"""Dense training: draw the label noise, train every run, aggregate the sweep."""


rule labels:
    input:
        data=data_file,
    output:
        f"{RESULTS}/labels/{{dataset}}/noise{{noise}}/seed{{seed}}.parquet",
    log:
        f"{LOGS}/labels/{{dataset}}/noise{{noise}}/seed{{seed}}.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        study=STUDY.name,
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        schema=schema("labels"),
    script:
        "../scripts/draw_labels.py"


rule train:
    input:
        labels=rules.labels.output[0],
        data=data_file,
    output:
        metrics=f"{RESULTS}/train/{RUN}/metrics.parquet",
        model=f"{RESULTS}/train/{RUN}/final.pt",
    log:
        f"{LOGS}/train/{RUN}.log",
    conda:
        "../../envs/ddprune.yaml"
    threads: config["platform"]["threads"]
    resources:
        gpu=GPUS_PER_JOB,
    params:
        study=STUDY.name,
        train=config["train"],
        checkpoint_every=CHECKPOINT_EVERY,
        keep_epochs=STUDY.kept_epochs(),
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        schemas={"labels": schema("labels"), "dense": schema("dense")},
    script:
        "../scripts/train.py"


rule solve:
    input:
        labels=solve_labels,
        data=data_file,
    output:
        dense=f"{SOLVED}/dense.parquet",
        compression=f"{SOLVED}/compression.parquet",
    log:
        f"{LOGS}/solve/{FAMILY}/noise{{noise}}/seed{{seed}}.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        study=STUDY.name,
        widths=solved_widths,
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        closed_form=config["closed_form"],
        schemas={
            "labels": schema("labels"),
            "dense": schema("dense"),
            "compression": schema("compression"),
        },
    script:
        "../scripts/solve.py"


rule aggregate_compression:
    input:
        [f"{SOLVED}/compression.parquet".format(**w) for w in STUDY.solved_seeds],
    output:
        f"{RESULTS}/compression.parquet",
    log:
        f"{LOGS}/aggregate_compression.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("compression"),
    script:
        "../scripts/aggregate.py"


rule aggregate_dense:
    input:
        dense_tables(),
    output:
        f"{RESULTS}/dense.parquet",
    log:
        f"{LOGS}/aggregate_dense.log",
    conda:
        "../../envs/ddprune.yaml"
    params:
        schema=schema("dense"),
    script:
        "../scripts/aggregate.py"
