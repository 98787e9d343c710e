"""Write a QGIS project (.qgz) that shows a finished run at once: the input as an RGB composite, the
class map and confidence map styled, and the reference labels.

Runs in its own process (`python -m hypersnn.plugin.project ...`): `hypersnn demo` works through the
command line's raster library, whose bundled GDAL must never share a process with QGIS's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

RGB_NM = (640.0, 550.0, 460.0)  # red, green, blue band centres for a natural-colour composite


def rgb_bands(wavelengths: Optional[list], count: int) -> List[int]:
    """1-based bands closest to red/green/blue; without wavelengths, bands spread over the first third."""
    if wavelengths and any(w is not None for w in wavelengths):
        return [1 + min(range(count), key=lambda i: abs((wavelengths[i] or 1e9) - nm)) for nm in RGB_NM]
    return [max(1, count // 3), max(1, count // 6), 1]


def write_project(path: str, raster: str, class_map: str, confidence: str, classes: list,
                  reference: Optional[str] = None, title: str = "HyperSNN") -> str:
    from qgis.core import (QgsContrastEnhancement, QgsMultiBandColorRenderer, QgsProject, QgsRasterLayer,
                           QgsRasterMinMaxOrigin, QgsReferencedRectangle)

    from .io_gdal import raster_info
    from .layers import style_class_map, style_confidence

    project = QgsProject()
    project.setTitle(title)
    info = raster_info(raster)
    scene = QgsRasterLayer(raster, f"{Path(raster).stem} (RGB)")
    if not scene.isValid():
        raise RuntimeError(f"QGIS cannot open {raster}")
    r, g, b = rgb_bands(info.wavelengths, info.count)
    scene.setRenderer(QgsMultiBandColorRenderer(scene.dataProvider(), r, g, b))
    scene.setContrastEnhancement(QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum,
                                 QgsRasterMinMaxOrigin.Limits.CumulativeCut)
    project.setCrs(scene.crs())
    # the project opens on the data (without it QGIS shows an empty canvas at 1:1): no map canvas writes this
    # project, so its default view extent is what QGIS zooms to on opening
    extent = scene.extent()
    extent.scale(1.05)
    project.viewSettings().setDefaultViewExtent(QgsReferencedRectangle(extent, scene.crs()))
    layers = [scene]
    if reference:
        ref = QgsRasterLayer(reference, "reference labels")
        if ref.isValid():
            style_class_map(ref, classes, save_qml=False)
            layers.append(ref)
    conf = QgsRasterLayer(confidence, "confidence")
    style_confidence(conf)
    layers.append(conf)
    cls = QgsRasterLayer(class_map, "class map")
    style_class_map(cls, classes)
    layers.append(cls)
    for lyr in layers:
        if not lyr.isValid():
            raise RuntimeError(f"QGIS cannot open {lyr.source()}")
        project.addMapLayer(lyr)
    # the top of the legend is the class map; the reference and RGB sit below, switched off
    root = project.layerTreeRoot()
    for lyr in layers:
        node = root.findLayer(lyr.id())
        clone = node.clone()
        root.insertChildNode(0, clone)
        root.removeChildNode(node)
    for lyr in layers[:-2]:
        root.findLayer(lyr.id()).setItemVisibilityChecked(lyr is scene)
    _write_atomic(project, Path(path))
    return path


def _write_atomic(project, path: Path):
    """Write the .qgz beside `path` under a temporary name, then rename it. QGIS names the project file inside the
    archive after the part of the file name before its first dot, so the temporary name starts with the final
    stem ("indian_pines.<tmp>.qgz" holds "indian_pines.qgs"); being in the same folder, layer paths stay relative."""
    import uuid

    from ..core.errors import OutputError

    tmp = path.with_name(f"{path.stem.split('.')[0] or 'project'}.{uuid.uuid4().hex[:8]}.tmp.qgz")
    try:
        if not project.write(str(tmp)):
            raise RuntimeError(f"QGIS could not write the project {path}: {project.error()}")
        os.replace(tmp, path)
    except OSError as e:
        raise OutputError(f"Cannot write QGIS project {path}: {e.strerror or e}; nothing was changed") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--raster", required=True)
    ap.add_argument("--class-map", required=True)
    ap.add_argument("--confidence", required=True)
    ap.add_argument("--classes", required=True, help="JSON list of {value, name, color}")
    ap.add_argument("--reference")
    ap.add_argument("--title", default="HyperSNN")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    profile = tempfile.mkdtemp(prefix="hypersnn-project-")
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = profile
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    try:
        classes = json.loads(Path(args.classes).read_text())
        write_project(args.out, args.raster, args.class_map, args.confidence, classes, args.reference, args.title)
        print(args.out)
    finally:
        import gc

        gc.collect()
        app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
