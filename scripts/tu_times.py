#!/usr/bin/env python3
"""Times every translation unit's compile command from meson's compile_commands.json.

    scripts/tu_times.py BUILD_DIR... [--filter SUBSTR] [--limit 30] [--top 10] [-j 1]

Each command runs as ninja would, except that its object goes to a scratch file (the
build directory is left as it was). The figure is the compiler's CPU time (user + sys
of the process and its children): on a machine shared with other builds, wall time
measures the neighbours as much as the file. Exits 1 if any file takes --limit seconds
or more, since CI gives every build variant a time budget and one slow file (a
sanitizer build of a heavily inlined kernel) used to take most of it.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time


def scrubbed(args, out):
    """The command with its object and dependency file sent to `out`."""
    res, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in ("-MD", "-MMD"):
            continue
        if a in ("-MF", "-MQ", "-MT", "-o"):
            skip = True
            if a == "-o":
                res += ["-o", out]
            continue
        res.append(a)
    return res


def run(entry, scratch):
    args = entry.get("arguments") or shlex.split(entry["command"])
    fd, out = tempfile.mkstemp(suffix=".o", dir=scratch)
    os.close(fd)
    t0 = time.monotonic()
    proc = subprocess.Popen(scrubbed(args, out), cwd=entry["directory"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.path.exists(out):
        os.unlink(out)
    return entry["file"], ru.ru_utime + ru.ru_stime, wall, os.waitstatus_to_exitcode(status), err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builddirs", nargs="+")
    ap.add_argument("--filter", default="", help="only files whose path contains this")
    ap.add_argument("--limit", type=float, default=30.0, help="seconds of CPU per file")
    ap.add_argument("--top", type=int, default=10, help="slowest files listed per build")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    opt = ap.parse_args()

    over = 0
    with tempfile.TemporaryDirectory() as scratch:
        for d in opt.builddirs:
            with open(os.path.join(d, "compile_commands.json")) as f:
                entries = [e for e in json.load(f) if opt.filter in e["file"]]
            with concurrent.futures.ThreadPoolExecutor(opt.jobs) as pool:
                results = list(pool.map(lambda e: run(e, scratch), entries))
            results.sort(key=lambda r: -r[1])
            total = sum(r[1] for r in results)
            print(f"{d}: {len(results)} files, {total:.1f} s CPU in all, "
                  f"slowest {results[0][1]:.1f} s ({results[0][0]})" if results else
                  f"{d}: no files")
            for name, cpu, wall, rc, err in results[:opt.top]:
                print(f"  {cpu:7.2f} s CPU {wall:7.2f} s wall  {name}")
            for name, cpu, wall, rc, err in results:
                if rc != 0:
                    print(f"  FAILED ({rc}): {name}\n{err}", file=sys.stderr)
                    over += 1
                elif cpu >= opt.limit:
                    print(f"  OVER {opt.limit:.0f} s: {name} ({cpu:.1f} s)")
                    over += 1
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
