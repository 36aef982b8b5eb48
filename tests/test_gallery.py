"""Checks of the sphinx-gallery scripts in ``examples/gallery``.

The docs build runs every script (``sphinx-build -W``); here only cheap checks of their
form, and (slow) that the fastest few run to completion on the non-interactive backend.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "examples" / "gallery"
SCRIPTS = sorted(p for p in GALLERY.glob("*.py"))
#: The fastest scripts (about 2 s each with a warm numba cache), run by the slow test.
FAST = ["plot_paper_fig3.py", "plot_memory.py", "plot_sweep_pandas.py"]
#: One example per paper figure and per topic of issue 21's gallery list.
REQUIRED = ["plot_paper_fig2.py", "plot_paper_fig3.py", "plot_paper_fig4.py",
            "plot_paper_fig5.py", "plot_paper_fig6.py", "plot_paper_fig7.py",
            "plot_convergence.py", "plot_delay.py", "plot_heat_statistics.py",
            "plot_model_detuned_cascade.py", "plot_model_dephasing.py",
            "plot_model_squeezed_reservoir.py", "plot_model_two_reservoirs.py",
            "plot_model_direct_coupling.py", "plot_memory.py", "plot_thermal_machine.py",
            "plot_sweep_pandas.py"]


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_gallery_has_its_header_and_every_required_example():
    assert (GALLERY / "GALLERY_HEADER.rst").is_file()
    names = {p.name for p in SCRIPTS}
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"gallery scripts missing: {missing}"
    assert len(SCRIPTS) >= 17


@pytest.mark.parametrize("path", SCRIPTS, ids=_ids(SCRIPTS))
def test_script_is_a_gallery_example(path: Path):
    """Named plot_*.py (sphinx-gallery runs only those), a module docstring whose first
    lines are an RST title and which has a paragraph of text, ``# %%`` cells, a figure
    at the end, and imports from the public packages only (nothing from examples/)."""
    assert re.fullmatch(r"plot_[a-z0-9_]+\.py", path.name), path.name
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    doc = ast.get_docstring(tree, clean=False)
    assert doc, f"{path.name} has no module docstring"
    lines = doc.strip("\n").splitlines()
    title, underline = lines[0], lines[1]
    assert title.strip() and title == title.strip(), f"{path.name}: bad title {title!r}"
    assert re.fullmatch(r"=+", underline) and len(underline) >= len(title), (
        f"{path.name}: the title {title!r} is not underlined with '=' of its length")
    body = "\n".join(lines[2:]).strip()
    assert len(body.split()) >= 30, f"{path.name}: the docstring needs a paragraph of physics"
    assert source.count("\n# %%\n") >= 2, f"{path.name}: needs text cells (# %%)"
    assert "plt.show()" in source.rstrip().splitlines()[-1], (
        f"{path.name}: should end in a figure (plt.show())")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [
                a.name for a in node.names]
            for module in modules:
                top = (module or "").split(".")[0]
                assert top not in ("examples", "tests", "benchmarks"), (
                    f"{path.name} imports {module}")
                assert not (module or "").startswith("collision.studies"), (
                    f"{path.name} imports the application layer {module}")


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST)
def test_fast_examples_run(name: str, tmp_path: Path):
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(GALLERY / name)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
