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
        from ..core.report import render_html

        return render_html(json.loads(p.read_text(encoding="utf-8")))
    return p.read_text(encoding="utf-8")


_DATA_IMG = re.compile(r"""src=(["'])data:image/(png|jpe?g|gif);base64,([A-Za-z0-9+/=\s]+)\1""")


def extract_data_images(html_text: str):
    """QTextBrowser cannot show data: URIs: (html with each embedded image renamed, {name: QImage})."""
    import base64

    from qgis.PyQt.QtGui import QImage

    images = {}

    def repl(m):
        img = QImage()
        if not img.loadFromData(base64.b64decode(m.group(3)), m.group(2).upper().replace("JPG", "JPEG")):
            return m.group(0)
        name = f"hypersnn-figure-{len(images)}.{m.group(2)}"
        images[name] = img
        width = f' width="{min(img.width(), 820)}"' if img.width() > 820 else ""
        return f'src="{name}"{width}'

    return _DATA_IMG.sub(repl, html_text), images


_QT_CSS = ("body{font-family:sans-serif;} th{background-color:#eeeeee;} .meta{color:#666666;} "
           ".warn{color:#aa4400;} td,th{padding:3px;}")


def qt_rich_text(html_text: str) -> str:
    """Qt's rich-text engine mis-sizes the report's CSS margins (em units, display:block): use a plain
    stylesheet and table attributes it understands."""
    html_text = re.sub(r"<style>.*?</style>", f"<style>{_QT_CSS}</style>", html_text, flags=re.S)
    html_text = re.sub(r"(<img\s[^>]*>)", r"<p>\1</p>", html_text)  # each figure in its own block
    return html_text.replace("<table>", '<table border="1" cellspacing="0" cellpadding="3">')


def _report_browser_class():
    from qgis.PyQt.QtCore import QUrl as _QUrl
    from qgis.PyQt.QtGui import QTextDocument
    from qgis.PyQt.QtWidgets import QTextBrowser

    class ReportBrowser(QTextBrowser):
        """A QTextBrowser showing a report with its embedded figures (registered as document
        resources: QTextEdit.setHtml would drop them, so the document is built first)."""

        def set_report_html(self, html_text: str, base_url=None):
            html_text, images = extract_data_images(qt_rich_text(html_text))
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


