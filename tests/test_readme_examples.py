"""The README's examples of the general model and of the general master equation run as
written (each block is self-contained; a line that needs QuTiP is left out when QuTiP,
which only the ``bench`` extra installs, is missing)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def block_after(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    return match.group(1)


@pytest.mark.parametrize("heading", ["## Any collision model", "### Any Lindblad master equation"])
def test_readme_block_runs(heading):
    namespace: dict = {}
    code = block_after(heading)
    if importlib.util.find_spec("qutip") is None:
        code = "\n".join(line for line in code.splitlines() if "qutip" not in line)
    if "import numpy as np" not in code:
        code = "import numpy as np\nimport lindblad\n" + code
    exec(compile(code, f"README:{heading}", "exec"), namespace)
