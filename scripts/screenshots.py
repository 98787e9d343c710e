#!/usr/bin/env python3
"""Screenshots of the plugin's whole workflow in the real QGIS desktop, under Xvfb, at 1366x768 and 1920x1080.

    .venv/bin/python scripts/screenshots.py [--sizes 1366x768 1920x1080] [--epochs CNN SNN] [--display N]

Why the real desktop: only there do dialogs meet the screen's size, the message bar, the task manager and the
docks as a user meets them (headless widget grabs hid a Train dialog taller than the screen). For each size it
builds the plugin zip (scripts/make_plugin_zip.py), installs it into a throw-away QGIS profile (the user's
profile is never touched), starts Xvfb on a free display (or uses $DISPLAY with --use-display), and runs
`qgis --profiles-path ... --code scripts/screenshots_driver.py`. The driver opens the dialogs from the
Raster > HyperSNN menu on the bundled Indian Pines sample, trains a quick model (a few epochs), and grabs the
full screen at each stage; the Processing dialogs are opened as the toolbox opens them.

Writes docs/screenshots/<WxH>/<name>.png and docs/screenshots/README.md (one line per screenshot; what could not
be captured is listed there too). Never hangs: each step has a timeout, the driver has a deadline, and QGIS runs
under `timeout`. Needs the Debian packages qgis and xvfb (scripts/bootstrap.sh installs them).
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "indian_pines"
DRIVER = Path(__file__).resolve().with_name("screenshots_driver.py")
DEFAULT_SIZES = ("1366x768", "1920x1080")


def parse_size(text: str) -> tuple:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' is not WIDTHxHEIGHT (e.g. 1366x768)") from None
    if w < 640 or h < 480:
        raise argparse.ArgumentTypeError(f"size '{text}' is below 640x480")
    return w, h


def free_display(start: int = 100) -> int:
    """The first display number with neither an X socket nor a lock file."""
    for n in range(start, start + 200):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise SystemExit("no free X display number found")


def start_xvfb(display: int, size: tuple) -> subprocess.Popen:
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed (Debian: apt-get install xvfb; scripts/bootstrap.sh does it)")
    if os.path.exists(f"/tmp/.X11-unix/X{display}"):
        raise SystemExit(f"display :{display} is in use (/tmp/.X11-unix/X{display} exists)")
    proc = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(f"/tmp/.X11-unix/X{display}"):
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"Xvfb :{display} exited at once (display in use?)")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"Xvfb :{display} did not start within 10 s")


def build_zip(dist: Path) -> Path:
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_plugin_zip.py"), "--out", str(dist)], check=True,
                   stdout=subprocess.DEVNULL)
    zips = sorted(dist.glob("hypersnn-*.zip"), key=os.path.getmtime)
    if not zips:
        raise SystemExit(f"scripts/make_plugin_zip.py wrote no zip into {dist}")
    return zips[-1]


def make_profile(root: Path, plugin_zip: Path) -> Path:
    """A throw-away profiles folder with the plugin installed and enabled, tips and version checks off."""
    prof = root / "profiles" / "default"
    plugins = prof / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as z:
        z.extractall(plugins)
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str
    ini["PythonPlugins"] = {"hypersnn": "true", "processing": "true"}
    ini["qgis"] = {"showTips": "false", "checkVersion": "false", "allowVersionCheck": "false"}
    ini["UI"] = {"Customization\\enabled": "false"}
    (prof / "QGIS").mkdir(parents=True)
    with open(prof / "QGIS" / "QGIS3.ini", "w", encoding="utf-8") as f:
        ini.write(f, space_around_delimiters=False)
    return root


def venv_site_packages() -> str:
    """Where this interpreter's packages (torch ...) live, for QGIS's Python (empty outside a venv)."""
    if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
        return ""
    return sysconfig.get_paths()["purelib"]


def run_size(size: tuple, args, plugin_zip: Path, work_root: Path, out_root: Path) -> dict:
    label = f"{size[0]}x{size[1]}"
    work = work_root / label
    if work.exists():
        shutil.rmtree(work)
    data = work / "data"  # copies: QGIS writes statistics (.aux.xml) beside the rasters it shows
    shutil.copytree(SAMPLE, data, ignore=shutil.ignore_patterns("*.aux.xml"))
    profiles = make_profile(work / "profiles", plugin_zip)
    out = out_root / label
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    reuse = Path(args.reuse_model) if args.reuse_model else REPO / "demo_out" / "indian_pines_snn.hsnn"
    cfg = {"out": str(out), "work": str(work), "raster": str(data / "indian_pines.tif"),
           "labels": str(data / "indian_pines_gt.tif"), "classes": str(data / "classes.json"),
           "epochs": list(args.epochs), "reuse_model": str(reuse) if reuse.exists() else "",
           "reuse_report": str(REPO / "demo_out" / "report.html") if (REPO / "demo_out" / "report.html").exists()
           else "", "train_timeout_s": args.train_timeout, "deadline_s": args.timeout - 30, "start_delay_s": 5}
    cfg_path = work / "shots_config.json"
    cfg_path.write_text(json.dumps(cfg, indent=1), encoding="utf-8")

    xvfb = None
    env = dict(os.environ)
    if args.use_display:
        if not env.get("DISPLAY"):
            raise SystemExit("--use-display needs $DISPLAY")
    else:
        display = args.display if args.display is not None else free_display()
        xvfb = start_xvfb(display, size)
        env["DISPLAY"] = f":{display}"
    env.pop("QT_QPA_PLATFORM", None)  # a real X screen, not offscreen
    site = venv_site_packages()
    if site:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
    env.update({"HYPERSNN_SHOTS_CONFIG": str(cfg_path), "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "2"),
                "QGIS_DISABLE_MESSAGE_HOOKS": "1", "PYTHONUNBUFFERED": "1"})
    cmd = ["timeout", "-k", "10", str(args.timeout), args.qgis, "--profiles-path", str(profiles), "--nologo",
           "--noversioncheck", "--code", str(DRIVER)]
    print(f"[screenshots] {label} on display {env['DISPLAY']}: {' '.join(cmd)}", flush=True)
    t0 = time.monotonic()
    try:
        with open(work / "qgis.log", "w", encoding="utf-8") as log:
            rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=args.timeout + 30).returncode
    except subprocess.TimeoutExpired:
        rc = 124
    finally:
        if xvfb is not None:
            xvfb.terminate()
            try:
                xvfb.wait(10)
            except subprocess.TimeoutExpired:
                xvfb.kill()
                xvfb.wait(10)
            for _ in range(50):  # the next size may reuse the display number
                if not os.path.exists(env["DISPLAY"].replace(":", "/tmp/.X11-unix/X")):
                    break
                time.sleep(0.1)
    result_path = out / "shots.json"
    result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}
    if result_path.exists():
        shutil.move(str(result_path), str(work / "shots.json"))  # the log stays out of docs/
    result.setdefault("shots", [])
    result.setdefault("missed", [])
    result.setdefault("notes", [])
    if rc != 0 or not result.get("done"):
        result["notes"].append(f"QGIS exited with {rc} after {time.monotonic() - t0:.0f} s "
                               f"({'finished' if result.get('done') else 'did not finish'}; log: {work / 'qgis.log'})")
    print(f"[screenshots] {label}: {len(result['shots'])} screenshots, {len(result['missed'])} missed, "
          f"exit {rc}, {time.monotonic() - t0:.0f} s; driver log {work / 'shots.json'}", flush=True)
    for m in result["missed"]:
        print(f"  missed {m['name']}: {m['why'].strip().splitlines()[-1]}")
    for n in result["notes"]:
        print(f"  note: {n}")
    for s in result["shots"]:
        if s.get("off_screen"):
            print(f"  {s['name']}: {s['widget']} {s['off_screen']}")
    return result


def write_readme(out_root: Path, results: dict):
    """docs/screenshots/README.md: one line per screenshot, with a link for each size."""
    names: dict = {}
    for res in results.values():
        for s in res["shots"]:
            names.setdefault(s["name"], s["caption"])
    qgis = next((r.get("qgis") for r in results.values() if r.get("qgis")), "")
    lines = ["# Screenshots", "",
             f"The plugin's workflow in the real QGIS {qgis} desktop (Xvfb, no window manager, so dialogs have no "
             "title bar), installed from its zip into a fresh profile, on the bundled Indian Pines sample. "
             "Made by `make screenshots` (scripts/screenshots.py, which drives QGIS with "
             "scripts/screenshots_driver.py); each is the whole screen.", ""]
    for name, caption in names.items():
        links = ", ".join(f"[{size}]({size}/{name})" for size, res in results.items()
                          if any(s["name"] == name for s in res["shots"]))
        lines.append(f"- `{name}`: {caption} ({links})")
    misses = [(size, m) for size, res in results.items() for m in res["missed"]]
    if misses:
        lines += ["", "Not captured in the last run:", ""]
        lines += [f"- {size} `{m['name']}`: {m['why'].strip().splitlines()[-1]}" for size, m in misses]
    (out_root / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots"),
                    help="folder for <WxH>/<name>.png and README.md (default docs/screenshots)")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "hypersnn-screenshots"),
                    help="scratch folder: profiles, sample copies, the quick model, QGIS logs")
    ap.add_argument("--sizes", nargs="+", type=parse_size, default=[parse_size(s) for s in DEFAULT_SIZES],
                    metavar="WxH", help="screen sizes (default 1366x768 1920x1080)")
    ap.add_argument("--epochs", nargs=2, type=int, default=[2, 1], metavar=("CNN", "SNN"),
                    help="epochs of the quick training run in the Train dialog (default 2 1)")
    ap.add_argument("--reuse-model", help="model for the Classify dialog when training fails "
                                          "(default demo_out/indian_pines_snn.hsnn when present)")
    ap.add_argument("--display", type=int, help="X display number for Xvfb (default: the first free one from :100)")
    ap.add_argument("--use-display", action="store_true",
                    help="use the running $DISPLAY instead of starting Xvfb (one run, at that screen's size)")
    ap.add_argument("--qgis", default="qgis", help="the QGIS executable (default qgis)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per QGIS run before it is killed (default 900)")
    ap.add_argument("--train-timeout", type=int, default=480,
                    help="seconds the quick training may take before it is canceled (default 480)")
    args = ap.parse_args(argv)
    if shutil.which(args.qgis) is None:
        print(f"{args.qgis} not found: install QGIS (Debian: qgis python3-qgis; scripts/bootstrap.sh)", file=sys.stderr)
        return 1
    if args.use_display:
        args.sizes = args.sizes[:1]
    work_root = Path(args.work)
    work_root.mkdir(parents=True, exist_ok=True)
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    plugin_zip = build_zip(work_root / "dist")
    results = {}
    for size in args.sizes:
        res = run_size(size, args, plugin_zip, work_root, out_root)
        label = res.get("screen") or f"{size[0]}x{size[1]}"
        if label != f"{size[0]}x{size[1]}" and args.use_display:  # the real screen's size names the folder
            src, dst = out_root / f"{size[0]}x{size[1]}", out_root / label
            if dst.exists():
                shutil.rmtree(dst)
            src.rename(dst)
        results[label] = res
    write_readme(out_root, results)
    print(f"[screenshots] {out_root / 'README.md'}")
    return 0 if all(r["shots"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
