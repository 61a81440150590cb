/* tvw-npz.c — NumPy .npz archives for the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * numpy.savez's layout: a zip of stored (uncompressed) “NAME.npy” entries.
 */

#include "config.h"

#include <string.h>
#include <zlib.h>

#include "tvw-npy.h"

static void
put_le16 (GByteArray *out,
          guint       v)
{
  guint8 b[2] = { v & 0xff, (v >> 8) & 0xff };

  g_byte_array_append (out, b, sizeof b);
}

static void
put_le32 (GByteArray *out,
          guint32     v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (out, b, sizeof b);
}

/* A zip entry header's fields from “version needed” to the extra field's
 * length, the same in the local header and the central directory: stored
 * (no compression), dated 1980-01-01 00:00 like numpy.savez's. */
static void
put_entry_fields (GByteArray *out,
                  guint32     crc,
                  guint32     size,
                  gsize       name_len)
{
  put_le16 (out, 20);              /* version needed: 2.0 */
  put_le16 (out, 0);               /* flags */
  put_le16 (out, 0);               /* stored */
  put_le16 (out, 0);               /* time */
  put_le16 (out, (0 << 9) | (1 << 5) | 1);
  put_le32 (out, crc);
  put_le32 (out, size);            /* compressed */
  put_le32 (out, size);
  put_le16 (out, (guint) name_len);
  put_le16 (out, 0);               /* extra field */
}

gboolean
tvw_npz_save (const char          *path,
              const char * const  *names,
              GListModel          *tensors,
              GError             **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) central = g_byte_array_new ();

  guint n = g_list_model_get_n_items (tensors);

  g_return_val_if_fail (g_strv_length ((char **) names) == n, FALSE);

  for (guint k = 0; k < n; k++)
    {
      g_autoptr(TvwTensor) tensor = g_list_model_get_item (tensors, k);
      g_autoptr(GByteArray) npy = g_byte_array_new ();
      g_autofree char *name = g_strconcat (names[k], ".npy", NULL);
      gsize name_len = strlen (name);
      gsize offset = out->len;
      guint32 crc;

      tvw_npy_encode (npy, tensor);
      /* Without Zip64, sizes and offsets are 32-bit. */
      if (npy->len > G_MAXUINT32 - 1024 || offset > G_MAXUINT32 - 1024 - npy->len ||
          name_len > G_MAXUINT16)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "“%s”: the output “%s” is too large for a .npz file", path, names[k]);
          return FALSE;
        }
      crc = (guint32) crc32 (crc32 (0L, Z_NULL, 0), npy->data, npy->len);

      put_le32 (out, 0x04034b50);
      put_entry_fields (out, crc, npy->len, name_len);
      g_byte_array_append (out, (const guint8 *) name, name_len);
      g_byte_array_append (out, npy->data, npy->len);

      put_le32 (central, 0x02014b50);
      put_le16 (central, 20);      /* made by: MS-DOS, 2.0 */
      put_entry_fields (central, crc, npy->len, name_len);
      put_le16 (central, 0);       /* comment */
      put_le16 (central, 0);       /* disk */
      put_le16 (central, 0);       /* internal attributes */
      put_le32 (central, 0);       /* external attributes */
      put_le32 (central, (guint32) offset);
      g_byte_array_append (central, (const guint8 *) name, name_len);
    }

  {
    gsize central_offset = out->len;

    g_byte_array_append (out, central->data, central->len);
    put_le32 (out, 0x06054b50);
    put_le16 (out, 0);             /* this disk */
    put_le16 (out, 0);             /* the central directory's disk */
    put_le16 (out, n);
    put_le16 (out, n);
    put_le32 (out, central->len);
    put_le32 (out, (guint32) central_offset);
    put_le16 (out, 0);             /* comment */
  }

  return g_file_set_contents (path, (const char *) out->data, out->len, error);
}
