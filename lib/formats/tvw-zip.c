/* tvw-zip.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A zip directory reader for the archives torch.save writes (PKWARE
 * APPNOTE 6.3: sections 4.3.7 local header, 4.3.12 central directory,
 * 4.3.14–4.3.16 zip64 and end records, 4.5.3 zip64 extra field).
 */

#include "config.h"

#include "tvw-hash-private.h"
#include "tvw-zip-private.h"

#define SIG_LOCAL        0x04034b50u
#define SIG_CENTRAL      0x02014b50u
#define SIG_EOCD         0x06054b50u
#define SIG_ZIP64_EOCD   0x06064b50u
#define SIG_ZIP64_LOC    0x07064b50u

#define EOCD_SIZE        22
#define ZIP64_LOC_SIZE   20
#define ZIP64_EOCD_SIZE  56
#define CENTRAL_SIZE     46
#define LOCAL_SIZE       30

#define MAX_ENTRIES      (1u << 20)

struct _TvwZip
{
  char        *display_name;
  const guint8 *data;
  gsize        size;
  GArray      *entries;   /* TvwZipEntry, central directory order */
  GHashTable  *by_name;   /* name → index + 1 */
};

G_GNUC_PRINTF (3, 4)
static void
zip_error (TvwZip      *self,
           GError     **error,
           const char  *format,
           ...)
{
  va_list args;

  va_start (args, format);
  tvw_file_error_valist (error, self->display_name, format, args);
  va_end (args);
}

static void
zip_entry_clear (gpointer data)
{
  TvwZipEntry *entry = data;

  g_free (entry->name);
}

void
tvw_zip_free (TvwZip *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->entries, g_array_unref);
  g_free (self->display_name);
  g_free (self);
}

guint32
tvw_crc32 (const guint8 *data,
           gsize         len)
{
  static guint32 table[256];
  static gsize initialized = 0;
  guint32 crc = 0xffffffffu;
  gsize i;

  if (g_once_init_enter (&initialized))
    {
      guint32 n;

      for (n = 0; n < 256; n++)
        {
          guint32 c = n;
          int k;

          for (k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
          table[n] = c;
        }
      g_once_init_leave (&initialized, 1);
    }

  for (i = 0; i < len; i++)
    crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

/* Finds the end of central directory record: the last one whose comment
 * runs exactly to the end of the file. */
static gboolean
zip_find_eocd (TvwZip  *self,
               guint64 *eocd_offset)
{
  gsize min_off, off;

  if (self->size < EOCD_SIZE)
    return FALSE;
  min_off = self->size > EOCD_SIZE + 0xffff ? self->size - EOCD_SIZE - 0xffff : 0;
  off = self->size - EOCD_SIZE;
  for (;;)
    {
      const guint8 *p = self->data + off;

      if (p[0] == 'P' && p[1] == 'K' && p[2] == 5 && p[3] == 6)
        {
          guint16 comment_len = (guint16) (p[20] | (p[21] << 8));

          if ((guint64) off + EOCD_SIZE + comment_len == self->size)
            {
              *eocd_offset = off;
              return TRUE;
            }
        }
      if (off == min_off)
        return FALSE;
      off--;
    }
}

typedef struct
{
  guint64 n_entries;
  guint64 cd_size;
  guint64 cd_offset;
  guint64 end;   /* where the directory must end: the zip64 record or the EOCD */
} ZipDirectory;

static gboolean
zip_read_directory (TvwZip        *self,
                    ZipDirectory  *dir,
                    GError       **error)
{
  const guint8 *eocd;
  guint64 eocd_off;
  guint16 disk, cd_disk, n_disk16, n_total16;
  guint32 cd_size32, cd_offset32;

  if (!zip_find_eocd (self, &eocd_off))
    {
      zip_error (self, error, "zip end of central directory record not found "
                 "(truncated file?)");
      return FALSE;
    }

  /* zip_find_eocd() checked that the record fits. */
  eocd = self->data + eocd_off;
  disk = tvw_le16 (eocd + 4);
  cd_disk = tvw_le16 (eocd + 6);
  n_disk16 = tvw_le16 (eocd + 8);
  n_total16 = tvw_le16 (eocd + 10);
  cd_size32 = tvw_le32 (eocd + 12);
  cd_offset32 = tvw_le32 (eocd + 16);

  dir->n_entries = n_total16;
  dir->cd_size = cd_size32;
  dir->cd_offset = cd_offset32;
  dir->end = eocd_off;

  /* torch.save always writes a zip64 end record and its locator. */
  if (eocd_off >= ZIP64_LOC_SIZE &&
      tvw_le32 (self->data + eocd_off - ZIP64_LOC_SIZE) == SIG_ZIP64_LOC)
    {
      guint64 loc_off = eocd_off - ZIP64_LOC_SIZE;
      const guint8 *loc = self->data + loc_off;
      const guint8 *z64;
      guint64 z64_off = tvw_le64 (loc + 8);
      guint64 record_size, n_disk64, n_total64;

      if (tvw_le32 (loc + 4) != 0 || tvw_le32 (loc + 16) > 1)
        {
          zip_error (self, error, "multi-disk zip archives are not supported");
          return FALSE;
        }
      if (!tvw_range_inside (z64_off, ZIP64_EOCD_SIZE, loc_off))
        {
          zip_error (self, error, "zip64 end of central directory record lies outside the file");
          return FALSE;
        }
      z64 = self->data + z64_off;
      record_size = tvw_le64 (z64 + 4);
      if (tvw_le32 (z64) != SIG_ZIP64_EOCD || record_size < ZIP64_EOCD_SIZE - 12 ||
          !tvw_range_inside (z64_off + 12, record_size, loc_off))
        {
          zip_error (self, error, "bad zip64 end of central directory record");
          return FALSE;
        }
      n_disk64 = tvw_le64 (z64 + 24);
      n_total64 = tvw_le64 (z64 + 32);
      if (tvw_le32 (z64 + 16) != 0 || tvw_le32 (z64 + 20) != 0 || n_disk64 != n_total64)
        {
          zip_error (self, error, "multi-disk zip archives are not supported");
          return FALSE;
        }
      dir->n_entries = n_total64;
      dir->cd_size = tvw_le64 (z64 + 40);
      dir->cd_offset = tvw_le64 (z64 + 48);
      dir->end = z64_off;

      /* The 16/32-bit fields must agree unless they are saturated. */
      if ((n_total16 != 0xffff && n_total16 != dir->n_entries) ||
          (cd_size32 != 0xffffffffu && cd_size32 != dir->cd_size) ||
          (cd_offset32 != 0xffffffffu && cd_offset32 != dir->cd_offset))
        {
          zip_error (self, error, "zip64 and zip end of central directory records disagree");
          return FALSE;
        }
      return TRUE;
    }

  if (disk != 0 || cd_disk != 0 || n_disk16 != n_total16)
    {
      zip_error (self, error, "multi-disk zip archives are not supported");
      return FALSE;
    }
  if (n_total16 == 0xffff || cd_size32 == 0xffffffffu || cd_offset32 == 0xffffffffu)
    {
      zip_error (self, error, "zip64 archive without a zip64 end of central directory locator");
      return FALSE;
    }
  return TRUE;
}

/* The zip64 extended information extra field replaces the saturated
 * fields, in this order. */
static gboolean
zip_apply_zip64_extra (const guint8 *extra,
                       gsize         extra_len,
                       guint64      *usize,
                       guint64      *csize,
                       guint64      *offset,
                       guint32      *disk)
{
  TvwReader r;

  tvw_reader_init (&r, extra, extra_len);
  while (tvw_reader_remaining (&r) >= 4)
    {
      const guint8 *head, *body;
      guint16 id, len;
      TvwReader b;

      tvw_reader_bytes (&r, 4, &head);
      id = tvw_le16 (head);
      len = tvw_le16 (head + 2);
      if (!tvw_reader_bytes (&r, len, &body))
        return FALSE;
      if (id != 0x0001)
        continue;

      tvw_reader_init (&b, body, len);
      if (*usize == 0xffffffffu && !tvw_reader_u64 (&b, usize))
        return FALSE;
      if (*csize == 0xffffffffu && !tvw_reader_u64 (&b, csize))
        return FALSE;
      if (*offset == 0xffffffffu && !tvw_reader_u64 (&b, offset))
        return FALSE;
      if (*disk == 0xffff && !tvw_reader_u32 (&b, disk))
        return FALSE;
      return TRUE;
    }
  return tvw_reader_remaining (&r) == 0;
}

static gint
compare_by_header_offset (gconstpointer a,
                          gconstpointer b)
{
  const TvwZipEntry *ea = *(const TvwZipEntry * const *) a;
  const TvwZipEntry *eb = *(const TvwZipEntry * const *) b;

  return ea->header_offset < eb->header_offset ? -1 :
         ea->header_offset > eb->header_offset ? 1 : 0;
}

static gboolean
zip_read_entries (TvwZip              *self,
                  const ZipDirectory  *dir,
                  GError             **error)
{
  g_autoptr(GPtrArray) sorted = NULL;
  TvwReader r, lr;
  guint64 i;

  if (!tvw_range_inside (dir->cd_offset, dir->cd_size, dir->end))
    {
      zip_error (self, error, "zip central directory lies outside the file");
      return FALSE;
    }
  if (dir->n_entries > dir->cd_size / CENTRAL_SIZE || dir->n_entries > MAX_ENTRIES)
    {
      zip_error (self, error, "zip central directory claims %" G_GUINT64_FORMAT
                 " entries, more than it can hold", dir->n_entries);
      return FALSE;
    }

  tvw_reader_init (&r, self->data + dir->cd_offset, dir->cd_size);
  for (i = 0; i < dir->n_entries; i++)
    {
      TvwZipEntry entry = { 0, };
      const guint8 *cd, *name, *extra, *local, *lname;
      guint16 flags, method, name_len, extra_len, comment_len;
      guint16 lmethod, lname_len, lextra_len;
      guint64 csize, usize, offset;
      guint32 disk;

      if (!tvw_reader_bytes (&r, CENTRAL_SIZE, &cd))
        goto truncated_cd;
      if (tvw_le32 (cd) != SIG_CENTRAL)
        {
          zip_error (self, error, "bad signature in zip central directory entry %" G_GUINT64_FORMAT, i);
          return FALSE;
        }
      flags = tvw_le16 (cd + 8);
      method = tvw_le16 (cd + 10);
      entry.crc32 = tvw_le32 (cd + 16);
      csize = tvw_le32 (cd + 20);
      usize = tvw_le32 (cd + 24);
      name_len = tvw_le16 (cd + 28);
      extra_len = tvw_le16 (cd + 30);
      comment_len = tvw_le16 (cd + 32);
      disk = tvw_le16 (cd + 34);
      offset = tvw_le32 (cd + 42);
      if (!tvw_reader_bytes (&r, name_len, &name) ||
          !tvw_reader_bytes (&r, extra_len, &extra) ||
          !tvw_reader_skip (&r, comment_len))
        goto truncated_cd;

      if (name_len == 0 || memchr (name, 0, name_len) != NULL ||
          !g_utf8_validate ((const char *) name, name_len, NULL))
        {
          zip_error (self, error, "zip entry %" G_GUINT64_FORMAT " has an invalid name", i);
          return FALSE;
        }
      entry.name = g_strndup ((const char *) name, name_len);

#define ENTRY_FAIL(...) G_STMT_START { zip_error (self, error, __VA_ARGS__); g_free (entry.name); return FALSE; } G_STMT_END

      if (!zip_apply_zip64_extra (extra, extra_len, &usize, &csize, &offset, &disk))
        ENTRY_FAIL ("zip entry '%s' has a malformed extra field", entry.name);
      if (disk != 0)
        ENTRY_FAIL ("zip entry '%s' is on another disk", entry.name);
      if (flags & 0x0001)
        ENTRY_FAIL ("zip entry '%s' is encrypted", entry.name);
      if (method != 0)
        ENTRY_FAIL ("zip entry '%s' is compressed (method %u); torch.save writes "
                    "stored entries only", entry.name, method);
      if (csize != usize)
        ENTRY_FAIL ("zip entry '%s' is stored but its sizes differ", entry.name);

      /* The local header repeats the name; its own sizes may be zero
       * (torch sets the data descriptor flag), so the central ones count. */
      if (!tvw_range_inside (offset, LOCAL_SIZE, dir->cd_offset))
        ENTRY_FAIL ("zip entry '%s' lies outside the file", entry.name);
      tvw_reader_init (&lr, self->data, dir->cd_offset);
      tvw_reader_seek (&lr, offset);
      tvw_reader_bytes (&lr, LOCAL_SIZE, &local);
      lmethod = tvw_le16 (local + 8);
      lname_len = tvw_le16 (local + 26);
      lextra_len = tvw_le16 (local + 28);
      if (tvw_le32 (local) != SIG_LOCAL)
        ENTRY_FAIL ("bad local header signature for zip entry '%s'", entry.name);
      if (!tvw_reader_bytes (&lr, lname_len, &lname) ||
          !tvw_reader_skip (&lr, lextra_len))
        ENTRY_FAIL ("zip entry '%s' lies outside the file", entry.name);
      if (lname_len != name_len || memcmp (lname, name, name_len) != 0)
        ENTRY_FAIL ("zip entry '%s' has a different name in its local header", entry.name);
      if (lmethod != method)
        ENTRY_FAIL ("zip entry '%s' is compressed (method %u); torch.save writes "
                    "stored entries only", entry.name, lmethod);

      entry.header_offset = offset;
      entry.data_offset = lr.pos;
      entry.size = usize;
      if (!tvw_range_inside (entry.data_offset, entry.size, dir->cd_offset))
        ENTRY_FAIL ("zip entry '%s' (%" G_GUINT64_FORMAT " bytes) extends past the end "
                    "of the file data", entry.name, entry.size);

      if (g_hash_table_contains (self->by_name, entry.name))
        ENTRY_FAIL ("zip entry '%s' appears twice", entry.name);

#undef ENTRY_FAIL

      g_array_append_val (self->entries, entry);
      g_hash_table_insert (self->by_name,
                           g_array_index (self->entries, TvwZipEntry, self->entries->len - 1).name,
                           GUINT_TO_POINTER (self->entries->len));
    }

  /* No two entries may share bytes. */
  sorted = g_ptr_array_sized_new (self->entries->len);
  for (i = 0; i < self->entries->len; i++)
    g_ptr_array_add (sorted, &g_array_index (self->entries, TvwZipEntry, i));
  g_ptr_array_sort (sorted, compare_by_header_offset);
  for (i = 1; i < sorted->len; i++)
    {
      const TvwZipEntry *prev = sorted->pdata[i - 1];
      const TvwZipEntry *next = sorted->pdata[i];

      if (prev->data_offset + prev->size > next->header_offset)
        {
          zip_error (self, error, "zip entries '%s' and '%s' overlap", prev->name, next->name);
          return FALSE;
        }
    }
  return TRUE;

truncated_cd:
  zip_error (self, error, "zip central directory is truncated");
  return FALSE;
}

/* A quick pass over the central directory that only hints where the local
 * headers are; zip_read_entries() checks everything. */
static void
zip_prefetch_local_headers (TvwZip             *self,
                            const ZipDirectory *dir)
{
  TvwReader r;
  guint64 i;

  if (!tvw_range_inside (dir->cd_offset, dir->cd_size, dir->end))
    return;
  tvw_reader_init (&r, self->data + dir->cd_offset, dir->cd_size);
  for (i = 0; i < dir->n_entries && i < MAX_ENTRIES; i++)
    {
      const guint8 *cd;

      if (!tvw_reader_bytes (&r, CENTRAL_SIZE, &cd) ||
          !tvw_reader_skip (&r, (guint64) tvw_le16 (cd + 28) + tvw_le16 (cd + 30) + tvw_le16 (cd + 32)))
        return;
      tvw_ckpt_prefetch (self->data, self->size, tvw_le32 (cd + 42),
                         LOCAL_SIZE + tvw_le16 (cd + 28) + 64);
    }
}

TvwZip *
tvw_zip_open (const guint8  *data,
              gsize          size,
              const char    *display_name,
              gboolean       prefetch,
              GError       **error)
{
  g_autoptr(TvwZip) self = g_new0 (TvwZip, 1);
  ZipDirectory dir;

  self->display_name = g_strdup (display_name);
  self->data = data;
  self->size = size;
  self->entries = g_array_new (FALSE, TRUE, sizeof (TvwZipEntry));
  g_array_set_clear_func (self->entries, zip_entry_clear);
  self->by_name = tvw_str_table_new (NULL, NULL);

  if (!zip_read_directory (self, &dir, error))
    return NULL;
  if (prefetch)
    zip_prefetch_local_headers (self, &dir);
  if (!zip_read_entries (self, &dir, error))
    return NULL;
  return g_steal_pointer (&self);
}

guint
tvw_zip_get_n_entries (TvwZip *self)
{
  return self->entries->len;
}

const TvwZipEntry *
tvw_zip_get_entry (TvwZip *self,
                   guint   index)
{
  g_return_val_if_fail (index < self->entries->len, NULL);
  return &g_array_index (self->entries, TvwZipEntry, index);
}

const TvwZipEntry *
tvw_zip_lookup (TvwZip     *self,
                const char *name)
{
  guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (self->by_name, name));

  return pos > 0 ? &g_array_index (self->entries, TvwZipEntry, pos - 1) : NULL;
}

gboolean
tvw_zip_check_crc (TvwZip             *self,
                   const TvwZipEntry  *entry,
                   GError            **error)
{
  guint32 crc = tvw_crc32 (self->data + entry->data_offset, entry->size);

  if (crc != entry->crc32)
    {
      zip_error (self, error, "zip entry '%s' is corrupt (CRC-32 %08x, expected %08x)",
                 entry->name, crc, entry->crc32);
      return FALSE;
    }
  return TRUE;
}
