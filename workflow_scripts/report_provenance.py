"""Adapter: the run's provenance into results/provenance.yaml (rules/report.smk: report_provenance)."""

import sys

import yaml

from forgetlab.io import atomic_path
from forgetlab.provenance import provenance

sys.stderr = open(snakemake.log[0], "w")

params = snakemake.params
record = provenance(dict(params.config), params.checkpoints, params.code_dir, params.lock)
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(yaml.safe_dump(record, sort_keys=False))
