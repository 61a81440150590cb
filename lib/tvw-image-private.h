/* tvw-image-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/*
 * tvw_image_load:
 *
 * Decodes @file into the pixels `PIL.Image.open(path).convert("RGB")` gives:
 * an 8-bit RGB pixbuf, or an RGBA one whose alpha must be ignored (Pillow
 * drops alpha without compositing).  Grayscale and palette images are
 * expanded, 16-bit channels keep their high byte, and 16-bit grayscale PNGs
 * (Pillow's mode "I") are clipped to 255 the way Pillow converts "I" to
 * "RGB".  Not applied, as in Pillow: EXIF orientation, gamma, ICC profiles.
 *
 * The size is read from the header first: an image with no pixels or more
 * than TVW_TRANSFORM_MAX_IMAGE_PIXELS is refused before its pixels are
 * allocated.  Errors name the file: TVW_ERROR_INVALID_DATA for a file that
 * is not an image, truncated or corrupt, TVW_ERROR_INVALID_ARGUMENT for a
 * size out of range, G_IO_ERROR_* from reading it.
 */
GdkPixbuf *tvw_image_load (GFile         *file,
                           GCancellable  *cancellable,
                           GError       **error);

G_END_DECLS
