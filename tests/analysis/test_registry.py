"""The analysis registry: each registered analysis reaches the config, the figures, the command line and the
workflow's task choice from its one module; the dispatch runs any registered analysis."""

import subprocess
import sys
from dataclasses import dataclass

import pytest

from forgetlab.analysis import registry
from forgetlab.analysis.base import Analysis
from forgetlab.analysis.config import AnalysisConfig
from forgetlab.analysis.plan import analysis_task
from forgetlab.analysis.run import run_analysis
from forgetlab.cli import build_parser
from forgetlab.options import Options, option
from forgetlab.report import FIGURES, active_figures


def test_every_registered_analysis_has_its_section_figure_and_flags():
    parser = build_parser()
    defaults = AnalysisConfig().to_dict()
    assert {"svd", "update", "attention", "concepts", "probe", "drift", "flips", "token_shift"} <= set(
        registry.ANALYSES
    )
    for name, analysis in registry.ANALYSES.items():
        assert defaults[name] == analysis.options().to_dict()
        assert FIGURES[name].needs == name and FIGURES[name].draw == f"analysis.{name}:draw"
        assert set(analysis.flags) <= set(analysis.options.option_fields())
        flags = [f"--{flag.replace('_', '-')}" for flag in analysis.flags]
        values = {"fraction": "0.1", "n": "4", "top_n": "3", "top_k": "2", "label": "operator", "words": "add"}
        args = parser.parse_args(
            ["analyse", name, "--reference", "r", "--model", "m", "--out", "o.json"]
            + [part for flag, key in zip(flags, analysis.flags) for part in (flag, values[key])]
        )
        assert args.analysis == name and all(getattr(args, key) is not None for key in analysis.flags)
    assert active_figures(["probe"]).count("probe") == 1 and "svd" not in active_figures(["probe"])


def test_a_weight_analysis_reads_a_task_only_when_its_options_name_one():
    config = {
        "analysis": {**AnalysisConfig().to_dict(), "task": "countdown"},
        "figures": {"prior_task": "arithmetic"},
        "evaluate": {"tasks": ["countdown"]},
    }
    assert analysis_task(config, "svd") is None
    assert analysis_task(config, "concepts") is None
    config["analysis"]["concepts"]["task"] = "arithmetic"
    assert analysis_task(config, "concepts") == "arithmetic"
    assert analysis_task(config, "probe") == "countdown"
    assert analysis_task(config, "flips") == "countdown"  # compares evaluation samples of the analysis task


def test_reading_the_registry_and_the_figure_list_imports_no_torch_or_matplotlib():
    code = (
        "import sys, forgetlab.config, forgetlab.report, forgetlab.analysis.registry; "
        "print(sorted({'torch', 'matplotlib', 'transformers'} & set(sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


@dataclass(kw_only=True)
class CountConfig(Options):
    """Tensors of the checkpoint's weight files."""

    scale: int = option(1, "a factor", minimum=1)


def _count(inputs) -> dict:
    from forgetlab.analysis.weights import WeightReader

    names = WeightReader(inputs.model_dir).names()
    return {"summary": {"tensors": inputs.options.scale * len(names)}, "rows": [{"name": n} for n in names]}


def test_a_new_analysis_is_one_module_the_dispatch_runs(tiny_model, monkeypatch):
    toy = Analysis("count", CountConfig, _count, draw=lambda data, outputs: [], reads_items=False, flags=("scale",))
    monkeypatch.setitem(registry.ANALYSES, "count", toy)
    result = run_analysis("count", tiny_model, tiny_model, {"scale": 2})
    assert result["summary"]["tensors"] == 2 * len(result["rows"]) > 0
    with pytest.raises(ValueError, match=r"analysis\.count\.scale"):
        run_analysis("count", tiny_model, tiny_model, {"scale": 0})
    with pytest.raises(ValueError, match="unknown analysis 'nope'"):
        run_analysis("nope", tiny_model, tiny_model, {})
