#!/usr/bin/env python3
"""Render documentation screenshots of the QGIS plugin into docs/screenshots/ (headless).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--reuse-model PATH] [--epochs CNN SNN]

Uses the bundled Indian Pines sample: the ground truth is polygonized into a training layer (with the
categorized style of classes.json), a quick model is trained through the training workflow (GDAL I/O, as
inside QGIS) unless a model is given (demo_out/indian_pines_snn.hsnn is reused when present), the
scene is classified, and these PNGs are written:

    train_dialog.png     the Train SNN classifier dialog on the sample
    classify_dialog.png  the Classify raster dialog with the model's expectations
    class_map.png        the class map rendered by QGIS (paletted renderer) with its legend
    confidence_map.png   the confidence map (pseudocolour 0..1)
    report.png           the report dock showing the accuracy/energy report

Runs in a throw-away QGIS profile; the user's QGIS settings are not touched.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "indian_pines"


def _import_package():
    """`hypersnn` is the repository root: installed editable in .venv, else through a symlink."""
    try:
        import hypersnn  # noqa: F401
    except ImportError:
        d = Path(tempfile.mkdtemp(prefix="hypersnn-pkg-"))
        (d / "hypersnn").symlink_to(REPO, target_is_directory=True)
        sys.path.insert(0, str(d))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots"), help="folder for the PNGs")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "hypersnn-screenshots"),
                    help="folder for the run's outputs (model, maps, report)")
    ap.add_argument("--reuse-model", help="a .hsnn model of the sample to use instead of training")
    ap.add_argument("--epochs", nargs=2, type=int, default=[2, 1], metavar=("CNN", "SNN"),
                    help="epochs of the quick training run (default 2 1, as `hypersnn demo --quick`)")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _import_package()

    profile = tempfile.mkdtemp(prefix="hypersnn-qgis-profile-")
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = profile
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, profile)
    app = QgsApplication([], True)
    app.initQgis()
    try:
        return run(app, args)
    finally:
        import gc

        gc.collect()
        app.exitQgis()


def _process(app, seconds=0.3):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _grab(app, widget, path, size=None):
    if size:
        widget.resize(*size)
    widget.show()
    _process(app)
    widget.grab().save(str(path))
    widget.hide()
    print(f"  wrote {path}")


def polygonize_ground_truth(gt_path: Path, gpkg: Path, classes: list):
    """The ground truth as training polygons (class_id, class_name) with a categorized style."""
    from osgeo import gdal, ogr, osr
    from qgis.core import QgsVectorLayer

    from hypersnn.plugin.layers import categorized_renderer

    if gpkg.exists():
        gpkg.unlink()
    src = gdal.Open(str(gt_path))
    band = src.GetRasterBand(1)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(src.GetProjection())
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(gpkg))
    lyr = ds.CreateLayer("training", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    name_field = ogr.FieldDefn("class_name", ogr.OFTString)
    lyr.CreateField(name_field)
    gdal.Polygonize(band, band.GetMaskBand(), lyr, 0, [], callback=None)
    names = {c["value"]: c["name"] for c in classes}
    lyr.ResetReading()
    for f in lyr:
        f.SetField("class_name", names.get(f.GetField("class_id"), ""))
        lyr.SetFeature(f)
    ds = None
    layer = QgsVectorLayer(f"{gpkg}|layername=training", "training polygons", "ogr")
    layer.setRenderer(categorized_renderer("class_id", classes))
    layer.saveStyleToDatabase("default", "Indian Pines classes", True, "")
    return layer


def quick_config(cnn_epochs: int, snn_epochs: int):
    from hypersnn.workflows.demo import demo_config

    cfg = demo_config(quick=True)
    cfg.train.cnn_epochs, cfg.train.snn_epochs = cnn_epochs, snn_epochs
    return cfg


def render_map(layer, size=560):
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    ms = QgsMapSettings()
    ms.setLayers([layer])
    ms.setDestinationCrs(layer.crs())
    ms.setExtent(layer.extent())
    ms.setOutputSize(QSize(size, size))
    ms.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(ms)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def compose_with_legend(image, entries, title, subtitle, path):
    """Map image + legend (colour, label) + title into one PNG."""
    from qgis.PyQt.QtCore import QRect, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

    pad, row, legend_w = 16, 22, 300
    h = max(image.height(), len(entries) * row) + 3 * pad + 40
    out = QImage(image.width() + legend_w + 3 * pad, h, QImage.Format_ARGB32)
    out.fill(QColor(255, 255, 255))
    p = QPainter(out)
    p.setRenderHint(QPainter.Antialiasing)
    f = QFont()
    f.setPointSize(12)
    f.setBold(True)
    p.setFont(f)
    p.drawText(QRect(pad, pad // 2, out.width() - 2 * pad, 24), Qt.AlignLeft | Qt.AlignVCenter, title)
    f.setPointSize(9)
    f.setBold(False)
    p.setFont(f)
    p.setPen(QColor(90, 90, 90))
    p.drawText(QRect(pad, pad // 2 + 22, out.width() - 2 * pad, 18), Qt.AlignLeft | Qt.AlignVCenter, subtitle)
    top = pad + 44
    p.drawImage(pad, top, image)
    p.setPen(QColor(40, 40, 40))
    p.drawRect(pad, top, image.width() - 1, image.height() - 1)
    x = image.width() + 2 * pad
    for i, (color, label) in enumerate(entries):
        y = top + i * row
        p.fillRect(x, y + 3, 16, 16, color)
        p.drawRect(x, y + 3, 16, 16)
        p.drawText(QRect(x + 24, y, legend_w - 24, row), Qt.AlignLeft | Qt.AlignVCenter, label)
    p.end()
    out.save(str(path))
    print(f"  wrote {path}")


def run(app, args) -> int:
    from qgis.core import QgsProject, QgsRasterLayer

    from hypersnn.core.model import HyperSNNModel
    from hypersnn.plugin import layers as L
    from hypersnn.plugin.io_gdal import GdalBackend, raster_info, read_polygons_qgis
    from hypersnn.ui.classify_dialog import ClassifyDialog
    from hypersnn.ui.report_dock import ReportDock
    from hypersnn.ui.train_dialog import TrainDialog
    from hypersnn.workflows.backend import LabelSource
    from hypersnn.workflows.callbacks import Callbacks
    from hypersnn.workflows.labels import ClassStyle
    from hypersnn.workflows.report import ReportTarget
    from hypersnn.workflows.train import TrainJob, default_report_target, run_train

    out = Path(args.out)
    work = Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    # work on copies: QGIS writes statistics (.aux.xml) beside the rasters it displays
    import shutil

    for name in ("indian_pines.tif", "indian_pines_gt.tif"):
        shutil.copyfile(SAMPLE / name, work / name)
    raster_path = work / "indian_pines.tif"
    gt_path = work / "indian_pines_gt.tif"
    classes = json.loads((SAMPLE / "classes.json").read_text())["classes"]
    project = QgsProject.instance()
    raster = QgsRasterLayer(str(raster_path), "indian_pines")
    if not raster.isValid():
        print(f"cannot open {raster_path}", file=sys.stderr)
        return 1
    training = polygonize_ground_truth(gt_path, work / "indian_pines_training.gpkg", classes)
    project.addMapLayers([raster, training])
    cfg = quick_config(*args.epochs)
    model_path = work / "indian_pines_snn.hsnn"
    class_path = work / "indian_pines_classes.tif"
    conf_path = work / "indian_pines_confidence.tif"

    print("train dialog")
    dlg = TrainDialog(None)
    dlg.raster_combo.setLayer(raster)
    dlg.poly_combo.setLayer(training)
    dlg.field_combo.setField("class_id")
    dlg.set_config(cfg)
    dlg.model_file.setFilePath(str(model_path))
    dlg.class_map_file.setFilePath(str(class_path))
    dlg.confidence_file.setFilePath(str(conf_path))
    dlg.bands.table.scrollToTop()
    _grab(app, dlg, out / "train_dialog.png", (1100, 760))

    reuse = args.reuse_model or (str(REPO / "demo_out" / "indian_pines_snn.hsnn")
                                 if (REPO / "demo_out" / "indian_pines_snn.hsnn").exists() else None)
    t0 = time.perf_counter()
    if reuse:
        print(f"classifying with {reuse}")
        from hypersnn.workflows.classify import ClassifyJob, run_classify
        from hypersnn.workflows.energy import EnergyJob, run_energy

        model_path = Path(reuse)
        run_classify(ClassifyJob(str(raster_path), reuse, str(class_path), str(conf_path)), GdalBackend(),
                     Callbacks(log=print))
        model = HyperSNNModel.load(reuse)
        test = (model.meta.get("metrics") or {}).get("test_snn") or {}
        oa = test.get("oa")
        print("energy and accuracy report on the ground truth (training pixels excluded)")
        rep = run_energy(EnergyJob(model, str(raster_path), LabelSource(path=str(gt_path)),
                                   ReportTarget(str(work), "indian_pines_report"), sample=512,
                                   title=f"HyperSNN report: {Path(reuse).name} on the Indian Pines sample"),
                         GdalBackend())
        report_html = rep.report_paths.get("html")
    else:
        print(f"training a quick model ({cfg.train.cnn_epochs} CNN + {cfg.train.snn_epochs} SNN epochs, "
              f"{cfg.train.time_steps} time steps, {cfg.train.weight_bits}-bit) through the training workflow")
        info = raster_info(raster_path)
        from qgis.core import QgsCoordinateReferenceSystem

        feats = read_polygons_qgis(training, "class_id", QgsCoordinateReferenceSystem.fromWkt(info.crs_wkt))
        job = TrainJob(raster=str(raster_path), cfg=dlg.run_config(), model_path=str(model_path),
                       labels=LabelSource(features=feats, description=str(work / "indian_pines_training.gpkg")),
                       class_style=ClassStyle(dlg.class_style()), class_map=str(class_path), confidence=str(conf_path),
                       report=default_report_target(str(model_path), str(class_path)),
                       provenance={"command": "scripts/screenshots.py"})
        last = [-1]

        def progress(f, m):
            if int(10 * f) != last[0]:
                last[0] = int(10 * f)
                print(f"  {100 * f:5.1f} %  {m}", flush=True)

        res = run_train(job, GdalBackend(), Callbacks(progress=progress))
        model = res.model
        report_html = res.report_paths.get("html")
        oa = res.summary["oa"]
    print(f"  done in {time.perf_counter() - t0:.0f} s")
    model_classes = model.classes

    print("classify dialog")
    cd = ClassifyDialog(None)
    cd.raster_combo.setLayer(raster)
    cd.model_file.setFilePath(str(model_path))
    cd.class_map_file.setFilePath(str(work / "indian_pines_classes_2.tif"))
    cd.confidence_file.setFilePath(str(work / "indian_pines_confidence_2.tif"))
    cd.prob_file.setFilePath(str(work / "indian_pines_probabilities.tif"))
    _grab(app, cd, out / "classify_dialog.png", (760, 700))

    print("maps")
    cls_layer = L.add_class_map(str(class_path), model_classes)
    conf_layer = L.add_confidence(str(conf_path))
    s = model.summary()
    bits = s["weight_bits"]
    subtitle = (f"SNN, {s['time_steps']} time steps, {bits}-bit weights, {s['bands_used']} bands"
                + (f"; test OA {100 * oa:.1f} %" if oa is not None else ""))
    entries = []
    from qgis.PyQt.QtGui import QColor

    for c in model_classes:
        entries.append((QColor(*c["color"]), f"{c['value']}  {c['name']}"))
    compose_with_legend(render_map(cls_layer), entries, "HyperSNN class map: Indian Pines sample", subtitle,
                        out / "class_map.png")
    ramp = conf_layer.renderer().shader().rasterShaderFunction().colorRampItemList()
    compose_with_legend(render_map(conf_layer), [(it.color, f"{it.value:.1f}") for it in ramp],
                        "HyperSNN confidence map", "highest class probability per pixel (0..1)",
                        out / "confidence_map.png")

    if report_html:
        print("report dock")
        dock = ReportDock(None)
        dock.show(report_html)
        _grab(app, dock.dock, out / "report.png", (900, 1000))
        dock.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
