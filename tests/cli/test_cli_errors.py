#!/usr/bin/python3
# Bad input through `tvw forward`: every case must end with a non-zero exit
# and a message that names the file and the problem — never a crash.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import pickle
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))

import numpy as np
import torch
import torchvision.models as M

import tvwconf

work = tvwconf.workdir()
cli = os.environ.get("TVW_CLI", "tvw")


def forward(model, ckpt, inp, *extra):
    return subprocess.run([cli, "forward", "--model", model, "--checkpoint", ckpt,
                           "--input", inp, "--output", os.path.join(work, "out.npy"), *extra],
                          capture_output=True, text=True, timeout=120)


def refused(proc, *needles):
    """Exit status 1 (an error, not a signal), every needle in stderr."""
    msg = proc.stderr
    ok = proc.returncode == 1 and all(n in msg for n in needles)
    return ok, f"exit {proc.returncode}: {msg.strip()}"


def check_refused(name, proc, *needles):
    ok, diag = refused(proc, *needles)
    tap.ok(ok, name, diag)


class Evil:
    """A pickle that would run a shell command if it were ever executed."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


CASES = 15
tap = tvwconf.Tap(CASES)
try:
    torch.manual_seed(0)
    sd = M.resnet18(weights=None).state_dict()
    good = os.path.join(work, "good.pth")
    torch.save(sd, good)
    inp = os.path.join(work, "in.npy")
    np.save(inp, np.zeros((1, 3, 32, 32), np.float32))

    tap.ok(forward("resnet18", good, inp).returncode == 0, "a valid checkpoint runs")

    p = forward("resnet9000", good, inp)
    check_refused("unknown architecture", p, "resnet9000")

    ten = {k: v for k, v in sd.items()}
    ten["fc.weight"] = torch.zeros(10, 512)
    ten["fc.bias"] = torch.zeros(10)
    path = os.path.join(work, "ten.pth")
    torch.save(ten, path)
    check_refused("mis-shaped key is named with both shapes", forward("resnet18", path, inp),
                  "fc.weight", "[10, 512]", "[1000, 512]", "ten.pth")

    missing = {k: v for k, v in sd.items() if k != "layer2.0.bn1.running_var"}
    path = os.path.join(work, "missing.pth")
    torch.save(missing, path)
    check_refused("missing key is named", forward("resnet18", path, inp),
                  "Missing key", "layer2.0.bn1.running_var")

    extra = dict(sd)
    extra["head.weight"] = torch.zeros(3)
    path = os.path.join(work, "extra.pth")
    torch.save(extra, path)
    check_refused("unexpected key is named", forward("resnet18", path, inp),
                  "Unexpected key", "head.weight")
    tap.ok(forward("resnet18", path, inp, "--non-strict").returncode == 0,
           "--non-strict accepts an unexpected key")

    data = open(good, "rb").read()
    path = os.path.join(work, "truncated.pth")
    open(path, "wb").write(data[: len(data) // 2])
    check_refused("truncated checkpoint", forward("resnet18", path, inp), "truncated.pth")

    marker = os.path.join(work, "pwned")
    path = os.path.join(work, "evil.pth")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil/data.pkl", pickle.dumps({"fc.weight": Evil(marker)}, protocol=2))
        z.writestr("evil/version", "3\n")
    p = forward("resnet18", path, inp)
    ok, diag = refused(p, "evil.pth")
    tap.ok(ok and "system" in p.stderr and not os.path.exists(marker),
           "a pickle asking for os.system is refused and nothing runs", diag)

    path = os.path.join(work, "bad.safetensors")
    open(path, "wb").write((10 ** 12).to_bytes(8, "little") + b"{}")
    check_refused("safetensors header larger than the file", forward("resnet18", path, inp),
                  "bad.safetensors")

    # A header length whose low byte is 0x80 (pickle's PROTO opcode) is
    # still a safetensors file.
    path = os.path.join(work, "proto-like.safetensors")
    tvwconf.save_safetensors(sd, path)
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header, body = raw[8:8 + n], raw[8 + n:]
    header += b" " * ((0x80 - len(header)) % 256)
    open(path, "wb").write(len(header).to_bytes(8, "little") + header + body)
    assert len(header) & 0xff == 0x80
    tap.ok(forward("resnet18", path, inp).returncode == 0,
           "a safetensors header length that looks like a pickle opcode")

    path = os.path.join(work, "f64.npy")
    np.save(path, np.zeros((1, 3, 32, 32), np.float64))
    check_refused(".npy of float64", forward("resnet18", good, path), "f64.npy", "float32")

    path = os.path.join(work, "rank2.npy")
    np.save(path, np.zeros((3, 32), np.float32))
    check_refused(".npy of rank 2", forward("resnet18", good, path), "dimensions")

    path = os.path.join(work, "gray.npy")
    np.save(path, np.zeros((1, 1, 32, 32), np.float32))
    check_refused("one channel instead of three", forward("resnet18", good, path), "3 input channels")

    path = os.path.join(work, "empty.npy")
    np.save(path, np.zeros((1, 3, 0, 7), np.float32))
    check_refused("an empty image", forward("resnet18", good, path), "resnet18")

    path = os.path.join(work, "short.npy")
    open(path, "wb").write(open(inp, "rb").read()[:200])
    check_refused("truncated .npy", forward("resnet18", good, path), "short.npy")
finally:
    shutil.rmtree(work, ignore_errors=True)

tap.exit()
