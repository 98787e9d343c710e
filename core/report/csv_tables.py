"""The report's CSV tables: per-class accuracy, the confusion matrix and area-adjusted class areas.

Written beside the HTML page by `html_report.write_report`, for spreadsheets and scripts; values as in the
report's JSON (fractions, counts), empty cells for missing values.
"""
from __future__ import annotations

import csv
import io


AREA_COLUMNS = ("value", "name", "mapped_area", "area", "area_ci95", "users_accuracy", "users_ci95",
                "producers_accuracy", "producers_ci95", "sample", "mapped_pixels")


def _csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _per_class_csv(acc) -> bytes:
    cols = ["value", "name", "producers_accuracy", "users_accuracy", "f1", "support", "predicted"]
    rows = [cols] + [["" if p.get(c) is None else p.get(c) for c in cols] for p in acc["per_class"]]
    return _csv_bytes(rows)


def _area_csv(area) -> bytes:
    rows = [list(AREA_COLUMNS) + ["area_unit"]]
    rows += [["" if p.get(c) is None else p.get(c) for c in AREA_COLUMNS] + [area.get("area_unit", "")]
             for p in area["per_class"]]
    return _csv_bytes(rows)


def _confusion_csv(acc) -> bytes:
    per = acc.get("per_class") or []
    names = [str(p.get("name", p.get("value"))) for p in per]
    cm = acc["confusion"]
    names += [str(i) for i in range(len(names), len(cm))]
    rows = [["reference \\ predicted"] + names[:len(cm)]]
    rows += [[names[i]] + list(r) for i, r in enumerate(cm)]
    return _csv_bytes(rows)
