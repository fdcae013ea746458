# forgetlab: base -> SFT / GRPO / recovery -> evaluation -> tables -> figures.
# The config decides which models, tasks, stages and lineages exist; rules only declare targets.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    input:
        paths(eval_entries()),
        figure_targets(),


rule figures:
    input:
        figure_targets(),
