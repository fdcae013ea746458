"""Adapter: a model's stored weight spectra (rules/analysis.smk: analysis_spectrum)."""

import sys

from forgetlab.analysis.spectrum import write_spectra
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

count = write_spectra(snakemake.input[0], snakemake.output[0], snakemake.params.matrices)
print(f"{count} weights")
