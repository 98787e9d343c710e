"""The report viewer: a dock widget showing HyperSNN HTML reports (figures embedded as data URIs) inside QGIS."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from qgis.PyQt.QtCore import QUrl

def report_html_text(path: str) -> str:
    """HTML for a report file: the .html itself, or a .json report rendered by the engine."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        from ..core.report.html_report import render_html

        return render_html(json.loads(p.read_text(encoding="utf-8")))
    return p.read_text(encoding="utf-8")


_DATA_IMG = re.compile(r"""src=(["'])data:image/(png|jpe?g|gif);base64,([A-Za-z0-9+/=\s]+)\1""")


def extract_data_images(html_text: str, max_width: int = 820):
    """QTextBrowser cannot show data: URIs: (html with each embedded image renamed, {name: QImage}); a figure
    wider than `max_width` pixels is shown scaled down to it."""
    import base64

    from qgis.PyQt.QtGui import QImage

    images = {}

    def repl(m):
        img = QImage()
        if not img.loadFromData(base64.b64decode(m.group(3)), m.group(2).upper().replace("JPG", "JPEG")):
            return m.group(0)
        name = f"hypersnn-figure-{len(images)}.{m.group(2)}"
        images[name] = img
        width = f' width="{max_width}"' if img.width() > max_width else ""
        return f'src="{name}"{width}'

    return _DATA_IMG.sub(repl, html_text), images


_QT_CSS = ("body{font-family:sans-serif;} th{background-color:#eeeeee;} .meta{color:#666666;} "
           ".warn{color:#aa4400;} td,th{padding:3px;} .trust{background-color:#fff4e5;color:#222222;} "
           ".trust h2{color:#aa4400;}")

_CELL = re.compile(r"<(td|th)((?:\s[^>]*)?)>")


def _no_wrap(m) -> str:
    """Qt squeezes a table that is wider than the dock until its cells break letter by letter ('Cl a ss', '9 3 1'):
    a cell keeps its words whole (nowrap) unless the report marks it as running text (class 'w'), which wraps
    between words. The document then scrolls sideways instead."""
    tag, attrs = m.group(1), m.group(2)
    cls = re.search(r"class=['\"]([^'\"]*)['\"]", attrs)
    if cls and "w" in cls.group(1).split():
        return m.group(0)
    return f'<{tag}{attrs} style="white-space:nowrap">'


_TABLE = re.compile(r"<table>.*?</table>", re.S)


def _whole_words(m) -> str:
    """A table's cells keep their words whole and the view scrolls sideways; only running text (class 'w', e.g. a
    long value of a name-value table) wraps, between words. (Letting the short cells of a two-column table wrap
    broke names such as 'min_pixels' inside the word in a 433-px dock on the 3.22 desktop.)"""
    return _CELL.sub(_no_wrap, m.group(0))


def qt_rich_text(html_text: str) -> str:
    """Qt's rich-text engine mis-sizes the report's CSS margins (em units, display:block) and knows no
    overflow: use a plain stylesheet, table attributes it understands, and whole words in table cells."""
    html_text = re.sub(r"<style>.*?</style>", f"<style>{_QT_CSS}</style>", html_text, flags=re.S)
    html_text = re.sub(r"(<img\s[^>]*>)", r"<p>\1</p>", html_text)  # each figure in its own block
    html_text = re.sub(r"<div class='trust'>(.*?)</div>",  # the warnings box: a framed, tinted one-cell table
                       r'<table class="trust" border="2" cellspacing="0" cellpadding="6" width="100%"><tr>'
                       r'<td class="w">\1</td></tr></table>', html_text, flags=re.S)
    html_text = _TABLE.sub(_whole_words, html_text)
    return html_text.replace("<table>", '<table border="1" cellspacing="0" cellpadding="3">')


def _report_browser_class():
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtCore import QUrl as _QUrl
    from qgis.PyQt.QtGui import QTextDocument
    from qgis.PyQt.QtWidgets import QTextBrowser

    class ReportBrowser(QTextBrowser):
        """A QTextBrowser showing a report with its embedded figures (registered as document
        resources: QTextEdit.setHtml would drop them, so the document is built first)."""

        def set_report_html(self, html_text: str, base_url=None):
            """Show a report; figures are scaled to the width of the view (and again when it is resized)."""
            self._report = (html_text, base_url)
            self._shown_width = self.viewport().width()
            self._render()

        def _render(self):
            html_text, base_url = self._report
            fit = max(160, min(820, self.viewport().width() - 24))
            html_text, images = extract_data_images(qt_rich_text(html_text), fit)
            bar = self.verticalScrollBar()
            where = bar.value() / bar.maximum() if bar.maximum() else 0.0
            old = getattr(self, "_own_doc", None)
            doc = QTextDocument(self)
            if base_url is not None:
                doc.setBaseUrl(base_url)
            for name, img in images.items():  # looked up as given and resolved against the base URL
                doc.addResource(QTextDocument.ResourceType.ImageResource, _QUrl(name), img)
                if base_url is not None:
                    doc.addResource(QTextDocument.ResourceType.ImageResource, base_url.resolved(_QUrl(name)), img)
            doc.setHtml(html_text)
            self.setDocument(doc)
            self._own_doc = doc
            if old is not None:
                old.deleteLater()
            bar.setValue(int(round(where * bar.maximum())))

        def resizeEvent(self, event):  # noqa: N802 - Qt's name
            super().resizeEvent(event)
            if getattr(self, "_report", None) is None or abs(self.viewport().width() - self._shown_width) < 40:
                return
            if getattr(self, "_refit", None) is None:  # re-lay the figures once the user stops dragging
                self._refit = QTimer(self)
                self._refit.setSingleShot(True)
                self._refit.setInterval(250)
                self._refit.timeout.connect(self._refit_now)
            self._refit.start()

        def _refit_now(self):
            self._shown_width = self.viewport().width()
            self._render()

    return ReportBrowser


class ReportDock:
    """A dock with a QTextBrowser showing a report's HTML, plus 'Open in browser' (lazy widget)."""

    def __init__(self, iface):
        self.iface = iface
        self.dock = None
        self.browser = None
        self.path = None

    def _build(self):
        from qgis.PyQt.QtCore import Qt
        from qgis.PyQt.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

        parent = self.iface.mainWindow() if self.iface is not None else None
        dock = QDockWidget("HyperSNN report", parent)
        dock.setObjectName("HyperSNNReportDock")
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 2, 2, 2)
        bar = QHBoxLayout()
        self.label = QLabel("")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        btn = QPushButton("Open in browser")
        btn.clicked.connect(self.open_in_browser)
        folder = QPushButton("Open folder")
        folder.clicked.connect(self.open_folder)
        bar.addWidget(self.label, 1)
        bar.addWidget(folder)
        bar.addWidget(btn)
        lay.addLayout(bar)
        self.browser = _report_browser_class()()
        self.browser.setOpenExternalLinks(True)
        lay.addWidget(self.browser, 1)
        dock.setWidget(w)
        self.dock = dock
        if self.iface is not None:
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def show(self, path: str):
        if self.dock is None:
            self._build()
        self.path = os.path.abspath(path)
        self.browser.set_report_html(report_html_text(self.path),
                                     QUrl.fromLocalFile(os.path.dirname(self.path) + os.sep))
        self.label.setText(os.path.basename(self.path))
        self.dock.show()
        self.dock.raise_()

    def open_in_browser(self):
        if self.path:
            from qgis.PyQt.QtGui import QDesktopServices

            html = self.path
            if html.lower().endswith(".json") and os.path.exists(os.path.splitext(html)[0] + ".html"):
                html = os.path.splitext(html)[0] + ".html"
            QDesktopServices.openUrl(QUrl.fromLocalFile(html))

    def open_folder(self):
        if self.path:
            from qgis.PyQt.QtGui import QDesktopServices

            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(self.path)))

    def close(self):
        if self.dock is not None:
            if self.iface is not None:
                self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
            self.browser = None


