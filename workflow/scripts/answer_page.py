from ddprune.jobs.report import AnswerTables, answer_page
from ddprune.jobs.snakemake import start

files = snakemake.input
study = start(snakemake)
answer_page(
    study,
    AnswerTables.read(
        files.answer,
        files.comparisons,
        files.threshold,
        files.get("compression"),
        files.get("claims"),
        snakemake.params.registration,
    ),
    figure=files.figure,
    template=files.template,
    page=snakemake.output.page,
    landing=snakemake.output.landing,
)
