#!/usr/bin/python3
"""Every C file of the library, the CLI, the viewer and the GStreamer plugin
that marks strings for translation is listed in po/POTFILES.in, and every
file listed there exists: otherwise its messages silently stay English."""
import os
import re
import sys

top = sys.argv[1]
listed = set()
with open(os.path.join(top, 'po', 'POTFILES.in'), encoding='utf-8') as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith('#'):
            listed.add(line)

marks = re.compile(r'\b(?:_|N_|C_|NC_|g_dngettext|ngettext)\s*\(')
wanted = set()
for sub in ('lib', 'cli', 'viewer', 'gst'):
    for root, _dirs, files in os.walk(os.path.join(top, sub)):
        for name in files:
            if name.endswith('.c'):
                path = os.path.join(root, name)
                with open(path, encoding='utf-8') as f:
                    if marks.search(f.read()):
                        wanted.add(os.path.relpath(path, top))

missing = sorted(wanted - listed)
gone = sorted(p for p in listed if not os.path.exists(os.path.join(top, p)))
print('1..2')
print(('ok' if not missing else 'not ok') + ' 1 - translatable files listed'
      + ''.join('\n# missing: ' + m for m in missing))
print(('ok' if not gone else 'not ok') + ' 2 - listed files exist'
      + ''.join('\n# no such file: ' + g for g in gone))
sys.exit(1 if missing or gone else 0)
