"""The answer, first in the report: every pruned source's statistics over seeds, a page of
generated sentences with the numbers, and one figure."""


rule answer:
    """Every pruned source's statistics over seeds and the tested comparisons."""
    input:
        dense=LAYOUT.dense,
        threshold=LAYOUT.threshold,
        pruning=pruning_table,
        tuning=tuning_table,
    output:
        answer=LAYOUT.answer,
        comparisons=LAYOUT.comparisons,
    log:
        LAYOUT.log("answer/table"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        config=config_sections("prune", "threshold", "baselines", "answer"),
        registration=LAYOUT.registration,  # written before any job (common.smk's onstart)
    script:
        "../scripts/answer.py"


rule answer_page:
    """The answer page: four questions in generated sentences, the tests, the numbers."""
    input:
        unpack(compression_inputs),
        answer=LAYOUT.answer,
        comparisons=LAYOUT.comparisons,
        threshold=LAYOUT.threshold,
        figure=LAYOUT.answer_figure,
        template=workflow.source_path("../report/workflow.rst"),
    output:
        page=report(
            LAYOUT.answer_page,
            caption="../report/answer.rst",
            category="0. Answer",
            labels={"item": "answer: sentences and numbers"},
        ),
        landing=LAYOUT.landing,
    log:
        LAYOUT.log("answer/page"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        config=config_sections("prune", "answer"),
        registration=LAYOUT.registration,
    script:
        "../scripts/answer_page.py"


rule answer_figure:
    """The answer figure: Δ against both dense baselines and the walk gap."""
    input:
        LAYOUT.answer,
    output:
        report(
            LAYOUT.answer_figure,
            caption="../report/answer_figure.rst",
            category="0. Answer",
            labels={"item": "answer: figure"},
        ),
    log:
        LAYOUT.log("answer/figure"),
    conda:
        "../../envs/ddprune.yaml"
    script:
        "../scripts/answer_figure.py"


rule noise_figure:
    """The primary method's Δ at the IT against label noise."""
    input:
        LAYOUT.comparisons,
    output:
        report(
            LAYOUT.noise_figure,
            caption="../report/noise_figure.rst",
            category="0. Answer",
            labels={"item": "answer: against label noise"},
        ),
    log:
        LAYOUT.log("answer/noise_figure"),
    conda:
        "../../envs/ddprune.yaml"
    params:
        config=config_sections("answer"),
    script:
        "../scripts/noise_figure.py"
