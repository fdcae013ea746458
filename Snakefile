# forgetlab: base -> SFT / GRPO / recovery -> evaluation -> tables -> figures.
# The config decides which models, tasks, stages and lineages exist; rules only declare targets.
import os
import sys
from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import min_version

from forgetlab.config import missing_sections
from forgetlab.provenance import lock_differences

min_version("9.0")


# The embedded default, unless --configfile names the run's config: Snakemake would merge the two, and a
# preset would then also train the default's model and stages.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# --configfile replaces the embedded default rather than adding to it: an overlay given alone lacks the sections it
# does not change, and one line says how to run it instead of a message per missing option.
if workflow.overwrite_configfiles and (missing := missing_sections(config)):
    # the files as given where they lie under the working directory (Snakemake makes them absolute)
    files = " ".join(
        os.path.relpath(path) if str(path).startswith(os.getcwd() + os.sep) else str(path)
        for path in workflow.overwrite_configfiles
    )
    sys.exit(
        f"config: {files} lacks {', '.join(missing)}; --configfile replaces config/config.yaml, so name that first: "
        f"snakemake all --configfile config/config.yaml {files}"
    )


report: "report/workflow.rst"


# the exact versions the suite passed with (README: Install)
LOCK_FILE = os.path.join(workflow.basedir, "requirements", "cpu.lock")


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/evaluate.smk"
include: "rules/analysis.smk"
include: "rules/report.smk"


# An install whose versions differ from the ones the suite passed with is named before any job runs (and in
# every cluster job's log, where the Snakefile is read again).
for name, versions in lock_differences(Path(LOCK_FILE).read_text()).items():
    logger.warning(
        f"{name} {versions['installed']} is installed; requirements/cpu.lock was tested with {versions['locked']}"
    )


rule all:
    input:
        targets.paths(EVAL_ENTRIES),
        targets.figure_targets(config),
        "results/tables/predictors.csv",
        "results/tables/diagnosis.csv",
        targets.overlap_targets(config),
        "results/provenance.yaml",


rule figures:
    input:
        targets.figure_targets(config),
        "results/tables/predictors.csv",
        "results/tables/diagnosis.csv",
        targets.overlap_targets(config),
