"""The report's text (report/*.rst) names figures and sections instead of saying where the page puts them:
Snakemake's report shows a figure beside its menu or in a panel of its own, never simply below the text."""

import re
from pathlib import Path

import pytest

from forgetlab.report import FIGURES

REPORT = Path(__file__).resolve().parents[2] / "report"
# "the figures below", "see above", "shown below": where the page puts things, which the report does not promise
PLACEMENT = re.compile(
    r"\b(?:figures?|tables?|plots?|sections?|results?|shown|see|as)\s+(?:below|above|beneath)\b"
    r"|\b(?:below|above|beneath)\s*[.:,;]?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


@pytest.mark.parametrize("caption", sorted(path.name for path in REPORT.glob("*.rst")))
def test_no_caption_says_where_the_page_places_a_figure(caption):
    text = " ".join((REPORT / caption).read_text().split())
    assert not PLACEMENT.search(text), PLACEMENT.search(text).group(0)


def test_the_workflow_description_names_the_sections_instead_of_pointing_below():
    text = " ".join((REPORT / "workflow.rst").read_text().split())
    assert not re.search(r"\b(below|above|beneath)\b", text, re.IGNORECASE)
    for category in {figure.category for figure in FIGURES.values()} | {"tables", "provenance"}:
        assert category in text


def test_the_placement_check_catches_what_it_should():
    assert PLACEMENT.search("the results gathered into the tables and figures below.")
    assert PLACEMENT.search("as shown above")
    assert not PLACEMENT.search("the change over the base (below zero is forgetting)")
    assert not PLACEMENT.search("angles far below it mean the directions are kept")
