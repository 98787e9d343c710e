"""The rule and the gate that re-chose the `efficient` preset (bench/front_choice.py): the highest validation ratio
among candidates within 0.5 points of the default's validation OA, then the first of those, in that order, within
1 point of the default on the standard disjoint split; nothing is chosen while rows are missing."""
import json

from bench.front_choice import CANDIDATES, disjoint_deltas, select

NAMES = list(CANDIDATES)


def _rows(stats):
    return [{"candidate": n, "seed": s, "val_oa": oa, "val_q_ratio": q, "mean_rate": 0.05, "val_aa": oa}
            for n, (oa, q) in stats.items() for s in (0, 1, 2)]


def test_the_rule_takes_the_cheapest_eligible_and_the_gate_skips_what_fails_away_from_the_labels():
    default, t2, m1, m2, m3, lever = NAMES
    stats = {default: (0.63, 13.0), t2: (0.60, 29.0), m1: (0.68, 36.0), m2: (0.68, 47.0), m3: (0.62, 44.0),
             lever: (0.631, 59.0)}
    rows = _rows(stats)
    sel = select(rows, deltas={lever: -9.98, m2: -0.78, default: 0.0})
    assert sel["val_oa_floor"] == 0.63 - 0.005
    assert t2 not in sel["eligible"] and m3 not in sel["eligible"]  # below the floor
    assert sel["rule_choice"] == lever and sel["chosen"] == m2 and sel["settings"] == CANDIDATES[m2]
    # the gate cannot pass a candidate it has no rows for: no choice, and it says which rows it needs
    sel = select(rows, deltas={lever: -9.98})
    assert sel["chosen"] is None and m2 in sel["gate_note"]
    # a candidate without all three seeds: nothing is chosen
    assert select([r for r in rows if not (r["candidate"] == m1 and r["seed"] == 2)], deltas={m2: 0.0})["chosen"] \
        is None


def test_disjoint_deltas_match_rows_by_their_settings(tmp_path):
    default, _, _, m2 = NAMES[:4]

    def row(seed, oa, sets):
        return {"section": "standard", "seed": seed, "set": sets, "rc": 0, "snn": {"oa": oa}}

    sets = [f"{k}={json.dumps(v)}" for k, v in CANDIDATES[m2].items()]
    data = {"sections": {"standard": [row(s, 0.78, []) for s in (0, 1, 2)],
                         "standard | " + " | ".join(sets): [row(s, 0.77, sets) for s in (0, 1, 2)],
                         "potsdam": [row(s, 0.5, []) for s in (0, 1, 2)]}}
    path = tmp_path / "disjoint.json"
    path.write_text(json.dumps(data))
    d = disjoint_deltas(path)
    assert abs(d[default]) < 1e-12 and abs(d[m2] - (-1.0)) < 1e-9 and len(d) == 2
