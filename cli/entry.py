"""The `hypersnn` entry point: parse, run the command, and turn failures into messages and exit codes.

Errors print one line ("hypersnn: error: ...", with --json also a JSON object on stdout); Ctrl-C and SIGTERM
cancel with exit code 130; a closed stdout pipe ends quietly.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import warnings

from ..core.errors import Canceled, HyperSNNError
from .parser import build_parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one plain line ('hypersnn: warning: ...'), not Python's source excerpt."""
    print(f"hypersnn: warning: {message}", file=file or sys.stderr)


def _terminate(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so writers remove their temporary files and old outputs stay."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "datasets" and args.action == "fetch" and not args.name:
        parser.error("datasets fetch needs a scene name")
    json_mode = getattr(args, "json", False)

    def fail(kind: str, text: str, rc: int) -> int:
        print(f"hypersnn: {kind}: {text}" if kind != "canceled" else f"canceled: {text}", file=sys.stderr)
        if json_mode:
            print(json.dumps({"error": text, "kind": kind, "exit_code": rc}))
        return rc

    old_show, old_term = warnings.showwarning, None
    warnings.showwarning = _show_warning
    try:
        old_term = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass
    try:
        rc = args.func(args)
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
        return rc
    except Canceled as e:
        return fail("canceled", str(e), 130)
    except HyperSNNError as e:
        return fail("error", str(e), 2)
    except KeyboardInterrupt:
        return fail("canceled", "interrupted; no partial output was left", 130)
    except BrokenPipeError:  # e.g. `hypersnn info m.hsnn --json | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        warnings.showwarning = old_show
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
