"""The API reference covers every public name, each with a docstring (no Sphinx needed).

The reference's modules are the dotted names in the autosummary blocks of
``docs/api/index.rst``; ``docs/_apimap.py`` (also used by ``docs/conf.py`` to write the
module pages) decides which page documents each public name.  These tests read those
sources, so they run in the normal suite without the ``docs`` extra; the Sphinx build
itself (``-W``, nitpicky) runs in ``.ci/docs``, which also checks that the page of every
name below was written.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import collision
import lindblad

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _load_apimap():
    spec = importlib.util.spec_from_file_location("_apimap", DOCS / "_apimap.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_apimap", module)      # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


apimap = _load_apimap()
LISTED = apimap.listed_modules()
HOME, ENTRIES = apimap.api_map()


def _obj(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _package_modules() -> list[str]:
    names = []
    for package in (collision, lindblad):
        names.append(package.__name__)
        names += [m.name for m in pkgutil.walk_packages(package.__path__,
                                                        package.__name__ + ".")
                  if not any(part.startswith("_") for part in m.name.split("."))]
    return sorted(names)


# The public surface: the packages' __all__ and every module named in it, plus the
# sweep package (DESIGN.md's ``collision.sweep``).
def _public_surface() -> list[str]:
    names = {f"collision.sweep.{n}" for n in collision.sweep.__all__}
    for package in (collision, lindblad):
        for name in package.__all__:
            names.add(f"{package.__name__}.{name}")
            member = getattr(package, name)
            if inspect.ismodule(member):
                names |= {f"{member.__name__}.{n}" for n in apimap.public_names(member)}
    return sorted(names)


TOP_LEVEL = _public_surface()

# Every class and function with a page (one per object).
DOCUMENTED = sorted({target for target in HOME.values()
                     if target not in LISTED
                     and apimap.kind(_obj(target)) in ("class", "exception", "function")})


def test_index_lists_modules():
    """The parser of docs/api/index.rst finds the packages and the public modules."""
    for name in ("collision", "lindblad", "collision.presets", "collision.sweep",
                 "lindblad.states", "lindblad.closed_form", "lindblad.correlations",
                 "lindblad.thermal"):
        assert name in LISTED


def test_every_public_module_is_in_the_reference():
    """Each module of collision and lindblad without a leading underscore is listed
    (a new module must be added to docs/api/index.rst), and each listed module exists."""
    modules = _package_modules()
    assert sorted(set(modules) - set(LISTED)) == []
    assert sorted(set(LISTED) - set(modules)) == []


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_public_name_has_a_page(name):
    """Every name of the public surface is documented on a page of a listed module:
    its own page, or its module's page (constants), or a module's page (modules)."""
    target = HOME.get(name)
    assert target is not None, f"{name} has no page in the API reference"
    if target in LISTED:
        assert inspect.ismodule(_obj(name)) and _obj(name).__name__ == target
        return
    module, _, short = target.rpartition(".")
    assert module in LISTED, f"{name} -> {target}: module {module} is not listed"
    own = ENTRIES[module].own
    assert short in own["class"] + own["exception"] + own["function"] + own["data"], (
        f"{name} -> {target} is not among the pages of {module}")
    assert _obj(target) is _obj(name)


def _own_doc(obj) -> str:
    """The object's own docstring (a dataclass's generated signature does not count)."""
    doc = obj.__doc__ if isinstance(getattr(obj, "__doc__", None), str) else ""
    if inspect.isclass(obj) and re.fullmatch(rf"{re.escape(obj.__name__)}\(.*\)", doc.strip(),
                                             re.S):
        return ""
    return doc.strip()


@pytest.mark.parametrize("name", DOCUMENTED)
def test_documented_object_has_a_docstring(name):
    """Every class and function of the reference has a docstring, and so has every
    public method and property of a class (inherited docstrings count)."""
    obj = _obj(name)
    assert _own_doc(obj), f"{name} has no docstring"
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        missing = []
        for attr, member in vars(obj).items():
            if attr.startswith("_"):
                continue
            if isinstance(member, property):
                doc = member.__doc__
            elif inspect.isfunction(member) or isinstance(member, (staticmethod, classmethod)):
                doc = inspect.getdoc(getattr(obj, attr))      # inherited docstrings count
            else:
                continue
            if not (doc or "").strip():
                missing.append(attr)
        assert missing == [], f"{name}: members without a docstring: {missing}"


def test_each_object_has_one_page():
    """No class or function is documented on two pages (one object, one index entry);
    every other module exporting it links to the one page."""
    pages: dict[int, str] = {}
    for target in DOCUMENTED:
        obj = _obj(target)
        assert pages.setdefault(id(obj), target) == target, (
            f"{target} and {pages[id(obj)]} are the same object")
    for module, entry in ENTRIES.items():
        for short, _, target in entry.elsewhere:
            assert _obj(f"{module}.{short}") is _obj(target)
            assert target in DOCUMENTED


def test_surface_is_not_empty():
    """The reference holds the names of DESIGN.md section 4 (guards against a parser
    that silently finds nothing)."""
    for name in ("collision.CollisionModel", "collision.CascadeCollisionModel",
                 "collision.GaussianCollisionModel", "collision.Collision",
                 "lindblad.CascadeMasterEquation", "lindblad.GaussianMasterEquation",
                 "lindblad.MasterEquation", "lindblad.HeatFluxes", "lindblad.states.thermal",
                 "lindblad.states.product", "collision.presets.cascade", "collision.sweep.run"):
        assert name in DOCUMENTED, name
