"""The closed-form route (after Chang et al. 2021): least-squares models of every width solved
exactly, one job per (dataset, model, noise) family, pruned by magnitude or Hessian score with
and without refitting, and the claims tested per regime. Their dense rows join the sweep's
dense table (dense.smk), so the threshold stage finds their IT like any family's."""


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
