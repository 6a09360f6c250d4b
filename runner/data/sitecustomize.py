"""Imported by every Python in the sandbox: records what it was asked to run (its command line, and the
code of `-c` or of the script), one JSON line in the trace folder. Never raises."""
import json as _json
import os as _os
import sys as _sys
import time as _time


def _mlea_record():
    argv = list(getattr(_sys, "orig_argv", None) or _sys.argv or [])
    code = ""
    if "-c" in argv[1:-1]:
        code = argv[argv.index("-c") + 1]
    else:
        for arg in argv[1:]:
            if arg == "-m":
                break
            if not arg.startswith("-"):
                try:
                    with open(arg, encoding="utf-8", errors="replace") as f:
                        code = f.read(200000)
                except OSError:
                    pass
                break
    rec = {"t": _time.time(), "argv": argv[:50], "cwd": _os.getcwd(), "code": code}
    with open("/run/mlea-trace/python.jsonl", "a", encoding="utf-8") as f:
        f.write(_json.dumps(rec) + "\n")


try:
    _mlea_record()
except Exception:
    pass
