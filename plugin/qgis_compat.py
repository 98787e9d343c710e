"""The few PyQGIS spellings that differ between QGIS 3.22 (Qt5) and QGIS >= 3.38 / 4 (Qt6), in one place.

Everything else in plugin/ and ui/ is written once in a form both accept: fully scoped enums
(`Qt.CheckState.Checked`), `exec()` and `qgis.PyQt` imports; `tests/test_qt6_ready.py` keeps it so.
"""
from __future__ import annotations

from qgis.core import Qgis


def field_type(name: str):
    """A QgsField type: QMetaType.Type (QGIS >= 3.38, the only one under Qt6) or QVariant.Type (older QGIS,
    whose QgsField accepts nothing else). `name`: "Int", "Double", "String"."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        return {"Int": QMetaType.Type.Int, "Double": QMetaType.Type.Double, "String": QMetaType.Type.QString}[name]
    from qgis.PyQt.QtCore import QVariant

    return {"Int": QVariant.Int, "Double": QVariant.Double, "String": QVariant.String}[name]
