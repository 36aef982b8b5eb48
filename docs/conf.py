"""Sphinx configuration of the cascade-collisions documentation site.

Build (no network needed): ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

# The packages of this checkout, not a stale installed copy.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _apimap  # noqa: E402, I001
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
nitpicky = True                             # every cross-reference must resolve
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "**/*.md5",
                    "**/*.codeobj.json", "sg_execution_times.rst",
                    "auto_examples/sg_execution_times.rst"]   # CDN scripts; .ci/docs prints it
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
# Which page documents each public name, and what each module page lists
# (docs/_apimap.py; the modules are those listed in docs/api/index.rst).
_home, _entries = _apimap.api_map()
autosummary_context = {
    "api": {mod: {"own": e.own, "elsewhere": e.elsewhere, "submodules": e.submodules}
            for mod, e in _entries.items()},
}

# Cross-references: nitpicky, so every reference must resolve.  Docstrings refer to names
# as Python code sees them (``Result`` where it is imported, ``lindblad.correlations.
# quantum_discord`` for an object documented as ``lindblad.quantum_discord``): resolve
# such a name to the page of the object it denotes, found by importing it, or to the one
# documented object with that last component.  Ambiguous names and names that resolve
# to nothing still fail the build.  References into private modules and names (a leading
# underscore) and into the standard library or numpy/scipy (intersphinx is off: no
# network) are written as plain text.
nitpick_ignore_regex = [
    (r"py:.*", r"(.*\.)?_[A-Za-z0-9].*"),            # private modules and names
    (r"py:.*", r"(json|csv|os|pathlib|zipfile|io|concurrent|multiprocessing|typing|"
               r"collections|dataclasses|enum|numpy|np|scipy|matplotlib|pandas|pd|dask|"
               r"distributed|tqdm|numba|qutip|tomllib|tomli|pyarrow|hashlib|warnings|"
               r"signal|threading)(\..*)?"),
    (r"py:class", r"(int|float|complex|str|bytes|bool|dict|list|tuple|set|None|object|"
                  r"callable|ndarray|array_like|array-like|optional|default|Path|"
                  r"Sequence|Mapping|Iterable|Iterator|Callable|Any)"),
]


def _import_dotted(dotted: str):
    """The object a dotted name denotes, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _named(obj) -> bool:
    """A class, routine or property: an object with an identity of its own (a value such
    as ``()`` or ``1`` is shared by unrelated names)."""
    return isinstance(obj, (type, property, staticmethod, classmethod)) or callable(obj) \
        and hasattr(obj, "__qualname__")


def _page_of_object() -> dict[int, str]:
    """id(object) -> documented dotted name, for every documented class and function and
    every method and property of a documented class."""
    pages: dict[int, str] = {}
    for target in _home.values():
        obj = _import_dotted(target)
        if not _named(obj):
            continue
        pages.setdefault(id(obj), target)
        if isinstance(obj, type):
            for name, member in vars(obj).items():
                if not name.startswith("_") and _named(member):
                    pages.setdefault(id(member), f"{target}.{name}")
                    inner = getattr(member, "fget", None) or getattr(member, "__func__", None)
                    if inner is not None:
                        pages.setdefault(id(inner), f"{target}.{name}")
    return pages


_PAGES: dict[int, str] = {}


def _resolve_missing(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    if not _PAGES:
        _PAGES.update(_page_of_object())
    domain = env.get_domain("py")
    target = node["reftarget"].lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module:
        candidates = ([f"{module}.{cls}.{target}"] if cls else []) + [
            f"{module}.{target}", f"{module.rsplit('.', 1)[0]}.{target}", target]
    for candidate in candidates:
        obj = _import_dotted(candidate)
        new = _PAGES.get(id(obj)) if _named(obj) else None
        if new is None and obj is not None and candidate in _home:
            new = _home[candidate]
        if new is not None and new != node["reftarget"]:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], new, node, contnode)
    # One documented object of a fitting kind whose dotted name ends with this one.
    kinds = _KINDS.get(node["reftype"])
    suffix = "." + target
    matches = {}
    for name, _, objtype, *_ in domain.get_objects():
        if name.endswith(suffix) and (kinds is None or objtype in kinds) \
                and not any(p.startswith("_") for p in name.split(".")):
            obj = _import_dotted(name)
            matches.setdefault(_PAGES.get(id(obj), name) if _named(obj) else name, name)
    if len(matches) == 1:
        return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                   next(iter(matches.values())), node, contnode)
    # ``Class.attribute`` (an instance attribute in the class's Attributes section): the
    # class's page.
    for candidate in candidates:
        owner, _, attr = candidate.rpartition(".")
        obj = _import_dotted(owner) if owner else None
        if isinstance(obj, type) and id(obj) in _PAGES and not attr.startswith("_"):
            return domain.resolve_xref(env, node["refdoc"], app.builder, "class",
                                       _PAGES[id(obj)], node, contnode)
    # A real object outside the reference (not exported, or a value): code, no link.
    if any(_import_dotted(c) is not None for c in candidates):
        return contnode
    return None


_KINDS = {"func": {"function", "method"}, "meth": {"method", "function"},
          "class": {"class", "exception"}, "exc": {"exception", "class"},
          "data": {"data", "attribute"}, "attr": {"attribute", "property", "data"},
          "mod": {"module"}, "const": {"data", "attribute"}}


def _plain_values(app, what, name, obj, options, lines):
    """A constant without a doc-comment shows nothing, not its type's docstring."""
    doc = type(obj).__doc__
    if what in ("data", "attribute") and lines and isinstance(doc, str) \
            and not isinstance(obj, type):
        own = {line.strip() for line in doc.splitlines() if len(line.strip()) > 20}
        if sum(line.strip() in own for line in lines) >= 2 or " ".join(lines).strip() in own:
            lines[:] = []


def setup(app):
    app.connect("missing-reference", _resolve_missing, priority=400)
    app.connect("autodoc-process-docstring", _plain_values, priority=100)


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
    # DOCS_PLOT_GALLERY=0: pages without running the scripts (editing text only).
    "plot_gallery": "False" if os.environ.get("DOCS_PLOT_GALLERY") == "0" else "True",
}

# --- HTML ----------------------------------------------------------------------------
html_theme = "furo"
html_title = f"cascade-collisions {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
