/* tvw-checkpoint.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The checkpoint object: maps the file, detects the format from its first
 * bytes, lets the format loader fill the tensor table, and converts tensor
 * data to contiguous float32 on demand.
 */

#include "config.h"

#include <string.h>

#include "tvw-ckpt-private.h"
#include "tvw-hash-private.h"

#ifdef G_OS_UNIX
# include <sys/mman.h>
# include <unistd.h>
#endif

#define MODULE_PREFIX "module."

/* Legacy files start with a pickle of torch's magic number: protocol 2 and
 * later begin with PROTO (0x80); protocols 0 and 1 with a text LONG. */

gsize
tvw_ckpt_dtype_size (TvwCkptDType dtype)
{
  switch (dtype)
    {
    case TVW_CKPT_DTYPE_FLOAT64:
    case TVW_CKPT_DTYPE_INT64:
      return 8;
    case TVW_CKPT_DTYPE_FLOAT32:
    case TVW_CKPT_DTYPE_INT32:
      return 4;
    case TVW_CKPT_DTYPE_FLOAT16:
    case TVW_CKPT_DTYPE_BFLOAT16:
    case TVW_CKPT_DTYPE_INT16:
      return 2;
    case TVW_CKPT_DTYPE_INT8:
    case TVW_CKPT_DTYPE_UINT8:
    case TVW_CKPT_DTYPE_BOOL:
      return 1;
    default:
      g_return_val_if_reached (1);
    }
}

const char *
tvw_ckpt_dtype_name (TvwCkptDType dtype)
{
  switch (dtype)
    {
    case TVW_CKPT_DTYPE_FLOAT32: return "float32";
    case TVW_CKPT_DTYPE_FLOAT16: return "float16";
    case TVW_CKPT_DTYPE_BFLOAT16: return "bfloat16";
    case TVW_CKPT_DTYPE_FLOAT64: return "float64";
    case TVW_CKPT_DTYPE_INT64: return "int64";
    case TVW_CKPT_DTYPE_INT32: return "int32";
    case TVW_CKPT_DTYPE_INT16: return "int16";
    case TVW_CKPT_DTYPE_INT8: return "int8";
    case TVW_CKPT_DTYPE_UINT8: return "uint8";
    case TVW_CKPT_DTYPE_BOOL: return "bool";
    default: return "unknown";
    }
}

void
tvw_file_error_valist (GError     **error,
                       const char  *display_name,
                       const char  *format,
                       va_list      args)
{
  g_autofree char *msg = NULL;

  if (error == NULL)
    return;
  msg = g_strdup_vprintf (format, args);
  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA, "%s: %s", display_name, msg);
}

void
tvw_file_error (GError     **error,
                const char  *display_name,
                const char  *format,
                ...)
{
  va_list args;

  va_start (args, format);
  tvw_file_error_valist (error, display_name, format, args);
  va_end (args);
}

void
tvw_ckpt_set_error (TvwCheckpoint  *self,
                    GError        **error,
                    const char     *format,
                    ...)
{
  va_list args;

  va_start (args, format);
  tvw_file_error_valist (error, self->display_name, format, args);
  va_end (args);
}

void
tvw_ckpt_prefetch (const guint8 *data,
                   gsize         size,
                   guint64       offset,
                   guint64       len)
{
#ifdef MADV_WILLNEED
  gsize page = 4096;
  guintptr start, end;

  if (offset >= size)
    return;
  len = MIN (len, size - offset);
  start = (GPOINTER_TO_SIZE (data) + offset) & ~(guintptr) (page - 1);
  end = GPOINTER_TO_SIZE (data) + offset + len;
  madvise (GSIZE_TO_POINTER (start), end - start, MADV_WILLNEED);
#endif
}

static void
entry_free (gpointer data)
{
  TvwCkptEntry *entry = data;

  g_free ((char *) entry->pub.name);
  g_free (entry->converted);
  g_free (entry);
}

gboolean
tvw_ckpt_check_view (TvwCheckpoint  *self,
                     const char     *what,
                     guint           n_dims,
                     const gint64   *shape,
                     const gint64   *stride,
                     gint64          storage_offset,
                     gint64          storage_numel,
                     gint64         *n_elements,
                     GError        **error)
{
  gint64 numel = 1;
  gint64 last = storage_offset;
  guint d;

  if (n_dims > TVW_CKPT_MAX_DIMS)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has %u dimensions (at most %d are supported)",
                          what, n_dims, TVW_CKPT_MAX_DIMS);
      return FALSE;
    }
  if (storage_offset < 0)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has a negative storage offset", what);
      return FALSE;
    }
  for (d = 0; d < n_dims; d++)
    {
      if (shape[d] < 0)
        {
          tvw_ckpt_set_error (self, error, "tensor '%s' has a negative size in dimension %u",
                              what, d);
          return FALSE;
        }
      if (stride[d] < 0)
        {
          tvw_ckpt_set_error (self, error, "tensor '%s' has a negative stride in dimension %u",
                              what, d);
          return FALSE;
        }
      if (!tvw_i64_mul (numel, shape[d], &numel) || numel > TVW_CKPT_MAX_ELEMENTS)
        {
          tvw_ckpt_set_error (self, error, "tensor '%s' has too many elements "
                              "(its sizes multiply to more than 2^36)", what);
          return FALSE;
        }
    }

  if (numel > 0)
    {
      for (d = 0; d < n_dims; d++)
        {
          gint64 extent;

          if (!tvw_i64_mul (shape[d] - 1, stride[d], &extent) ||
              !tvw_i64_add (last, extent, &last))
            {
              tvw_ckpt_set_error (self, error, "tensor '%s' has strides that overflow", what);
              return FALSE;
            }
        }
      if (last >= storage_numel)
        {
          tvw_ckpt_set_error (self, error, "tensor '%s' reaches element %" G_GINT64_FORMAT
                              " (storage offset %" G_GINT64_FORMAT ") of a storage of %"
                              G_GINT64_FORMAT " elements", what, last, storage_offset,
                              storage_numel);
          return FALSE;
        }
    }
  else if (storage_offset > storage_numel)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has storage offset %" G_GINT64_FORMAT
                          " past the end of its storage of %" G_GINT64_FORMAT " elements",
                          what, storage_offset, storage_numel);
      return FALSE;
    }

  *n_elements = numel;
  return TRUE;
}

gboolean
tvw_ckpt_add_tensor (TvwCheckpoint  *self,
                     const char     *name,
                     TvwCkptDType    dtype,
                     guint           n_dims,
                     const gint64   *shape,
                     const gint64   *stride,
                     const guint8   *data,
                     GError        **error)
{
  TvwCkptEntry *entry;
  gint64 expected = 1;
  guint d;

  g_return_val_if_fail (n_dims <= TVW_CKPT_MAX_DIMS, FALSE);

  if (g_hash_table_contains (self->by_name, name))
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' appears twice", name);
      return FALSE;
    }

  entry = g_new0 (TvwCkptEntry, 1);
  entry->pub.name = g_strdup (name);
  entry->pub.dtype = dtype;
  entry->pub.n_dims = n_dims;
  entry->pub.n_elements = 1;
  for (d = 0; d < n_dims; d++)
    {
      entry->pub.shape[d] = shape[d];
      /* The stride of a dimension of size 1 is never used; zero keeps the
       * strided walk's arithmetic within the checked extent. */
      entry->stride[d] = shape[d] > 1 ? stride[d] : 0;
      entry->pub.n_elements *= shape[d];
    }
  entry->data = entry->pub.n_elements > 0 ? data : NULL;

  /* Row-major contiguity (the caller checked the element count, so the
   * partial products cannot overflow unless there are no elements). */
  entry->contiguous = TRUE;
  if (entry->pub.n_elements > 0)
    for (d = n_dims; d-- > 0;)
      {
        if (shape[d] != 1 && stride[d] != expected)
          entry->contiguous = FALSE;
        expected *= shape[d];
      }

  g_ptr_array_add (self->entries, entry);
  g_hash_table_insert (self->by_name, (char *) entry->pub.name, entry);
  return TRUE;
}

gboolean
tvw_ckpt_add_owned_floats (TvwCheckpoint  *self,
                           const char     *name,
                           guint           n_dims,
                           const gint64   *shape,
                           float          *data,
                           GError        **error)
{
  gint64 stride[TVW_CKPT_MAX_DIMS];
  gint64 expected = 1;
  TvwCkptEntry *entry;

  for (guint d = n_dims; d-- > 0;)
    {
      stride[d] = expected;
      expected *= shape[d];
    }
  if (!tvw_ckpt_add_tensor (self, name, TVW_CKPT_DTYPE_FLOAT32, n_dims, shape, stride,
                            (const guint8 *) data, error))
    {
      g_free (data);
      return FALSE;
    }
  entry = g_ptr_array_index (self->entries, self->entries->len - 1);
  entry->converted = data;
  return TRUE;
}

/* A common "module." prefix (nn.DataParallel, DistributedDataParallel) is
 * dropped so that keys match the model's own names. */
static void
strip_module_prefix (TvwCheckpoint *self)
{
  guint i;

  if (self->entries->len == 0)
    return;
  for (i = 0; i < self->entries->len; i++)
    {
      TvwCkptEntry *entry = self->entries->pdata[i];

      if (!g_str_has_prefix (entry->pub.name, MODULE_PREFIX))
        return;
    }

  g_hash_table_remove_all (self->by_name);
  for (i = 0; i < self->entries->len; i++)
    {
      TvwCkptEntry *entry = self->entries->pdata[i];
      char *name = (char *) entry->pub.name;

      memmove (name, name + strlen (MODULE_PREFIX), strlen (name) - strlen (MODULE_PREFIX) + 1);
      g_hash_table_insert (self->by_name, name, entry);
    }
}

void
tvw_checkpoint_rename_keys (TvwCheckpoint   *self,
                            TvwCkptRenameFn  rename)
{
  g_return_if_fail (self != NULL && rename != NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      TvwCkptEntry *entry = self->entries->pdata[i];
      g_autofree char *name = rename (entry->pub.name);
      TvwCkptEntry *other;

      if (name == NULL)
        continue;

      /* Like torchvision's renaming of a state_dict: the renamed tensor
       * replaces one already under the new name. */
      other = g_hash_table_lookup (self->by_name, name);
      if (other != NULL)
        {
          guint at;

          g_hash_table_remove (self->by_name, name);
          g_ptr_array_find (self->entries, other, &at);
          g_ptr_array_remove_index (self->entries, at);
          if (at < i)
            i--;
        }

      g_hash_table_remove (self->by_name, entry->pub.name);
      g_free ((char *) entry->pub.name);
      entry->pub.name = g_steal_pointer (&name);
      g_hash_table_insert (self->by_name, (char *) entry->pub.name, entry);
    }
}

static gboolean
has_prefix (const guint8 *data,
            gsize         size,
            const char   *prefix,
            gsize         len)
{
  return size >= len && memcmp (data, prefix, len) == 0;
}

static TvwCheckpoint *
checkpoint_open (GBytes      *bytes,
                 const char  *display_name,
                 gboolean     mapped,
                 GError     **error)
{
  g_autoptr(TvwCheckpoint) self = NULL;
  gboolean ok;

  self = g_new0 (TvwCheckpoint, 1);
  self->mapped = mapped;
  self->bytes = g_bytes_ref (bytes);
  self->data = g_bytes_get_data (bytes, &self->size);
  self->display_name = g_strdup (display_name);
  self->entries = g_ptr_array_new_with_free_func (entry_free);
  self->by_name = tvw_str_table_new (NULL, NULL);
  g_mutex_init (&self->lock);

  if (self->size == 0)
    {
      tvw_ckpt_set_error (self, error, "the file is empty");
      return NULL;
    }

  if (has_prefix (self->data, self->size, "PK\x03\x04", 4) ||
      has_prefix (self->data, self->size, "PK\x05\x06", 4))
    {
      self->format = TVW_CKPT_FORMAT_TORCH_ZIP;
      ok = tvw_ckpt_load_torch_zip (self, error);
    }
  /* Safetensors before legacy pickles: a header length whose low byte is
   * 0x80 looks like pickle's PROTO opcode.  A legacy file never has '{' at
   * byte 8 (it is inside the pickled magic number). */
  else if (self->size >= 9 && self->data[8] == '{')
    {
      self->format = TVW_CKPT_FORMAT_SAFETENSORS;
      ok = tvw_ckpt_load_safetensors (self, error);
    }
  else if (self->data[0] == 0x80 ||
           has_prefix (self->data, self->size, "L119547037146038801333356L\n", 27))
    {
      self->format = TVW_CKPT_FORMAT_TORCH_LEGACY;
      ok = tvw_ckpt_load_torch_legacy (self, error);
    }
  else if (self->size >= 262 && memcmp (self->data + 257, "ustar", 5) == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: the tar checkpoint format of torch < 0.4 is not supported",
                   self->display_name);
      return NULL;
    }
  else
    {
      tvw_ckpt_set_error (self, error, "not a checkpoint (expected a torch.save zip, "
                          "a legacy torch.save file or .safetensors)");
      return NULL;
    }

  if (!ok)
    return NULL;

  strip_module_prefix (self);
  return g_steal_pointer (&self);
}

TvwCheckpoint *
tvw_checkpoint_open_bytes (GBytes      *bytes,
                           const char  *display_name,
                           GError     **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return checkpoint_open (bytes, display_name, FALSE, error);
}

TvwCheckpoint *
tvw_checkpoint_open (const char  *path,
                     GError     **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display_name = NULL;
  TvwCheckpoint *self;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display_name = g_filename_display_name (path);
  mapped = g_mapped_file_new (path, FALSE, &local_error);
  if (mapped == NULL)
    {
      g_set_error (error, TVW_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                   TVW_ERROR_NOT_FOUND : TVW_ERROR_INVALID_ARGUMENT,
                   "Cannot open checkpoint %s: %s", display_name, local_error->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);

#ifdef MADV_RANDOM
  /* Parsing the index touches one small record per tensor all over the
   * file; without this hint each of those page faults reads ahead and a
   * cold open pulls in most of the file. */
  if (g_mapped_file_get_length (mapped) > 0)
    madvise (g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped), MADV_RANDOM);
#endif
  self = checkpoint_open (bytes, display_name, TRUE, error);
#ifdef MADV_NORMAL
  if (g_mapped_file_get_length (mapped) > 0)
    madvise (g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped), MADV_NORMAL);
#endif
  return self;
}

void
tvw_checkpoint_free (TvwCheckpoint *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_free (self->display_name);
  g_mutex_clear (&self->lock);
  g_free (self);
}

TvwCkptFormat
tvw_checkpoint_get_format (TvwCheckpoint *self)
{
  g_return_val_if_fail (self != NULL, TVW_CKPT_FORMAT_TORCH_ZIP);
  return self->format;
}

const char *
tvw_checkpoint_get_display_name (TvwCheckpoint *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->display_name;
}

guint
tvw_checkpoint_get_n_tensors (TvwCheckpoint *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->entries->len;
}

const TvwCkptTensor *
tvw_checkpoint_get_tensor (TvwCheckpoint *self,
                           guint          index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->entries->len, NULL);
  return &((TvwCkptEntry *) self->entries->pdata[index])->pub;
}

const TvwCkptTensor *
tvw_checkpoint_lookup (TvwCheckpoint *self,
                       const char    *name)
{
  TvwCkptEntry *entry;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  entry = g_hash_table_lookup (self->by_name, name);
  return entry ? &entry->pub : NULL;
}

/* Conversions.  Values are read byte by byte: the data may be unaligned
 * (legacy files) and is little-endian whatever the host. */

static inline guint16
load_u16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
load_u32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static inline guint64
load_u64 (const guint8 *p)
{
  return (guint64) load_u32 (p) | ((guint64) load_u32 (p + 4) << 32);
}

static inline float
bits_to_float (guint32 bits)
{
  float f;

  memcpy (&f, &bits, sizeof f);
  return f;
}

/* IEEE binary16 → binary32; exact for every value, subnormals included. */
static inline float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exponent = (h >> 10) & 0x1f;
  guint32 mantissa = h & 0x3ff;

  if (exponent == 0x1f)
    return bits_to_float (sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0)
    {
      if (mantissa == 0)
        return bits_to_float (sign);
      /* Normalise the subnormal: value = mantissa · 2^-24. */
      exponent = 127 - 14;
      while ((mantissa & 0x400) == 0)
        {
          mantissa <<= 1;
          exponent--;
        }
      return bits_to_float (sign | (exponent << 23) | ((mantissa & 0x3ff) << 13));
    }
  return bits_to_float (sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

static inline float
load_as_float (TvwCkptDType  dtype,
               const guint8 *p)
{
  switch (dtype)
    {
    case TVW_CKPT_DTYPE_FLOAT32:
      return bits_to_float (load_u32 (p));
    case TVW_CKPT_DTYPE_FLOAT16:
      return half_to_float (load_u16 (p));
    case TVW_CKPT_DTYPE_BFLOAT16:
      return bits_to_float ((guint32) load_u16 (p) << 16);
    case TVW_CKPT_DTYPE_FLOAT64:
      {
        guint64 bits = load_u64 (p);
        double d;

        memcpy (&d, &bits, sizeof d);
        return (float) d;
      }
    case TVW_CKPT_DTYPE_INT64:
      return (float) (gint64) load_u64 (p);
    case TVW_CKPT_DTYPE_INT32:
      return (float) (gint32) load_u32 (p);
    case TVW_CKPT_DTYPE_INT16:
      return (float) (gint16) load_u16 (p);
    case TVW_CKPT_DTYPE_INT8:
      return (float) (gint8) p[0];
    case TVW_CKPT_DTYPE_UINT8:
      return (float) p[0];
    case TVW_CKPT_DTYPE_BOOL:
      return p[0] != 0 ? 1.0f : 0.0f;
    default:
      return 0.0f;
    }
}

#define CONVERT_LOOP(expr)                          \
  G_STMT_START {                                    \
    for (i = 0; i < n; i++)                         \
      {                                             \
        const guint8 *p = entry->data + i * esize;  \
        out[i] = (expr);                            \
      }                                             \
  } G_STMT_END

static void
convert_entry (TvwCkptEntry *entry,
               float        *out)
{
  TvwCkptDType dtype = entry->pub.dtype;
  gsize esize = tvw_ckpt_dtype_size (dtype);
  gsize n = (gsize) entry->pub.n_elements;
  guint n_dims = entry->pub.n_dims;
  gint64 index[TVW_CKPT_MAX_DIMS] = { 0, };
  gint64 offset = 0;
  gsize i;

  if (entry->contiguous)
    {
      /* The common cases get their own loops. */
      switch (dtype)
        {
        case TVW_CKPT_DTYPE_FLOAT16:
          CONVERT_LOOP (half_to_float (load_u16 (p)));
          return;
        case TVW_CKPT_DTYPE_BFLOAT16:
          CONVERT_LOOP (bits_to_float ((guint32) load_u16 (p) << 16));
          return;
        case TVW_CKPT_DTYPE_FLOAT32:
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
          /* Only unaligned data gets here. */
          memcpy (out, entry->data, n * sizeof (float));
#else
          CONVERT_LOOP (bits_to_float (load_u32 (p)));
#endif
          return;
        default:
          CONVERT_LOOP (load_as_float (dtype, p));
          return;
        }
    }

  /* Strided: walk the index like an odometer, last dimension fastest.  The
   * view was checked to stay inside its storage. */
  for (i = 0; i < n; i++)
    {
      gint d;

      out[i] = load_as_float (dtype, entry->data + offset * (gint64) esize);
      for (d = (gint) n_dims - 1; d >= 0; d--)
        {
          index[d]++;
          offset += entry->stride[d];
          if (index[d] < entry->pub.shape[d])
            break;
          offset -= entry->stride[d] * entry->pub.shape[d];
          index[d] = 0;
        }
    }
}

#undef CONVERT_LOOP

const float *
tvw_checkpoint_get_float (TvwCheckpoint        *self,
                          const TvwCkptTensor  *tensor,
                          GError              **error)
{
  static const float no_elements[1] = { 0.0f };
  TvwCkptEntry *entry;
  float *converted;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (tensor != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entry = g_hash_table_lookup (self->by_name, tensor->name);
  g_return_val_if_fail (entry != NULL && &entry->pub == tensor, NULL);

  if (entry->pub.n_elements == 0)
    return no_elements;

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (entry->pub.dtype == TVW_CKPT_DTYPE_FLOAT32 && entry->contiguous &&
      (GPOINTER_TO_SIZE (entry->data) % G_ALIGNOF (float)) == 0)
    return (const float *) entry->data;
#endif

  g_mutex_lock (&self->lock);
  if (entry->converted == NULL)
    {
      converted = g_try_malloc_n ((gsize) entry->pub.n_elements, sizeof (float));
      if (converted == NULL)
        {
          g_mutex_unlock (&self->lock);
          g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                       "%s: not enough memory to convert tensor '%s' (%" G_GINT64_FORMAT
                       " elements) to float32", self->display_name, entry->pub.name,
                       entry->pub.n_elements);
          return NULL;
        }
      convert_entry (entry, converted);
      entry->converted = converted;
    }
  converted = entry->converted;
  g_mutex_unlock (&self->lock);
  return converted;
}

void
tvw_checkpoint_prefetch (TvwCheckpoint *self)
{
  g_return_if_fail (self != NULL);

#if defined(G_OS_UNIX) && defined(MADV_POPULATE_READ)
  if (self->mapped && self->size > 0)
    {
      gsize page = (gsize) sysconf (_SC_PAGESIZE);
      guintptr start = (guintptr) self->data & ~(guintptr) (page - 1);

      madvise (GSIZE_TO_POINTER (start), (guintptr) self->data + self->size - start,
               MADV_POPULATE_READ);
    }
#endif
}

void
tvw_checkpoint_release_pages (TvwCheckpoint *self)
{
#ifdef G_OS_UNIX
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  guintptr start, end;
#endif

  g_return_if_fail (self != NULL);

#ifdef G_OS_UNIX
  if (!self->mapped || self->size == 0)
    return;

  /* Whole pages inside the mapping only. */
  start = ((guintptr) self->data + page - 1) & ~(guintptr) (page - 1);
  end = ((guintptr) self->data + self->size) & ~(guintptr) (page - 1);
  if (end > start)
    madvise (GSIZE_TO_POINTER (start), end - start, MADV_DONTNEED);
#endif
}
