"""The ``>>>`` examples of the getting-started page and the user guide run as written.

Each page is one doctest (its examples share a namespace, top to bottom, as a reader
runs them), with the options a page asks for inline (``# doctest: +ELLIPSIS``).  The
pages print rounded numbers and test tolerances as booleans, so no example depends on
the last bits of an eigensolver or BLAS kernel.
"""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p for p in [DOCS / "getting_started.md", *(DOCS / "guide").glob("*.md")]
               if ">>>" in p.read_text(encoding="utf-8"))


def test_the_guide_has_examples():
    assert len(PAGES) >= 5, [p.name for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_examples(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)              # a page that writes files writes them here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # a page may show a warning on purpose
        result = doctest.testfile(str(page), module_relative=False, verbose=False,
                                  report=True, encoding="utf-8",
                                  optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {page.name} failed"
