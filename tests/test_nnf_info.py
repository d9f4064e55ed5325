"""nnf-info's options: --json is one JSON object that agrees with the text output and
the environment, --version is the version alone, --help is the usage (and no facts), an
unknown option fails with the usage on stderr.

Usage: test_nnf_info.py NNF_INFO VERSION"""
import json
import os
import subprocess
import sys

tool, version = sys.argv[1], sys.argv[2]


def run(*args, env=None):
    return subprocess.run([tool, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


r = run("--version")
check(r.returncode == 0 and r.stdout == version + "\n", f"--version printed {r.stdout!r}")

for opt in ("--help", "-h"):
    r = run(opt)
    check(r.returncode == 0 and r.stdout.startswith("usage: nnf-info"), f"{opt}: {r.stdout!r}")
    check("ISAs compiled in" not in r.stdout, f"{opt} printed the facts")

r = run("--bogus")
check(r.returncode == 2 and "usage: nnf-info" in r.stderr and r.stdout == "",
      f"--bogus: exit {r.returncode}, stderr {r.stderr!r}")
r = run("--json", "--help")
check(r.returncode == 2, "two options were accepted")

text = run().stdout
r = run("--json")
check(r.returncode == 0, f"--json exited {r.returncode}")
info = json.loads(r.stdout)
check(info["version"] == version, "version")
check(set(info["isas_supported"]) <= set(info["isas_compiled"]), "supported within compiled")
check(info["active_isa"] in info["isas_supported"], "the active ISA is supported")
check(f"active ISA: {info['active_isa']} ({info['why']})" in text, "--json and text agree")
check(info["threads"] >= 1 and f"threads: {info['threads']}" in text, "threads")
check(info["nnf_isa"] is None, "NNF_ISA unset")

# The environment as a program would see it: a cap in capitals, a thread count, levels.
r = run("--json", env={"NNF_ISA": "SCALAR", "NNF_NUM_THREADS": "3", "NNF_VERBOSE": "0",
                       "NNF_CACHE_MAX": "64M"})
info = json.loads(r.stdout)
check(info["active_isa"] == "scalar" and info["nnf_isa"] == "scalar", "NNF_ISA=SCALAR")
check(info["threads"] == 3 and info["log_level"] == 0, "NNF_NUM_THREADS, NNF_VERBOSE")
check(info["cache_limit_bytes"] == 64 << 20, "NNF_CACHE_MAX")
check(r.stderr == "", f"NNF_VERBOSE=0 printed {r.stderr!r}")
print("nnf-info: --version, --help, --json, bad options: ok")
