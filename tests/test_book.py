"""The book's structure and configuration (what a build relies on)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_toc_is_in_captioned_parts_and_every_file_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    captions = [p["caption"] for p in toc["parts"]]
    assert captions == ["Method", "Results", "Mechanism", "Verdicts"]
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
