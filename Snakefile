# forgetlab: base -> SFT / GRPO / recovery -> evaluation -> tables -> figures.
# The config decides which models, tasks, stages and lineages exist; rules only declare targets.
from snakemake.utils import min_version

min_version("9.0")


# The embedded default, unless --configfile names the run's config: Snakemake would merge the two, and a
# preset would then also train the default's model and stages.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/evaluate.smk"
include: "rules/analysis.smk"
include: "rules/report.smk"


rule all:
    input:
        paths(eval_entries()),
        figure_targets(),
        "results/tables/predictors.csv",
        "results/provenance.yaml",


rule figures:
    input:
        figure_targets(),
        "results/tables/predictors.csv",
