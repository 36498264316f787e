"""The browser check of the built book: every page opened, nothing a reader should not see.

``python -m helpers.ops.bookcheck book/_build/html [--browser chromium] [--screenshots DIR]``

For every page of the built HTML it fails on
- a rendered traceback, log line, warning or progress bar (``FORBIDDEN``), or a
  machine path, in the page's visible text;
- maths left as raw ``$...$``, a MyST directive left unparsed, or a value printed as
  ``nan``, outside code;
- a broken internal link: a missing file, or a ``#fragment`` that is no ``id``
  of its target page (links to other sites are not followed);
and, with ``--browser``, opens each page with headless Chromium and fails when
the page's maths did not render (no MathJax output, or a MathJax error), or the
browser reports an uncaught JavaScript error. Screenshots go to ``--screenshots``
(never into the repository).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# What a reader must never see in a page: (name, pattern on the visible text).
FORBIDDEN = [
    ("traceback", re.compile(r"Traceback \(most recent call last\)|^\s*\w+(Error|Exception): ",
                             re.M)),
    ("log line", re.compile(r"\bI0000 |\babsl::|oneDNN custom operations|"
                            r"^\s*(WARNING|ERROR|INFO)[: ]", re.M)),
    ("warning", re.compile(r"\b\w*Warning: ")),
    ("progress bar", re.compile(r"\d+%\|")),
    ("machine path", re.compile(r"(/work/|/home/|/root/|/tmp/|\.venv/|site-packages)")),
]
RAW_MATH = re.compile(r"(?<![\\\w$])\$[^$\s][^$\n]{0,80}?\$(?!\w)")
# In the prose (code apart): a MyST directive printed instead of parsed (e.g. a table
# whose fence is malformed), and a missing value printed as "nan" instead of a dash.
PROSE = [("unparsed directive", re.compile(r"(?:^|\n)\s*(?::::|```)\{[\w-]+\}")),
         ("undefined value", re.compile(r"(?<![\w.])nan(?![\w(])"))]
SKIP_PAGES = {"genindex.html", "search.html"}
# JavaScript errors of the theme itself, harmless to a reader: Jupyter Book 1 loads
# sphinx-thebe's configuration script twice on every page (the live-code button is off).
KNOWN_JS_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


class _Page(HTMLParser):
    """Visible text (code and scripts apart), ids, links, and maths of one page."""

    HIDDEN = {"script", "style", "template"}
    CODE = {"pre", "code"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.prose, self.ids, self.links = [], [], set(), []
        self.math = 0
        self._stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for attr in ("href", "src"):
            if a.get(attr) and tag in ("a", "img", "script", "link"):
                self.links.append(a[attr])
        classes = (a.get("class") or "").split()
        if "math" in classes:
            self.math += 1
        if tag not in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"):
            flag = ("hidden" if tag in self.HIDDEN else
                    "code" if tag in self.CODE or "highlight" in " ".join(classes)
                    or "math" in classes else "")
            self._stack.append(flag)

    def handle_endtag(self, tag):
        if self._stack and tag not in ("br", "img", "meta", "link", "input", "hr"):
            self._stack.pop()

    def handle_data(self, data):
        if "hidden" in self._stack:
            return
        self.text.append(data)
        if "code" not in self._stack:
            self.prose.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def pages(root: Path) -> list[Path]:
    """The book's pages (the search and index pages and build reports apart)."""
    return sorted(p for p in root.rglob("*.html")
                  if p.name not in SKIP_PAGES and "_static" not in p.parts
                  and "reports" not in p.relative_to(root).parts
                  and "_sources" not in p.parts)


def text_problems(page: _Page) -> list[str]:
    text = "".join(page.text)
    out = [f"{name}: {m.group(0).strip()[:80]!r}"
           for name, pattern in FORBIDDEN for m in [pattern.search(text)] if m]
    prose = "".join(page.prose)
    m = RAW_MATH.search(prose)
    if m:
        out.append(f"raw maths: {m.group(0)!r}")
    out += [f"{name}: {m.group(0).strip()[:80]!r}"
            for name, pattern in PROSE for m in [pattern.search(prose)] if m]
    return out


def link_problems(root: Path, path: Path, page: _Page, cache: dict) -> list[str]:
    out = []
    for link in page.links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
            continue
        target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            out.append(f"broken link {link!r} (no file)")
            continue
        if parts.fragment and target.suffix == ".html":
            if target not in cache:
                cache[target] = parse(target)
            if unquote(parts.fragment) not in cache[target].ids:
                out.append(f"broken link {link!r} (no id {parts.fragment!r})")
    return out


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browser_problems(browser: str, path: Path, has_math: bool,
                     screenshot: Path | None = None) -> list[str]:
    """Open ``path`` in headless Chromium; check the maths rendered."""
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--virtual-time-budget=8000", "--window-size=1280,2400",
             "--enable-logging=stderr", "--v=0"]
    proc = subprocess.run(flags + ["--dump-dom", path.as_uri()], capture_output=True,
                          text=True, timeout=120)
    out = []
    if proc.returncode != 0 or "<body" not in proc.stdout:
        return [f"the browser could not open the page (exit {proc.returncode})"]
    dom = proc.stdout
    if has_math and "mjx-container" not in dom:
        out.append("maths not rendered (no MathJax output)")
    if "<mjx-merror" in dom:
        out.append("MathJax error in the page")
    for line in proc.stderr.splitlines():
        if "Uncaught" in line and "CONSOLE" in line \
                and not any(known in line for known in KNOWN_JS_ERRORS):
            out.append(f"JavaScript error: {line.strip()[:160]}")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(flags + [f"--screenshot={screenshot}", path.as_uri()],
                       capture_output=True, timeout=120)
    return out


def check(root: Path, browser: str | None = None, screenshots: Path | None = None) -> dict:
    """Problems per page (relative path -> list of messages; only pages with problems)."""
    root = root.resolve()
    problems, cache = {}, {}
    found = pages(root)
    if not found:
        return {"(book)": [f"no HTML page under {root}"]}
    for path in found:
        page = cache.setdefault(path, parse(path))
        msgs = text_problems(page) + link_problems(root, path, page, cache)
        if browser:
            shot = None
            if screenshots is not None:
                shot = screenshots / (str(path.relative_to(root)).replace("/", "_")
                                      .removesuffix(".html") + ".png")
            msgs += browser_problems(browser, path, page.math > 0, shot)
        if msgs:
            problems[str(path.relative_to(root))] = msgs
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="the built book, e.g. book/_build/html")
    ap.add_argument("--browser", nargs="?", const="auto",
                    help="open every page in headless Chromium (path, or auto)")
    ap.add_argument("--screenshots", type=Path, help="folder for one PNG per page")
    a = ap.parse_args(argv)
    browser = None
    if a.browser:
        browser = find_browser() if a.browser == "auto" else a.browser
        if browser is None:
            print("no Chromium found (apt-get install chromium)", file=sys.stderr)
            return 2
    problems = check(a.html, browser, a.screenshots)
    n = len(pages(a.html.resolve()))
    for page, msgs in problems.items():
        for m in msgs:
            print(f"{page}: {m}")
    print(f"[bookcheck] {n} pages, {len(problems)} with problems"
          + (f", opened in {browser}" if browser else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
