import os

import yaml
from snakemake.utils import validate

from forgetlab import jobs, targets
from forgetlab.analysis.plan import analysis_task
from forgetlab.compat.snakemake import local_cores
from forgetlab.config import resolve_config
from forgetlab.report import FIGURES as FIGURE_KINDS
from forgetlab.resources import local_threads, request_of, slurm_resources
from forgetlab.tracking import require_installed

# Glue between Snakemake and forgetlab.targets / forgetlab.resources, which enumerate the targets and requests of
# a resolved config: here only wildcards become plain values and the config becomes module constants.

# The whole config is checked before anything runs (every option of every task kind and training method, every
# name a section refers to), with every default filled in and every sweep expanded into stage variants.
_resolved, SEED_GROUPS = resolve_config(config)
config.clear()
config.update(_resolved)
# a tracker without its package stops here, not in every training job (a figures-only run trains nothing)
if not config["figures_only"]:
    require_installed(config["tracking"]["report_to"])

TASKS = list(config["tasks"])
ANALYSIS = config["analysis"]
ANALYSES = targets.analyses_of(config)
RESTORES = targets.restores_of(config)
FIGURES = targets.figures_of(config)
EVAL_ENTRIES = targets.eval_entries(config)
TRAIN_LOG_ENTRIES = targets.train_log_entries(config, SEED_GROUPS)
CHECKPOINT_MODELS = targets.checkpoint_models(config)
KL_SAMPLING = jobs.kl_sampling(config)
# config/cluster.yaml next to the Snakefile, unless the config names another file
with open(config["cluster_file"] or os.path.join(workflow.basedir, "config", "cluster.yaml")) as handle:
    CLUSTER = yaml.safe_load(handle) or {}
validate(CLUSTER, schema="../config/cluster.schema.yaml")


wildcard_constraints:
    **targets.wildcard_patterns(config),


def figure_outputs(name):
    """A figure's files, the PNG in the report with its caption (report/<name>.rst) under its category."""
    paths = targets.figure_paths(name)
    paths["png"] = report(paths["png"], caption=f"../report/{name}.rst", category=FIGURE_KINDS[name].category)
    return list(paths.values())


def stage_spec(wildcards):
    return jobs.science(config["stages"][wildcards.stage])


def model_spec(wildcards):
    return jobs.science(config["models"][wildcards.model])


def task_spec(name):
    return config["tasks"][name]


def evaluation_task(wildcards):
    return jobs.evaluation_task(wildcards.evaluation, TASKS)


def evaluation_format(wildcards):
    return jobs.evaluation_format(wildcards.evaluation, TASKS)


def divergence_task(wildcards):
    return jobs.divergence_task(wildcards.divergence)


def kl_inputs(wildcards):
    return jobs.kl_inputs(wildcards.model, wildcards.checkpoint, wildcards.divergence)


def analysis_inputs(wildcards):
    return jobs.analysis_inputs(config, wildcards.model, wildcards.checkpoint, wildcards.analysis)


def realign_inputs(wildcards):
    return jobs.realign_inputs(config, wildcards.model, wildcards.parent, wildcards.task)


def restore_inputs(wildcards):
    return jobs.restore_inputs(config, wildcards.model, wildcards.lineage)


def stage_train_data(wildcards):
    return jobs.stage_data(config, wildcards.stage)


def stage_replay_data(wildcards):
    return jobs.replay_data(config, wildcards.stage)


def replay_task_spec(wildcards):
    task = jobs.replay_task(config, wildcards.stage)
    return task_spec(task) if task else None


def _request(family, wildcards):
    return request_of(config, family, wildcards.model, wildcards.stage if family == "train" else None)


def train_threads(wildcards):
    # local_cores reads a Snakemake internal: None under an executor without a core limit (a cluster)
    return local_threads(local_cores(workflow), _request("train", wildcards))


def job_resources(family):
    """A rule family's resources in the SLURM plugin's names, resolved per job and per attempt (retries ask for
    more). Local runs ignore them."""

    def resolve(key):
        return lambda wildcards, attempt: slurm_resources(_request(family, wildcards), CLUSTER, attempt)[key]

    return {key: resolve(key) for key in slurm_resources(config["resources"][family], CLUSTER)}
