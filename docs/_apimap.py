"""Which page of the API reference documents each public name (no Sphinx needed).

The modules of the reference are the dotted names listed in the ``autosummary`` blocks of
``docs/api/index.rst`` (the only list; ``docs/conf.py`` and ``tests/test_docs.py`` read
it).  A module's public names are its ``__all__`` or, without one, the classes and
functions it defines and the UPPER_CASE constants it assigns at top level, whose names do
not start with ``_``.

Every class and function gets one full page, at its *home*: the first listed module
(packages first, in the order of the list) that exports it and belongs to the same
package as the code that defines it.  Every other module that exports it links there,
so ``collision.HeatFluxes`` (a re-export) points to ``lindblad.HeatFluxes`` and
``collision.models.general.CollisionModel`` to ``collision.CollisionModel``; one object,
one page, one index entry.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

INDEX = Path(__file__).resolve().parent / "api" / "index.rst"
PACKAGES = ("collision", "lindblad")
_ENTRY = re.compile(r"^ {3}((?:collision|lindblad)(?:\.[a-z_][a-z0-9_]*)*)\s*$")


def listed_modules(index: Path = INDEX) -> list[str]:
    """The modules of the reference, in the order of ``docs/api/index.rst``."""
    names = [m.group(1) for line in index.read_text(encoding="utf-8").splitlines()
             if (m := _ENTRY.match(line))]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{index}: modules listed twice: {duplicates}")
    return names


def kind(obj: object) -> str | None:
    """``"exception"``, ``"class"``, ``"function"``, ``"module"`` or None (data)."""
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isroutine(obj) or callable(obj) and hasattr(obj, "py_func"):  # numba
        return "function"
    return None


def _constants(module) -> list[str]:
    """UPPER_CASE names assigned at the top level of the module's source."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        names += [t.id for t in targets if isinstance(t, ast.Name)
                  and re.fullmatch(r"[A-Z][A-Z0-9_]*", t.id)]
    return names


def public_names(module) -> list[str]:
    """The module's ``__all__``, or the classes and functions it defines and its
    UPPER_CASE constants."""
    explicit = getattr(module, "__all__", None)
    if explicit is not None:
        return [n for n in explicit if n == "__version__" or not n.startswith("__")]
    defined = {n for n, obj in vars(module).items()
               if not n.startswith("_") and kind(obj) in ("class", "exception", "function")
               and getattr(obj, "__module__", None) == module.__name__}
    return sorted(defined | set(_constants(module)))


def _package(dotted: str | None) -> str:
    return (dotted or "").split(".")[0]


@dataclass
class ModuleEntries:
    """What one module page shows: its own pages by kind, and links to other homes."""

    own: dict[str, list[str]] = field(default_factory=lambda: {
        "class": [], "exception": [], "function": [], "data": []})
    elsewhere: list[tuple[str, str, str]] = field(default_factory=list)  # name, role, target
    submodules: list[str] = field(default_factory=list)                  # listed modules


def api_map(index: Path = INDEX) -> tuple[dict[str, str], dict[str, ModuleEntries]]:
    """``(home, entries)``: each public dotted name -> the dotted name of its page, and
    each listed module -> :class:`ModuleEntries`."""
    modules = listed_modules(index)
    imported = {name: importlib.import_module(name) for name in modules}
    # Packages first (in list order), then the rest in list order.
    order = [m for m in modules if "." not in m] + [m for m in modules if "." in m]
    canonical_home: dict[int, str] = {}
    for modname in order:
        module = imported[modname]
        for name in public_names(module):
            obj = getattr(module, name)
            k = kind(obj)
            if k in ("class", "exception", "function") and id(obj) not in canonical_home \
                    and _package(getattr(obj, "__module__", None)) == _package(modname):
                canonical_home[id(obj)] = f"{modname}.{name}"
    home: dict[str, str] = {}
    entries: dict[str, ModuleEntries] = {}
    for modname in modules:
        module = imported[modname]
        entry = entries[modname] = ModuleEntries()
        for name in public_names(module):
            obj = getattr(module, name)
            k = kind(obj)
            full = f"{modname}.{name}"
            if k == "module":
                if obj.__name__ in imported:
                    entry.submodules.append(obj.__name__)
                    home[full] = obj.__name__
                continue
            if k is None:
                entry.own["data"].append(name)
                home[full] = full
                continue
            target = canonical_home.setdefault(id(obj), full)
            home[full] = target
            if target == full:
                entry.own[k].append(name)
            else:
                role = {"function": "func", "exception": "exc"}.get(k, "class")
                entry.elsewhere.append((name, role, target))
    return home, entries
