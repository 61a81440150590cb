/* tvw-ckpt-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internals shared by the checkpoint readers: one bounded reader over the
 * mapped file, checked arithmetic, dtype helpers, and the calls the format
 * loaders use to fill a TvwCheckpoint.
 */

#pragma once

#include <string.h>

#include "tvw-checkpoint-private.h"
#include "tvw-error.h"

G_BEGIN_DECLS

/* A cursor over a byte range.  Every read checks the remaining length first
 * and returns FALSE (leaving the cursor where it was) when it would go past
 * the end; nothing is ever read outside [data, data + size). */
typedef struct
{
  const guint8 *data;
  gsize         size;
  gsize         pos;
} TvwReader;

static inline void
tvw_reader_init (TvwReader    *r,
                 const guint8 *data,
                 gsize         size)
{
  r->data = data;
  r->size = size;
  r->pos = 0;
}

static inline gsize
tvw_reader_remaining (const TvwReader *r)
{
  return r->size - r->pos;
}

static inline gboolean
tvw_reader_seek (TvwReader *r,
                 guint64    pos)
{
  if (pos > r->size)
    return FALSE;
  r->pos = (gsize) pos;
  return TRUE;
}

static inline gboolean
tvw_reader_skip (TvwReader *r,
                 guint64    n)
{
  if (n > tvw_reader_remaining (r))
    return FALSE;
  r->pos += (gsize) n;
  return TRUE;
}

static inline gboolean
tvw_reader_bytes (TvwReader     *r,
                  guint64        n,
                  const guint8 **out)
{
  if (n > tvw_reader_remaining (r))
    return FALSE;
  *out = r->data + r->pos;
  r->pos += (gsize) n;
  return TRUE;
}

static inline gboolean
tvw_reader_u8 (TvwReader *r,
               guint8    *out)
{
  if (tvw_reader_remaining (r) < 1)
    return FALSE;
  *out = r->data[r->pos++];
  return TRUE;
}

/* Little-endian fields of a record already known to be in bounds. */
static inline guint16
tvw_le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
tvw_le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) |
         ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static inline guint64
tvw_le64 (const guint8 *p)
{
  return (guint64) tvw_le32 (p) | ((guint64) tvw_le32 (p + 4) << 32);
}

static inline gboolean
tvw_reader_u16 (TvwReader *r,
                guint16   *out)
{
  const guint8 *p;

  if (!tvw_reader_bytes (r, 2, &p))
    return FALSE;
  *out = tvw_le16 (p);
  return TRUE;
}

static inline gboolean
tvw_reader_u32 (TvwReader *r,
                guint32   *out)
{
  const guint8 *p;

  if (!tvw_reader_bytes (r, 4, &p))
    return FALSE;
  *out = tvw_le32 (p);
  return TRUE;
}

static inline gboolean
tvw_reader_u64 (TvwReader *r,
                guint64   *out)
{
  const guint8 *p;

  if (!tvw_reader_bytes (r, 8, &p))
    return FALSE;
  *out = tvw_le64 (p);
  return TRUE;
}

/* A line ending in '\n' (protocol 0 pickles); the newline is consumed but
 * not returned. */
static inline gboolean
tvw_reader_line (TvwReader     *r,
                 const guint8 **out,
                 gsize         *len)
{
  const guint8 *start = r->data + r->pos;
  const guint8 *nl = memchr (start, '\n', tvw_reader_remaining (r));

  if (nl == NULL)
    return FALSE;
  *out = start;
  *len = (gsize) (nl - start);
  r->pos += *len + 1;
  return TRUE;
}

/* [offset, offset + length) lies inside a buffer of @size bytes. */
static inline gboolean
tvw_range_inside (guint64 offset,
                  guint64 length,
                  guint64 size)
{
  return offset <= size && length <= size - offset;
}

static inline gboolean
tvw_i64_mul (gint64  a,
             gint64  b,
             gint64 *out)
{
  return !__builtin_mul_overflow (a, b, out);
}

static inline gboolean
tvw_i64_add (gint64  a,
             gint64  b,
             gint64 *out)
{
  return !__builtin_add_overflow (a, b, out);
}

/* dtypes */
gsize        tvw_ckpt_dtype_size   (TvwCkptDType dtype);
const char  *tvw_ckpt_dtype_name   (TvwCkptDType dtype);

/* Loaders: fill @self from self->data / self->size, or fail with a
 * TVW_ERROR_INVALID_DATA message that names self->display_name. */
typedef struct
{
  TvwCkptTensor  pub;
  /* First element of the view (storage start + storage offset); NULL for
   * tensors without elements. */
  const guint8  *data;
  gint64         stride[TVW_CKPT_MAX_DIMS];
  gboolean       contiguous;
  float         *converted;
} TvwCkptEntry;

struct _TvwCheckpoint
{
  GBytes         *bytes;
  const guint8   *data;
  gsize           size;
  char           *display_name;
  TvwCkptFormat   format;
  GPtrArray      *entries;     /* TvwCkptEntry, owned, file order */
  GHashTable     *by_name;     /* name → TvwCkptEntry */
  GMutex          lock;        /* guards TvwCkptEntry.converted */
  gboolean        mapped;      /* data is a mapping of the file */
};

/* Adds a tensor.  @shape / @stride have @n_dims elements and @data points at
 * its first element; the caller has checked that every element of the view
 * lies inside the file.  Fails on a duplicate @name. */
gboolean     tvw_ckpt_add_tensor   (TvwCheckpoint      *self,
                                    const char         *name,
                                    TvwCkptDType        dtype,
                                    guint               n_dims,
                                    const gint64       *shape,
                                    const gint64       *stride,
                                    const guint8       *data,
                                    GError            **error);

/* Adds a float32 tensor computed by the loader (quantization parameters):
 * @data, contiguous, is owned by @self from now on, even on failure. */
gboolean     tvw_ckpt_add_owned_floats (TvwCheckpoint  *self,
                                        const char     *name,
                                        guint           n_dims,
                                        const gint64   *shape,
                                        float          *data,
                                        GError        **error);

/* Checks a strided view over a storage of @storage_numel elements and
 * returns its element count.  @what names the tensor in messages. */
gboolean     tvw_ckpt_check_view   (TvwCheckpoint      *self,
                                    const char         *what,
                                    guint               n_dims,
                                    const gint64       *shape,
                                    const gint64       *stride,
                                    gint64              storage_offset,
                                    gint64              storage_numel,
                                    gint64             *n_elements,
                                    GError            **error);

gboolean     tvw_ckpt_load_torch_zip    (TvwCheckpoint  *self,
                                         GError        **error);
gboolean     tvw_ckpt_load_torch_legacy (TvwCheckpoint  *self,
                                         GError        **error);
gboolean     tvw_ckpt_load_safetensors  (TvwCheckpoint  *self,
                                         GError        **error);

/* Asks the kernel to start reading [offset, offset + len) of the mapped
 * file @data in the background.  An index has one small record per tensor
 * spread over the whole file; on a cold page cache, hinting them all first
 * lets those reads overlap instead of waiting for each in turn. */
void         tvw_ckpt_prefetch     (const guint8       *data,
                                    gsize               size,
                                    guint64             offset,
                                    guint64             len);

/* Sets a TVW_ERROR_INVALID_DATA error "@display_name: message": the one
 * form every reader (zip, pickle, torch, safetensors) reports bad data in. */
void         tvw_file_error_valist (GError            **error,
                                    const char         *display_name,
                                    const char         *format,
                                    va_list             args) G_GNUC_PRINTF (3, 0);
void         tvw_file_error        (GError            **error,
                                    const char         *display_name,
                                    const char         *format,
                                    ...) G_GNUC_PRINTF (3, 4);
/* tvw_file_error_valist () with the checkpoint's name. */
void         tvw_ckpt_set_error    (TvwCheckpoint      *self,
                                    GError            **error,
                                    const char         *format,
                                    ...) G_GNUC_PRINTF (3, 4);

/* Upper bound on the elements of one tensor (2^36: far beyond any vision
 * model, small enough that element counts times 8 never overflow). */
#define TVW_CKPT_MAX_ELEMENTS (G_GINT64_CONSTANT (1) << 36)

G_END_DECLS
