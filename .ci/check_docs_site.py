"""Checks of the built documentation site (run by .ci/docs after the Sphinx build).

1. ``pages``: every public name of docs/_apimap.py has its HTML page, and every gallery
   example page shows at least one figure that exists on disk.
2. ``browser URL PNG``: the page opened in headless Chromium: a screenshot that is not
   blank (several distinct colours, enough non-white pixels), and the rendered DOM holds
   the page's text and <img> elements whose URLs answer HTTP 200.

Usage::

    python .ci/check_docs_site.py pages docs/_build/html
    python .ci/check_docs_site.py browser http://127.0.0.1:8000/index.html shot.png
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MIN_COLOURS = 16            # a rendered page with text and a plot has hundreds
MIN_INK = 0.02              # fraction of pixels that are not (near) white
MIN_TEXT = 200              # characters of visible text in the page body


def _apimap():
    spec = importlib.util.spec_from_file_location("_apimap", ROOT / "docs" / "_apimap.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["_apimap"] = module
    spec.loader.exec_module(module)
    return module


class _Page(HTMLParser):
    """Visible text and <img> sources of an HTML document."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript"):
            self._skip += 1
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


def check_pages(html: Path) -> list[str]:
    problems = []
    home, _ = _apimap().api_map()
    for target in sorted(set(home.values())):
        page = html / "api" / "generated" / f"{target}.html"
        if not page.is_file():
            problems.append(f"no page for {target}: {page}")
    examples = sorted((html / "auto_examples").glob("plot_*.html"))
    if not examples:
        problems.append("the gallery has no example page")
    for page in examples:
        parser = _Page()
        parser.feed(page.read_text(encoding="utf-8"))
        figures = [src for src in parser.images if "sphx_glr_plot_" in src]
        if not figures:
            problems.append(f"{page.name}: no figure")
        for src in figures:
            if not (page.parent / urllib.parse.unquote(src)).is_file():
                problems.append(f"{page.name}: figure {src} missing")
    print(f"pages: {len(set(home.values()))} API pages, {len(examples)} gallery pages checked")
    return problems


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            if (Path(folder) / name).is_file():
                return str(Path(folder) / name)
    raise SystemExit("no chromium on PATH (.ci/docs installs Debian's chromium)")


def _headless(url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="chromium-")
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--window-size=1280,1600",
               "--virtual-time-budget=5000", *extra, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def check_browser(url: str, png: Path) -> list[str]:
    problems = []
    png.unlink(missing_ok=True)
    shot = _headless(url, f"--screenshot={png}")
    if not png.is_file():
        return [f"{url}: no screenshot (chromium exit {shot.returncode}: "
                f"{shot.stderr.strip()[-500:]})"]
    pixels = np.asarray(Image.open(png).convert("RGB"))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    ink = float(np.mean(pixels.min(axis=2) < 235))
    print(f"{url}: screenshot {png} {pixels.shape[1]}x{pixels.shape[0]}, {colours} colours, "
          f"{ink:.1%} non-white")
    if colours < MIN_COLOURS or ink < MIN_INK:
        problems.append(f"{png}: looks blank ({colours} colours, {ink:.1%} non-white)")
    dom = _headless(url, "--dump-dom")
    page = _Page()
    page.feed(dom.stdout)
    text = " ".join(page.text)
    print(f"{url}: {len(text)} characters of text, {len(page.images)} images")
    if len(text) < MIN_TEXT:
        problems.append(f"{url}: only {len(text)} characters of text in the rendered page")
    if not page.images:
        problems.append(f"{url}: no <img> in the rendered page")
    for src in page.images:
        if src.startswith("data:"):
            continue
        full = urllib.parse.urljoin(url, src)
        try:
            with urllib.request.urlopen(full, timeout=30) as answer:
                status, body = answer.status, answer.read()
        except OSError as error:
            status, body = error, b""
        if status != 200 or not body:
            problems.append(f"{url}: image {full} answers {status}")
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["pages"] and len(argv) == 2:
        problems = check_pages(Path(argv[1]))
    elif argv[:1] == ["browser"] and len(argv) == 3:
        problems = check_browser(argv[1], Path(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
