"""The version of the ``cascade-collisions`` distribution (``lindblad`` and ``collision``).

Read from the installed package's metadata; in a source checkout without metadata (the
folders on ``PYTHONPATH``, nothing installed) from the ``pyproject.toml`` beside the
packages, and ``"0+unknown"`` when neither exists.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Name of the distribution on PyPI / in ``pip list``.
DISTRIBUTION = "cascade-collisions"
#: The version when neither the metadata nor a ``pyproject.toml`` tells it.
UNKNOWN = "0+unknown"


def source_version(pyproject: Path) -> str | None:
    """``version = "..."`` of the ``[project]`` table of ``pyproject``, or None if the file
    is missing or does not describe this distribution."""
    try:
        text = pyproject.read_text(encoding="utf-8-sig")
    except OSError:
        return None
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if project is None or not re.search(rf'^name\s*=\s*"{DISTRIBUTION}"', project.group(1),
                                        re.M):
        return None
    found = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M)
    return found.group(1) if found else None


def package_version() -> str:
    """The installed version of :data:`DISTRIBUTION`, else that of the source checkout."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return source_version(Path(__file__).resolve().parents[1] / "pyproject.toml") \
            or UNKNOWN


__version__ = package_version()
