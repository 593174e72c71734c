"""Prune every checkpoint selected around the IT, by every configured method."""


rule prune:
    """Prune one selected checkpoint by one method, round by round."""
    input:
        threshold=LAYOUT.threshold,
        checkpoint=selected_checkpoint_file,
        rewind=rewind_checkpoint_file,
        counts=counts_table_file,
        labels=LAYOUT.labels,
        data=data_file,
    output:
        LAYOUT.rounds_table,
    log:
        LAYOUT.log(f"prune/{RUN}/epoch{{epoch}}/{{method}}"),
    group:
        network_group
    conda:
        "../../envs/ddprune.yaml"
    threads: STUDY.platform.threads
    resources:
        **NETWORK_RESOURCES,
    params:
        rounds=LAYOUT.rounds,  # each round's checkpoint and the resume point inside the next
        config=config_sections("train"),
        prune=STUDY.prune.job_values(),  # not prune.methods: another method reruns nothing here
        options=dataset_options,
    script:
        "../scripts/prune.py"


rule aggregate_prune:
    """Concatenate every pruning job's rounds into pruning.parquet."""
    input:
        lambda wildcards: pruned_paths(LAYOUT.rounds_table),
    output:
        LAYOUT.pruning,
    log:
        LAYOUT.log("aggregate_prune"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        table="pruning",
    script:
        "../scripts/aggregate.py"
