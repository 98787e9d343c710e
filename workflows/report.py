"""Where a run's report goes, checked before the run, and the one call that writes it (JSON, HTML, CSV)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.files import check_output_dir, check_output_file


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
        return [os.path.join(self.dir, self.stem + s) for s in (".html", ".json", "_per_class.csv", "_confusion.csv")]

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
    from ..core.report import write_report

    return write_report(target.dir, target.stem, report, class_map=class_map, classes=classes, map_nodata=map_nodata)
