#!/usr/bin/python3
# test_cache_gi.py — the weights cache from Python, through GObject
# Introspection alone (no override needed, no torch).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs with /usr/bin/python3 and the uninstalled Tvw typelib on
# GI_TYPELIB_PATH.  Every case gets fresh cache directories; files are
# "downloaded" from file:// URLs, so nothing touches the network.  Output is
# TAP.

import hashlib
import os
import shutil
import sys
import tempfile
import traceback

import gi

gi.require_version("Tvw", "1.0")
from gi.repository import GLib, Tvw  # noqa: E402

passed = []


def check(name, fn):
    """Runs one case in fresh directories and prints its TAP line at once
    (the plan comes last)."""
    tmp = tempfile.mkdtemp(prefix="tvw-cache-gi-")
    try:
        fn(Dirs(tmp))
        passed.append(True)
        print(f"ok {len(passed)} - {name}")
    except Exception as e:  # noqa: BLE001 — every failure is a TAP line
        passed.append(False)
        print(f"not ok {len(passed)} - {name}")
        for line in "".join(traceback.format_exception(type(e), e, e.__traceback__)).splitlines():
            print(f"# {line}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Dirs:
    """Fresh cache directories, through the environment libtvw reads at every
    call, and a directory that file:// URLs point into."""

    def __init__(self, tmp):
        self.tvw = os.path.join(tmp, "tvw-cache")
        self.torch = os.path.join(tmp, "torch-home", "hub", "checkpoints")
        self.remote = os.path.join(tmp, "remote")
        os.environ["TVW_CACHE_DIR"] = self.tvw
        os.environ["TORCH_HOME"] = os.path.join(tmp, "torch-home")
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "xdg-cache")
        os.environ.pop("TVW_OFFLINE", None)
        os.environ.pop("TVW_MIRROR", None)
        for d in (self.tvw, self.torch, self.remote):
            os.makedirs(d)

    def remote_file(self, stem, size):
        """A file named like torchvision's checkpoints, and its file:// URL."""
        data = bytes((i * 7 + size) & 0xFF for i in range(size))
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
        path = os.path.join(self.remote, name)
        with open(path, "wb") as f:
            f.write(data)
        return name, GLib.filename_to_uri(path, None)


def by_name(entries):
    return {e.get_name(): e for e in entries}


def test_fetch_and_list(d):
    name, url = d.remote_file("fetched", 100000)
    progress = []
    path = Tvw.cache_fetch(url, lambda current, total, *data: progress.append((current, total)), None)
    assert path == os.path.join(d.tvw, name), path
    assert progress and progress[-1] == (100000, 100000), progress
    assert Tvw.cache_name_from_url(url) == name

    with open(os.path.join(d.torch, "plain.pth"), "wb") as f:
        f.write(b"x" * 10)

    entries = Tvw.cache_list(False, None)
    assert all(isinstance(e, Tvw.CacheEntry) for e in entries)
    listed = by_name(entries)
    assert set(listed) == {name, "plain.pth"}, set(listed)

    e = listed[name]
    assert e.get_path() == path
    assert e.get_size() == 100000
    assert e.get_location() == Tvw.CacheLocation.TVW
    assert e.get_state() == Tvw.CacheState.VERIFIED

    t = listed["plain.pth"]
    assert t.get_location() == Tvw.CacheLocation.TORCH
    assert t.get_state() == Tvw.CacheState.NO_HASH
    assert t.get_size() == 10
    assert os.path.dirname(t.get_path()) == Tvw.cache_get_torch_dir() == d.torch

    assert Tvw.cache_query(url) == (Tvw.CacheState.VERIFIED, path)
    # The entries outlive the list they came from.
    del entries, listed
    assert e.copy().get_name() == name


def test_remove(d):
    name, url = d.remote_file("removed", 5000)
    path = Tvw.cache_fetch(url, None, None)
    assert Tvw.cache_remove(name)
    assert not os.path.exists(path)
    assert name not in by_name(Tvw.cache_list(False, None))
    assert Tvw.cache_query(url) == (Tvw.CacheState.MISSING, None)
    try:
        Tvw.cache_remove(name)
    except GLib.Error as e:
        assert e.matches(Tvw.error_quark(), Tvw.Error.NOT_FOUND), e
    else:
        raise AssertionError("removing a missing file succeeded")


def test_fetch_async(d):
    name, url = d.remote_file("async", 300000)
    loop = GLib.MainLoop()
    progress = []
    done = {}

    def on_progress(current, total, *data):
        progress.append((current, total))

    def on_done(source, result, *data):
        done["path"] = Tvw.cache_fetch_finish(result)
        loop.quit()

    # Keywords: with two callbacks, PyGObject only packs the user data of the
    # last one, so a positional progress_data would have to be a tuple.
    Tvw.cache_fetch_async(url=url, progress=on_progress, callback=on_done)
    loop.run()
    assert done["path"] == os.path.join(d.tvw, name), done
    assert progress and progress[-1] == (300000, 300000), progress
    assert [c for c, _ in progress] == sorted(c for c, _ in progress)


def test_offline(d):
    name, url = d.remote_file("offline", 1000)
    Tvw.set_offline(True)
    try:
        Tvw.cache_fetch(url, None, None)
    except GLib.Error as e:
        assert e.matches(Tvw.error_quark(), Tvw.Error.OFFLINE), e
    else:
        raise AssertionError("fetched while offline")
    finally:
        Tvw.set_offline(False)
    assert Tvw.cache_list(False, None) == []


check("cache_fetch with progress, then cache_list shows the file with its state, size and location",
      test_fetch_and_list)
check("cache_remove deletes a fetched file", test_remove)
check("cache_fetch_async reports progress on the main loop", test_fetch_async)
check("cache_fetch fails with Tvw.Error.OFFLINE when offline", test_offline)

print(f"1..{len(passed)}")
sys.exit(0 if all(passed) else 1)
