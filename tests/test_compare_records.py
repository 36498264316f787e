"""scripts/compare_records.py: a retrained record against the committed one, field by field."""

import copy
import json
from pathlib import Path

RECORD = Path("results/cpu/cifar10-resnet20-bn-adam-lr0.0005-s0-cpu-bc6376bfb0.json")


def test_a_record_matches_itself_in_every_field(load_script):
    cmp = load_script("compare_records")
    rec = json.loads(RECORD.read_text())
    verdicts = {f: v for f, _, _, v in cmp.rows(rec, rec)}
    assert verdicts["key"] == "same" and verdicts["configuration"] == "same"
    assert verdicts["a0 (%)"] == "identical"
    assert verdicts["A_avr folded/array/additive (%)"] == "identical"
    assert verdicts["first epoch whose loss differs"] == "none"


def test_differences_are_reported_with_their_size(load_script, tmp_path, capsys):
    cmp = load_script("compare_records")
    rec = json.loads(RECORD.read_text())
    other = copy.deepcopy(rec)
    other["baseline_accuracy"] += 0.005
    other["noise_ablation"]["folded/array/additive"]["A_avr"] -= 0.02
    other["history"][3]["loss"] += 1e-7
    other["config"]["data_dir"] = "elsewhere.npz"          # where the data were: not compared
    other["environment"]["cpu_affinity"] = 1
    verdicts = {f: v for f, _, _, v in cmp.rows(rec, other)}
    assert verdicts["configuration"] == "same"
    assert verdicts["a0 (%)"] == "+0.5 pp"
    assert verdicts["A_avr folded/array/additive (%)"] == "-2 pp"
    assert verdicts["first epoch whose loss differs"] == "4"
    assert verdicts["environment: cpu_affinity"] == "differs"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(other))
    assert cmp.main([str(RECORD), str(path)]) == 0
    assert "| a0 (%) | 82.78 | 83.28 | +0.5 pp |" in capsys.readouterr().out
    assert cmp.main([str(RECORD), str(tmp_path / "missing.json")]) == 2
