/* tvw-zip-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The zip container of torch.save: end of central directory (with the zip64
 * record and locator torch always writes), central directory and local
 * headers.  Only stored (uncompressed) entries are accepted, so every entry
 * is a byte range of the mapped file.
 */

#pragma once

#include "tvw-ckpt-private.h"

G_BEGIN_DECLS

typedef struct
{
  char    *name;
  guint64  header_offset;  /* local file header */
  guint64  data_offset;    /* first byte of the (stored) data */
  guint64  size;
  guint32  crc32;
} TvwZipEntry;

typedef struct _TvwZip TvwZip;

/* Parses the directory of a zip held in @data.  Every entry is checked to
 * lie inside the file, before the central directory, and not to overlap
 * another one.  @prefetch: @data is a file mapping whose local headers
 * should be read ahead (see tvw_ckpt_prefetch()). */
TvwZip             *tvw_zip_open       (const guint8       *data,
                                        gsize               size,
                                        const char         *display_name,
                                        gboolean            prefetch,
                                        GError            **error);
void                tvw_zip_free       (TvwZip             *self);
guint               tvw_zip_get_n_entries (TvwZip          *self);
const TvwZipEntry  *tvw_zip_get_entry  (TvwZip             *self,
                                        guint               index);
const TvwZipEntry  *tvw_zip_lookup     (TvwZip             *self,
                                        const char         *name);
/* Compares the entry's CRC-32 with its data. */
gboolean            tvw_zip_check_crc  (TvwZip             *self,
                                        const TvwZipEntry  *entry,
                                        GError            **error);

guint32             tvw_crc32          (const guint8       *data,
                                        gsize               len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwZip, tvw_zip_free)

G_END_DECLS
