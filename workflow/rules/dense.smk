"""Dense training: draw the label noise, train every run, aggregate the sweep."""


rule labels:
    output:
        f"{RESULTS}/labels/{{dataset}}/noise{{noise}}/seed{{seed}}.parquet",
    params:
        study=STUDY.name,
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        schema=schema("labels"),
    log:
        f"{LOGS}/labels/{{dataset}}/noise{{noise}}/seed{{seed}}.log",
    script:
        "../scripts/draw_labels.py"


rule train:
    input:
        labels=rules.labels.output[0],
    output:
        metrics=f"{RESULTS}/train/{RUN}/metrics.parquet",
        model=f"{RESULTS}/train/{RUN}/final.pt",
    params:
        study=STUDY.name,
        train=config["train"],
        platform=config["platform"],
        options=lambda wc: STUDY.dataset_options(wc.dataset),
        schemas={"labels": schema("labels"), "dense": schema("dense")},
    threads: config["platform"]["threads"]
    log:
        f"{LOGS}/train/{RUN}.log",
    script:
        "../scripts/train.py"


rule aggregate_dense:
    input:
        run_paths(f"{RESULTS}/train/{RUN}/metrics.parquet"),
    output:
        f"{RESULTS}/dense.parquet",
    params:
        schema=schema("dense"),
    log:
        f"{LOGS}/aggregate_dense.log",
    script:
        "../scripts/aggregate.py"
