#!/bin/sh
# Installs what libtvw needs to build, test and run on Debian 12.
# Idempotent; works as root or through sudo.
set -eu

PACKAGES="
  gcc pkg-config meson ninja-build git
  libglib2.0-dev libgdk-pixbuf-2.0-dev libjson-glib-dev libsoup-3.0-dev
  libopenblas-dev gobject-introspection libgirepository1.0-dev
  libgtk-4-dev libadwaita-1-dev gir1.2-gtk-4.0 gir1.2-adw-1
  gettext desktop-file-utils appstream-util
  python3-gi gjs
  python3-torch python3-torchvision python3-numpy python3-pil
  xvfb xauth time dataset-fashion-mnist
  clang libclang-rt-14-dev valgrind
"
# GStreamer plugin (gst/): -dev (and Pango for its overlay) to build it; plugins-base (videotestsrc, videoconvert) and tools (gst-launch/gst-inspect) for its tests and README; plugins-good for cameras (v4l2src).
PACKAGES="$PACKAGES libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-tools libpango1.0-dev"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "setup: every package is installed already"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "setup: run as root or install sudo; missing:$missing" >&2
  exit 1
fi

echo "setup: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
