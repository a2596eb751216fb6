"""bench.finder_compare: two finders on the same photos, photo by photo."""

import json

from bench import finder_compare
from edge.devices.scanner import docfind


def test_the_same_finder_moves_no_photo_and_a_broken_one_moves_every_photo(tmp_path, capsys):
    broken = tmp_path / "docfind_broken.py"
    broken.write_text(open(docfind.__file__).read() + "\n\ndef detect(image):\n    return None\n")
    report = finder_compare.main(["--base", docfind.__file__, "--out", str(tmp_path / "rows.jsonl"),
                                  "tune:plain:800x600:1000-1001"])
    s = report["tune:plain:800x600:1000-1001"]
    assert s["photos"] == 2 and s["moved"] == 0 and s["base"]["mean_iou"] == s["new"]["mean_iou"] > 0.9
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert [r["photo"] for r in rows] == ["tune:plain/1000@800x600", "tune:plain/1001@800x600"]
    report = finder_compare.main(["--base", docfind.__file__, "--new", str(broken), "tune:plain:800x600:1000-1001"])
    s = report["tune:plain:800x600:1000-1001"]
    assert s["moved"] == 2 and s["new"]["no_page"] == 2 and s["new"]["mean_iou"] == 0.0
    assert capsys.readouterr().out.count("MOVED ") == 2


def test_verdicts():
    assert finder_compare.verdict(0.95, 0.9, True, 0.8) == "right"
    assert finder_compare.verdict(0.5, 0.9, True, 0.8) == "CONFIDENTLY WRONG"
    assert finder_compare.verdict(0.95, 0.5, True, 0.8) == "asked but right"
    assert finder_compare.verdict(0.5, 0.5, True, 0.8) == "asked and wrong"
    assert finder_compare.verdict(0.0, 0.0, False, 0.8) == "no page"
