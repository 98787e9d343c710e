"""Where a run's report goes, checked before the run, and the one call that writes it (JSON, HTML, CSV)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import OutputError
from ..core.io.files import check_output_dir, check_output_file, check_outputs


@dataclass
class ReportTarget:
    """A report folder and a file stem: `<dir>/<stem>.html`, `.json`, `_per_class.csv`, `_confusion.csv`."""

    dir: str
    stem: str

    @classmethod
    def from_html(cls, path) -> Optional["ReportTarget"]:
        """From an .html (or .json) path as Processing and the dialogs give it."""
        if not path:
            return None
        p = Path(os.path.abspath(os.fspath(path)))
        stem = p.stem if p.suffix.lower() in (".html", ".htm", ".json") else p.name
        return cls(str(p.parent), stem)

    def files(self) -> list:
        return [os.path.join(self.dir, self.stem + s) for s in (".html", ".json", "_per_class.csv", "_confusion.csv", "_area.csv")]

    def check(self) -> "ReportTarget":
        """OutputError now, before any work, when the report could not be written."""
        self.dir = check_output_dir(self.dir, "report folder")
        if os.path.isdir(self.dir):
            for f in self.files():
                check_output_file(f, "report")
        return self

    def outputs(self) -> list:
        return [(f, "report") for f in self.files()]


def run_report(target: ReportTarget, report: dict, class_map=None, classes=None, map_nodata: int = 0) -> dict:
    """Write the report files; {kind: path}."""
    from ..core.report.html_report import write_report

    return write_report(target.dir, target.stem, report, class_map=class_map, classes=classes, map_nodata=map_nodata)


REPORT_SIGNATURES = {".html": ("<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>"),
                     "_per_class.csv": ("value,name,producers_accuracy",),
                     "_confusion.csv": ("reference \\ predicted",),
                     "_area.csv": ("value,name,mapped_area",)}
"""How each report file HyperSNN writes begins (core/report/html_report.py, csv_tables.py); the JSON is told by
its keys."""
REPORT_JSON_KEYS = {"created", "inputs", "timing", "model", "accuracy", "energy", "split_protocol"}
"""A report JSON has a title and at least one of these sections (training, accuracy and energy reports)."""


def written_by_hypersnn(path: str) -> bool:
    """Whether an existing report file is one HyperSNN wrote (a rerun may replace it) rather than the user's own
    file that happens to have the report's name (which must not be replaced without asking)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError:
        return False
    if path.lower().endswith(".json"):
        import json

        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (OSError, ValueError):
            return False
        return isinstance(d, dict) and "title" in d and bool(REPORT_JSON_KEYS & set(d))
    for suffix, marks in REPORT_SIGNATURES.items():
        if path.lower().endswith(suffix):
            return head.startswith(marks[0]) and all(m in head for m in marks[1:])
    return False


def check_report_target(target: Optional[ReportTarget], what: str, inputs: list,
                        folder_option: str = "--out-dir") -> None:
    """Before any work, for the commands that only write a report (assess, energy): the report folder can be
    written, no report file HyperSNN did not write would be replaced, and no report file is one of `inputs`
    ((path, what) pairs)."""
    if target is None:
        return
    target.check()
    check_report_not_foreign(target, what, folder_option)
    check_outputs(target.outputs(), inputs)


def check_report_not_foreign(target: Optional[ReportTarget], what: str = "report", folder_option: str = "--out-dir") -> None:
    """OutputError naming the first existing report file that HyperSNN did not write: a user's own
    `<model>_report.html` in the report folder is never replaced silently (HyperSNN's own reports are: a rerun
    updates them, as it updates the model file)."""
    if target is None:
        return
    for f in target.files():
        if os.path.isfile(f) and not written_by_hypersnn(f):
            raise OutputError(f"The report file {f} already exists and was not written by HyperSNN; the {what} "
                              f"would replace it. Choose another report folder ({folder_option}) or name, or move "
                              f"that file away first")
