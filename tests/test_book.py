"""The book's structure and configuration (what a build relies on)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_toc_is_in_captioned_parts_and_every_file_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    captions = [p["caption"] for p in toc["parts"]]
    assert captions == ["Method", "Results", "Mechanism", "Verdicts", "Appendix"]
    files = [c["file"] for p in toc["parts"] for c in p["chapters"]]
    assert files[0] == "method"
    for f in files:
        book = ROOT / "book"
        assert any((book / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f


def test_maths_is_served_offline_and_logs_stay_out_of_the_pages():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "sphinx-mathjax-offline" in cfg["sphinx"]["extra_extensions"]
    assert not cfg["sphinx"]["config"]["mathjax_path"].startswith("http")
    assert cfg["sphinx"]["config"]["nb_output_stderr"] == "remove"
    assert "dollarmath" in cfg["parse"]["myst_enable_extensions"]


def test_nothing_points_outside_the_repository():
    for path in [ROOT / "README.md", *ROOT.glob("book/*.md"), *ROOT.glob("notebooks/*.py"),
                 *ROOT.glob("src/helpers/**/*.py")]:
        if path.name in ("claims.py", "bookcheck.py"):  # the lead's file; the checker's patterns
            continue
        text = path.read_text()
        assert "PROTOCOL" not in text, path
        assert "/work/" not in text, path


def test_method_page_labels_every_metric_equation():
    text = (ROOT / "book" / "method.md").read_text()
    for label in ("eq-noise", "eq-ax", "eq-anorm", "eq-aavr"):
        assert f"$$ ({label})" in text


def _book_config_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_config", ROOT / "scripts/book_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_config_has_no_placeholder_buttons():
    text = (ROOT / "_config.yml").read_text()
    cfg = yaml.safe_load(text)
    assert "OWNER/REPO" not in text
    assert "repository" not in cfg and "launch_buttons" not in cfg
    assert not any((cfg.get("html") or {}).get(b) for b in ("use_repository_button",
                                                              "use_issues_button"))


def test_buttons_appear_only_with_a_real_repository_address(tmp_path, monkeypatch):
    bc = _book_config_script()
    base = yaml.safe_load((ROOT / "_config.yml").read_text())
    for unset in (None, "", "  "):
        assert bc.repository_url(unset) is None
    plain = bc.book_config(base, None)
    assert "repository" not in plain and "launch_buttons" not in plain
    assert plain["sphinx"] == base["sphinx"] and plain["execute"] == base["execute"]
    url = bc.repository_url("https://github.com/someone/lr-noise/")
    assert url == "https://github.com/someone/lr-noise"
    full = bc.book_config(base, url)
    assert full["repository"]["url"] == url and full["repository"]["path_to_book"] == "book"
    assert full["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert full["html"]["use_repository_button"] and full["html"]["use_issues_button"]
    for bad in ("https://github.com/OWNER/REPO", "github.com/a/b", "https://gitlab.com/a/b",
                "https://github.com/a"):
        with pytest.raises(ValueError, match="BOOK_REPOSITORY_URL="):
            bc.repository_url(bad)
    # the command line writes the file the build reads
    out = tmp_path / "config.yml"
    monkeypatch.setenv("BOOK_REPOSITORY_URL", url)
    assert bc.main([str(out)]) == 0
    assert yaml.safe_load(out.read_text())["repository"]["url"] == url
    monkeypatch.delenv("BOOK_REPOSITORY_URL")
    assert bc.main([str(out)]) == 0
    assert "repository" not in yaml.safe_load(out.read_text())
    monkeypatch.setenv("BOOK_REPOSITORY_URL", "nonsense")
    assert bc.main([str(out)]) == 2


def test_make_study_writes_into_an_ignored_folder():
    import shutil
    import subprocess

    if not shutil.which("make"):
        pytest.skip("no make")
    text = subprocess.run(["make", "-n", "study", "PROFILE=smoke"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    (line,) = [x for x in text.splitlines() if "helpers.ops.grid" in x]
    assert "--profile smoke --results-dir runs/study-smoke" in line
    assert "/runs/" in (ROOT / ".gitignore").read_text().split()


# words about the machines a project is developed on, not about a user's machine
DEV_TOOL_WORDS = re.compile(r"device[ ]tool|device[ ]call|lent[ ](H|GPU)|our[ ]lent", re.IGNORECASE)  # [ ]: so that this line is no match


def test_readme_is_short_and_speaks_of_the_users_machine():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    assert "OWNER/REPO" not in text
    docs = [ROOT / "README.md", ROOT / "Makefile", ROOT / "benchmarks/RESULTS.md",
            ROOT / "results/README.md", *ROOT.glob("book/*.md"), *ROOT.glob("notebooks/*.py"),
            *ROOT.glob("scripts/*"), *ROOT.glob("src/helpers/**/*.py"),
            *ROOT.glob("benchmarks/*.py")]
    found = [(p.name, m.group(0)) for p in docs if p.is_file()
             for m in DEV_TOOL_WORDS.finditer(p.read_text())]
    assert found == []


def test_readme_states_the_grids_size_per_seed():
    from helpers.ops import grid

    n = len(grid.study_cells())
    assert f"{n}\nmodels per training seed" in (ROOT / "README.md").read_text() \
        or f"{n} models per training seed" in (ROOT / "README.md").read_text()
