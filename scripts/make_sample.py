#!/usr/bin/env python3
"""Build the bundled Indian Pines sample (resources/indian_pines/) from the shared benchmark copy.

Deterministic: the same input gives byte-identical files, so the sample can be rebuilt and diffed.
Usage: python scripts/make_sample.py [--src /work/shared/data/indian_pines] [--out resources/indian_pines]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parent.parent
try:
    from hypersnn.core.data.labels import write_class_table
    from hypersnn.core.data.scenes import scene_to_labels
except ImportError:  # pragma: no cover
    raise SystemExit("Install the package first (scripts/bootstrap.sh or pip install -e .) so `hypersnn` imports")

EPSG = 32616                 # UTM zone 16N: the Indiana test site's zone. Nominal, see README.
ORIGIN = (500000.0, 4494000.0)
PIXEL = 20.0                 # AVIRIS ground sampling distance for this flight
# 1-based AVIRIS channels of Indian_pines.mat (220) removed in the "corrected" 200-band file.
REMOVED = set(range(104, 109)) | set(range(150, 164)) | {220}

README = """# Indian Pines sample scene

A small georeferenced copy of the Indian Pines benchmark so HyperSNN can be tried without
downloading anything. Built by `scripts/make_sample.py` (deterministic).

| file | content |
|---|---|
| `indian_pines.tif` | 145 x 145 pixels, 200 bands, uint16 (AVIRIS radiance as published), DEFLATE |
| `indian_pines_gt.tif` | ground truth, uint8, 0 = unlabelled (nodata), 16 classes, colour table |
| `classes.json` | class values, names and colours |

## Source and credit

Indian Pines: AVIRIS, flown 12 June 1992 over the Purdue Agronomy farm, NW Indiana (USA), 20 m pixels.
Baumgardner, M. F., Biehl, L. L., Landgrebe, D. A. (2015). "220 Band AVIRIS Hyperspectral Image Data
Set: June 12, 1992 Indian Pine Test Site 3". Purdue University Research Repository,
doi:10.4231/R7RX991C. Licence: CC BY 3.0 (https://creativecommons.org/licenses/by/3.0/).
The "corrected" 200-band cube and its ground truth are distributed by the Grupo de Inteligencia
Computacional (GIC), UPV/EHU: https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes
(the 20 water-absorption channels 104-108, 150-163 and 220 of the 220-band file are removed).
The cube here is the copy shipped by the tensorly package (identical values to the GIC file as far as
checked: shape, value range and all 16 class counts match the references).

## Caveats

- **Georeferencing is nominal.** The published scene has no georeferencing. These files are placed
  in EPSG:32616 (UTM 16N) with the upper-left corner at (500000, 4494000) and 20 m pixels only so
  GIS tools can display and process them; the position is not where the scene really lies.
- **Wavelengths are approximate.** Band metadata `wavelength` (nm) comes from the 200-entry list
  in tensorly, which is not verified: it has the expected gaps at the removed water-absorption
  bands but also an apparent typo near 2200-2270 nm and a non-monotonic step at the AVIRIS
  spectrometer overlap near 690 nm. Use wavelength-based band selection on this sample with care.
  No FWHM is given because none is known for this list.

## Classes

| value | class | pixels |
|---|---|---|
{class_rows}
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default="/work/shared/data/indian_pines")
    ap.add_argument("--out", default=str(ROOT / "resources" / "indian_pines"))
    args = ap.parse_args(argv)
    src, out = Path(args.src), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with np.load(src / "indian_pines.npz", allow_pickle=False) as z:
        cube, gt = z["cube"], z["gt"]
    wl = json.loads((src / "wavelengths_tensorly_unverified.json").read_text())["wavelengths_nm"]
    assert cube.shape == (145, 145, 200) and cube.dtype == np.uint16, cube.shape
    assert gt.shape == (145, 145) and len(wl) == 200
    channels = [c for c in range(1, 221) if c not in REMOVED]
    assert len(channels) == 200

    labels = scene_to_labels(gt, "indian_pines")
    crs = CRS.from_epsg(EPSG)
    transform = from_origin(ORIGIN[0], ORIGIN[1], PIXEL, PIXEL)
    common = dict(driver="GTiff", width=145, height=145, crs=crs, transform=transform, tiled=True,
                  blockxsize=160, blockysize=160, compress="deflate", zlevel=9)

    cube_path = out / "indian_pines.tif"
    with rasterio.open(cube_path, "w", count=200, dtype="uint16", predictor=2, interleave="pixel", **common) as dst:
        dst.write(np.moveaxis(cube, -1, 0))
        dst.update_tags(TIFFTAG_SOFTWARE="HyperSNN scripts/make_sample.py",
                        source="Indian Pines (corrected), Purdue doi:10.4231/R7RX991C, CC BY 3.0",
                        georeferencing="nominal (the published scene has none)")
        for i, (w, ch) in enumerate(zip(wl, channels), start=1):
            dst.set_band_description(i, f"Band {i} (AVIRIS channel {ch}, ~{w:.1f} nm)")
            dst.update_tags(i, wavelength=f"{w:g}", wavelength_units="Nanometers")

    gt_path = out / "indian_pines_gt.tif"
    with rasterio.open(gt_path, "w", count=1, dtype="uint8", nodata=0, predictor=2, **common) as dst:
        dst.write(gt.astype(np.uint8)[None])
        dst.write_colormap(1, {c.value: tuple(c.color) + (255,) for c in labels.classes})
        dst.set_band_description(1, "Indian Pines ground truth")
        dst.update_tags(1, class_names=json.dumps({str(c.value): c.name for c in labels.classes}))

    write_class_table(out / "classes.json", labels.classes)
    counts = np.bincount(gt.ravel(), minlength=17)
    rows = "\n".join(f"| {c.value} | {c.name} | {counts[c.value]} |" for c in labels.classes)
    (out / "README.md").write_text(README.format(class_rows=rows), encoding="utf-8")

    total = 0
    for p in sorted(out.iterdir()):
        total += p.stat().st_size
        print(f"{sha256(p)}  {p.stat().st_size:>9}  {p.name}")
    print(f"total {total} bytes")
    if total >= 10 * 1024 * 1024:
        print("error: sample exceeds 10 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
