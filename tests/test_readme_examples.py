"""The code of the README and of the user guide runs as written.

The README's ten-line examples, and the guide's examples of the general collision model
and of the general master equation (``docs/guide/general_model.md``, the blocks the
README used to carry), are executed block by block (each block is self-contained; a line
that needs QuTiP is left out when QuTiP, which only the ``bench`` extra installs, is
missing).  The guide's ``>>>`` examples are doctests:
``python -m pytest --doctest-glob='*.md' docs/getting_started.md docs/guide``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GENERAL_MODEL = ROOT / "docs" / "guide" / "general_model.md"


def blocks_after(path: Path, heading: str) -> list[str]:
    """The ```python blocks between ``heading`` and the next heading."""
    text = path.read_text()
    start = text.index(heading + "\n")
    following = re.compile(r"^#+ ", re.M).search(text, start + len(heading) + 1)
    section = text[start:following.start() if following else len(text)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


CASES = [
    (README, "## Ten lines of Python", 2),
    (GENERAL_MODEL, "## A first model", 1),
    (GENERAL_MODEL, "## Any Lindblad master equation", 1),
]


@pytest.mark.parametrize(("path", "heading", "n_blocks"), CASES,
                         ids=["readme-ten-lines", "guide-general-model",
                              "guide-any-master-equation"])
def test_documented_blocks_run(path, heading, n_blocks):
    code_blocks = blocks_after(path, heading)
    assert len(code_blocks) == n_blocks, (path.name, heading, len(code_blocks))
    namespace: dict = {}
    code = "\n".join(code_blocks)        # a section's blocks continue one another
    if importlib.util.find_spec("qutip") is None:
        code = "\n".join(line for line in code.splitlines() if "qutip" not in line)
    if "import numpy as np" not in code:
        code = "import numpy as np\nimport lindblad\n" + code
    exec(compile(code, f"{path.name}:{heading}", "exec"), namespace)
