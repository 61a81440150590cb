/* fuzz-zip.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small zip writer for the fuzz harnesses and the hostile-input tests:
 * stored entries, data 64-byte aligned as torch.save writes it, an optional
 * zip64 end record and locator.  It returns where each record went, so that
 * a test can then lie in exactly one field.
 */

#pragma once

#include <string.h>

#include <glib.h>

#include "tvw-zip-private.h"

#define FUZZ_ZIP_MAX_ENTRIES 16

typedef struct
{
  const char   *name;
  const guint8 *data;
  gsize         size;
} FuzzZipEntry;

typedef struct
{
  gsize local[FUZZ_ZIP_MAX_ENTRIES];     /* local headers */
  gsize data[FUZZ_ZIP_MAX_ENTRIES];      /* entry data */
  gsize central[FUZZ_ZIP_MAX_ENTRIES];   /* central directory entries */
  gsize cd_offset;
  gsize cd_size;
  gsize zip64_eocd;                      /* 0 without zip64 records */
  gsize zip64_locator;
  gsize eocd;
} FuzzZipLayout;

static inline void
fuzz_put16 (GByteArray *out,
            guint16     v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (out, b, 2);
}

static inline void
fuzz_put32 (GByteArray *out,
            guint32     v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (out, b, 4);
}

static inline void
fuzz_put64 (GByteArray *out,
            guint64     v)
{
  fuzz_put32 (out, (guint32) v);
  fuzz_put32 (out, (guint32) (v >> 32));
}

/* Overwrites a little-endian field of a built archive. */
static inline void
fuzz_patch (GByteArray *out,
            gsize       offset,
            guint64     value,
            guint       n_bytes)
{
  g_assert (offset + n_bytes <= out->len);
  for (guint i = 0; i < n_bytes; i++)
    out->data[offset + i] = (value >> (8 * i)) & 0xff;
}

static inline GByteArray *
fuzz_zip_build (const FuzzZipEntry *entries,
                guint               n_entries,
                gboolean            zip64,
                FuzzZipLayout      *layout)
{
  GByteArray *out = g_byte_array_new ();
  FuzzZipLayout local_layout;
  g_autoptr(GArray) local_offsets = g_array_new (FALSE, FALSE, sizeof (guint));
  guint i;

  /* Without a layout to fill, any number of entries. */
  g_assert (n_entries <= FUZZ_ZIP_MAX_ENTRIES || layout == NULL);
  if (layout == NULL)
    layout = &local_layout;
  memset (layout, 0, sizeof *layout);
#define FUZZ_ZIP_RECORD(field, i, value) \
  G_STMT_START { if ((i) < FUZZ_ZIP_MAX_ENTRIES) layout->field[i] = (value); } G_STMT_END

  for (i = 0; i < n_entries; i++)
    {
      gsize name_len = strlen (entries[i].name);
      gsize pad = (64 - (out->len + 30 + name_len + 4) % 64) % 64;

      FUZZ_ZIP_RECORD (local, i, out->len);
      g_array_append_val (local_offsets, out->len);
      fuzz_put32 (out, 0x04034b50);
      fuzz_put16 (out, 20);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);        /* stored */
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put32 (out, tvw_crc32 (entries[i].data, entries[i].size));
      fuzz_put32 (out, (guint32) entries[i].size);
      fuzz_put32 (out, (guint32) entries[i].size);
      fuzz_put16 (out, (guint16) name_len);
      fuzz_put16 (out, (guint16) (4 + pad));
      g_byte_array_append (out, (const guint8 *) entries[i].name, name_len);
      fuzz_put16 (out, 0x4246);   /* torch's padding field */
      fuzz_put16 (out, (guint16) pad);
      for (gsize k = 0; k < pad; k++)
        g_byte_array_append (out, (const guint8 *) "Z", 1);
      FUZZ_ZIP_RECORD (data, i, out->len);
      g_byte_array_append (out, entries[i].data, entries[i].size);
    }

  layout->cd_offset = out->len;
  for (i = 0; i < n_entries; i++)
    {
      gsize name_len = strlen (entries[i].name);

      FUZZ_ZIP_RECORD (central, i, out->len);
      fuzz_put32 (out, 0x02014b50);
      fuzz_put16 (out, 45);
      fuzz_put16 (out, 20);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put32 (out, tvw_crc32 (entries[i].data, entries[i].size));
      fuzz_put32 (out, (guint32) entries[i].size);
      fuzz_put32 (out, (guint32) entries[i].size);
      fuzz_put16 (out, (guint16) name_len);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put16 (out, 0);
      fuzz_put32 (out, 0);
      fuzz_put32 (out, (guint32) g_array_index (local_offsets, guint, i));
      g_byte_array_append (out, (const guint8 *) entries[i].name, name_len);
    }
  layout->cd_size = out->len - layout->cd_offset;

  if (zip64)
    {
      layout->zip64_eocd = out->len;
      fuzz_put32 (out, 0x06064b50);
      fuzz_put64 (out, 44);
      fuzz_put16 (out, 45);
      fuzz_put16 (out, 45);
      fuzz_put32 (out, 0);
      fuzz_put32 (out, 0);
      fuzz_put64 (out, n_entries);
      fuzz_put64 (out, n_entries);
      fuzz_put64 (out, layout->cd_size);
      fuzz_put64 (out, layout->cd_offset);

      layout->zip64_locator = out->len;
      fuzz_put32 (out, 0x07064b50);
      fuzz_put32 (out, 0);
      fuzz_put64 (out, layout->zip64_eocd);
      fuzz_put32 (out, 1);
    }

  layout->eocd = out->len;
  fuzz_put32 (out, 0x06054b50);
  fuzz_put16 (out, 0);
  fuzz_put16 (out, 0);
  fuzz_put16 (out, n_entries);
  fuzz_put16 (out, n_entries);
  fuzz_put32 (out, (guint32) layout->cd_size);
  fuzz_put32 (out, (guint32) layout->cd_offset);
  fuzz_put16 (out, 0);
  return out;
}

/* The layout fuzz-pth.c wraps a bare pickle in: archive/data.pkl, eight
 * 64-byte storages archive/data/0 … 7 and archive/version. */
#define FUZZ_N_STORAGES    8
#define FUZZ_STORAGE_BYTES 64

static inline GByteArray *
fuzz_zip_wrap_pickle (const guint8 *pickle,
                      gsize         size)
{
  static const char * const storage_names[FUZZ_N_STORAGES] = {
    "archive/data/0", "archive/data/1", "archive/data/2", "archive/data/3",
    "archive/data/4", "archive/data/5", "archive/data/6", "archive/data/7",
  };
  guint8 storages[FUZZ_N_STORAGES][FUZZ_STORAGE_BYTES];
  FuzzZipEntry entries[FUZZ_N_STORAGES + 2];
  guint k;

  entries[0] = (FuzzZipEntry) { "archive/data.pkl", pickle, size };
  for (k = 0; k < FUZZ_N_STORAGES; k++)
    {
      /* Small, distinct, finite values in every dtype's reading. */
      for (guint i = 0; i < FUZZ_STORAGE_BYTES; i++)
        storages[k][i] = (guint8) (k * 16 + i % 16);
      entries[k + 1] = (FuzzZipEntry) { storage_names[k], storages[k], FUZZ_STORAGE_BYTES };
    }
  entries[k + 1] = (FuzzZipEntry) { "archive/version", (const guint8 *) "3\n", 2 };
  return fuzz_zip_build (entries, k + 2, FALSE, NULL);
}
