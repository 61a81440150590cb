#!/usr/bin/python3
# Installs libtvw into a temporary staging root (meson install --destdir) and
# builds the README's C example exactly as an application would: the source
# taken verbatim from the README, compiled with `pkg-config --cflags --libs
# tvw-1` and nothing else.  The staged tvw-1.pc gets the staging root in its
# `prefix=` line, which makes the staging root an installation prefix like
# any other (every other path in the file is relative to ${prefix}).  The program then classifies a bundled sample
# offline with the embedded weights; the sample's file name says what it is.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

source_root = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
build_root = sys.argv[1]

results = []


def check(ok, what, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}")
    if not ok and detail:
        for line in detail.rstrip().splitlines():
            print(f"# {line}")
    return ok


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def main():
    print("1..6")
    stage = tempfile.mkdtemp(prefix="tvw-install-")
    try:
        r = run(["meson", "install", "-C", build_root, "--destdir", stage,
                 "--no-rebuild", "--quiet"])
        if not check(r.returncode == 0, "meson install --destdir", r.stdout + r.stderr):
            return 1

        pcs = glob.glob(os.path.join(stage, "**", "pkgconfig", "tvw-1.pc"), recursive=True)
        if not check(len(pcs) == 1, "tvw-1.pc installed", repr(pcs)):
            return 1

        with open(os.path.join(source_root, "README.md"), encoding="utf-8") as f:
            example = re.search(r"```c\n(.*?)```", f.read(), re.S).group(1)
        src = os.path.join(stage, "classify.c")
        with open(src, "w", encoding="utf-8") as f:
            f.write(example)

        env = dict(os.environ)
        # Only the staged libtvw and the system's own .pc files are visible.
        with open(pcs[0], encoding="utf-8") as f:
            pc = f.read()
        relocated = re.sub(r"^prefix=(.*)$", lambda m: "prefix=" + stage + m.group(1), pc,
                           count=1, flags=re.M)
        absolute = [l for l in pc.splitlines()
                    if re.match(r"\w+=/", l) and not l.startswith("prefix=")]
        if not check(relocated != pc and not absolute,
                     "tvw-1.pc is relocatable (paths relative to ${prefix})", pc):
            return 1
        with open(pcs[0], "w", encoding="utf-8") as f:
            f.write(relocated)
        env["PKG_CONFIG_PATH"] = os.path.dirname(pcs[0])
        for var in ("LD_LIBRARY_PATH", "GI_TYPELIB_PATH", "CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH"):
            env.pop(var, None)
        flags = run(["pkg-config", "--cflags", "--libs", "tvw-1"], env=env)
        if not check(flags.returncode == 0 and stage in flags.stdout,
                     "pkg-config --cflags --libs tvw-1", flags.stdout + flags.stderr):
            return 1

        exe = os.path.join(stage, "classify")
        cc = run(["cc", "-Wall", "-Wextra", "-Werror", src, "-o", exe] + flags.stdout.split(),
                 env=env)
        if not check(cc.returncode == 0, "README example compiles warning-free",
                     cc.stdout + cc.stderr):
            return 1

        libdir = os.path.dirname(os.path.dirname(pcs[0]))
        env["LD_LIBRARY_PATH"] = libdir
        env["TVW_OFFLINE"] = "1"
        env["TVW_CACHE_DIR"] = os.path.join(stage, "cache")
        sample = os.path.join(source_root, "data", "samples", "fashion-8-sandal.png")
        out = run([exe, sample, "MobileNet_V3_Small_Weights.FASHIONMNIST_V1"], env=env)
        # The staged binary must use the staged library, not the build tree's.
        ldd = run(["ldd", exe], env=env)
        uses_stage = any(stage in l for l in ldd.stdout.splitlines() if "libtvw" in l)
        check(out.returncode == 0 and out.stdout.startswith("Sandal: ") and uses_stage,
              "the example classifies a sample offline with the installed library",
              out.stdout + out.stderr + ldd.stdout)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
