"""Sphinx configuration of the cascade-collisions documentation site.

Build (no network needed): ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The packages of this checkout, not a stale installed copy.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import collision  # noqa: E402

project = "cascade-collisions"
author = "the cascade-collisions developers"
copyright = "2026, " + author
release = collision.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "**/*.md5",
                    "**/*.codeobj.json", "auto_examples/sg_execution_times.rst"]
templates_path = ["_templates"]

# --- API reference -------------------------------------------------------------------
# One page per public module, class and function (docs/api/index.rst lists the public
# modules; the templates list each module's __all__).  tests/test_docs.py checks that
# every public name has a page and a docstring, without Sphinx.
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_ignore_module_all = False      # members = the module's __all__
autosummary_imported_members = False        # modules without __all__: their own names only
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"                  # the numpydoc Parameters section says it
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False         # the class template documents its members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()
# collision re-exports a few lindblad classes (HeatFluxes, HeatStatistics): their pages
# under collision point to lindblad's and are not indexed twice (one object, one target).
autosummary_context = {
    "reexported": sorted(
        f"collision.{name}" for name in collision.__all__
        if getattr(getattr(collision, name), "__module__", "").startswith("lindblad")),
}

# --- no network: intersphinx deliberately off ---------------------------------------
intersphinx_mapping: dict = {}

# --- MyST (user guide pages) ---------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- gallery -------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "plot_gallery": "True",
}

# --- HTML ----------------------------------------------------------------------------
html_theme = "furo"
html_title = f"cascade-collisions {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
