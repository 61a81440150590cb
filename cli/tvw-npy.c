/* tvw-npy.c — NumPy .npy files for the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tvw-npy.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER 65536

static gboolean
npy_error (GError     **error,
           const char  *path,
           const char  *what)
{
  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
               "“%s” is not a float32 .npy array: %s", path, what);
  return FALSE;
}

/* Finds the value that follows 'key': in the header dictionary. */
static const char *
find_key (const char *header,
          const char *key)
{
  g_autofree char *quoted1 = g_strdup_printf ("'%s'", key);
  g_autofree char *quoted2 = g_strdup_printf ("\"%s\"", key);
  const char *p = strstr (header, quoted1);

  if (p == NULL)
    p = strstr (header, quoted2);
  if (p == NULL)
    return NULL;
  p += strlen (quoted1);
  while (*p == ' ')
    p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ')
    p++;

  return p;
}

static gboolean
parse_shape (const char  *p,
             gint64      *shape,
             guint       *n_dims)
{
  guint n = 0;

  if (p == NULL || *p != '(')
    return FALSE;
  p++;

  for (;;)
    {
      char *end;
      gint64 v;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ')')
        break;
      if (!g_ascii_isdigit (*p) || n >= TVW_TENSOR_MAX_DIMS)
        return FALSE;
      v = g_ascii_strtoll (p, &end, 10);
      if (end == p || v < 0 || v > G_MAXINT32)
        return FALSE;
      shape[n++] = v;
      p = end;
      while (*p == ' ')
        p++;
      if (*p != ',' && *p != ')')
        return FALSE;
    }

  *n_dims = n;
  return TRUE;
}

TvwTensor *
tvw_npy_load (const char  *path,
              GError     **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autofree char *header = NULL;
  const guint8 *bytes;
  gsize size, header_len, offset, count = 1;
  gint64 shape[TVW_TENSOR_MAX_DIMS];
  guint n_dims = 0;
  const char *p;

  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return NULL;

  bytes = (const guint8 *) g_mapped_file_get_contents (file);
  size = g_mapped_file_get_length (file);

  if (size < 10 || memcmp (bytes, NPY_MAGIC, 6) != 0)
    return npy_error (error, path, "bad magic"), NULL;

  if (bytes[6] == 1)
    {
      header_len = bytes[8] | (bytes[9] << 8);
      offset = 10;
    }
  else if (bytes[6] == 2 || bytes[6] == 3)
    {
      if (size < 12)
        return npy_error (error, path, "truncated header"), NULL;
      header_len = bytes[8] | (bytes[9] << 8) | ((gsize) bytes[10] << 16) | ((gsize) bytes[11] << 24);
      offset = 12;
    }
  else
    return npy_error (error, path, "unknown format version"), NULL;

  if (header_len > NPY_MAX_HEADER || header_len > size - offset)
    return npy_error (error, path, "truncated header"), NULL;

  header = g_strndup ((const char *) bytes + offset, header_len);
  offset += header_len;

  p = find_key (header, "descr");
  if (p == NULL || (strncmp (p, "'<f4'", 5) != 0 && strncmp (p, "\"<f4\"", 5) != 0))
    return npy_error (error, path, "the dtype is not little-endian float32 ('<f4')"), NULL;

  p = find_key (header, "fortran_order");
  if (p == NULL || strncmp (p, "False", 5) != 0)
    return npy_error (error, path, "Fortran-ordered arrays are not supported"), NULL;

  if (!parse_shape (find_key (header, "shape"), shape, &n_dims))
    return npy_error (error, path, "bad shape"), NULL;

  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] != 0 && count > G_MAXSIZE / 4 / (gsize) shape[i])
        return npy_error (error, path, "the shape is too large"), NULL;
      count *= (gsize) shape[i];
    }

  if (count * 4 != size - offset)
    return npy_error (error, path, "the data size does not match the shape (truncated?)"), NULL;

  /* Copy: the tensor must be aligned and outlive the mapping of a file the
   * user may rewrite. */
  data = g_bytes_new (bytes + offset, count * 4);

  return tvw_tensor_new_from_bytes (TVW_DTYPE_FLOAT32, shape, n_dims, data, error);
}

void
tvw_npy_encode (GByteArray *out,
                TvwTensor  *tensor)
{
  g_autoptr(GString) header = g_string_new (NULL);
  g_autoptr(GBytes) data = tvw_tensor_get_bytes (tensor);
  const gint64 *shape;
  guint n_dims;
  guint16 len;
  guint8 preamble[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
  const char *descr;

  switch (tvw_tensor_get_dtype (tensor))
    {
    case TVW_DTYPE_UINT8: descr = "|u1"; break;
    case TVW_DTYPE_INT64: descr = "<i8"; break;
    case TVW_DTYPE_FLOAT32:
    default:              descr = "<f4"; break;
    }
  shape = tvw_tensor_get_shape (tensor, &n_dims);
  g_string_append_printf (header, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (header, "%" G_GINT64_FORMAT "%s", shape[i],
                            n_dims == 1 || i + 1 < n_dims ? ", " : "");
  g_string_append (header, "), }");
  /* Pad so that the data starts 64-byte aligned, header ends in '\n'. */
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');

  len = (guint16) header->len;
  preamble[8] = len & 0xff;
  preamble[9] = len >> 8;
  g_byte_array_append (out, preamble, sizeof preamble);
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
  g_byte_array_append (out, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

gboolean
tvw_npy_save (const char  *path,
              TvwTensor   *tensor,
              GError     **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  tvw_npy_encode (out, tensor);
  return g_file_set_contents (path, (const char *) out->data, out->len, error);
}
