"""The book's configuration for one build: ``_config.yml``, plus the repository,
issue, Binder and Colab buttons only when a real repository address is configured
in ``BOOK_REPOSITORY_URL`` (``https://github.com/<owner>/<name>``; the publishing
workflow sets it). Without one the pages show no such buttons, rather than buttons
that point at a placeholder.

    python scripts/book_config.py book/_build/config.yml   # then: jupyter-book build --config ...
"""

import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = "BOOK_REPOSITORY_URL"
# Binder and Colab take GitHub repositories only (sphinx-book-theme warns on others)
GITHUB = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def repository_url(value: str | None) -> str | None:
    """The configured address, checked; None when none is configured."""
    if not value or not value.strip():
        return None
    url = value.strip().rstrip("/")
    if not GITHUB.fullmatch(url) or url.endswith("/OWNER/REPO"):
        raise ValueError(f"{ENV}={value!r} is not accepted: a GitHub repository address "
                         "such as https://github.com/owner/name, or unset for no buttons")
    return url


def book_config(base: dict, url: str | None) -> dict:
    """``base`` with the repository and launch buttons when ``url`` is given."""
    config = {k: v for k, v in base.items() if k not in ("repository", "launch_buttons")}
    html = {k: v for k, v in (base.get("html") or {}).items()
            if k not in ("use_repository_button", "use_issues_button")}
    if url:
        config["repository"] = {"url": url, "path_to_book": "book", "branch": "main"}
        config["launch_buttons"] = {"notebook_interface": "classic",
                                    "binderhub_url": "https://mybinder.org",
                                    "colab_url": "https://colab.research.google.com"}
        html.update(use_repository_button=True, use_issues_button=True)
    if html:
        config["html"] = html
    else:
        config.pop("html", None)
    return config


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python scripts/book_config.py OUT.yml", file=sys.stderr)
        return 2
    try:
        url = repository_url(os.environ.get(ENV))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    base = yaml.safe_load((ROOT / "_config.yml").read_text())
    out.write_text(yaml.safe_dump(book_config(base, url), sort_keys=False))
    print(f"book configuration: {out} ({'buttons for ' + url if url else 'no repository buttons'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
