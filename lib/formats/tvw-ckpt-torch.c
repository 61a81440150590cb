/* tvw-ckpt-torch.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The two torch.save formats (torch/serialization.py):
 *
 * - zip (torch >= 1.6): entries <archive>/data.pkl, <archive>/version and
 *   one <archive>/data/<key> per storage.  Persistent ids are
 *   ('storage', storage_type, key, location, numel).
 * - legacy: five pickles in a row (magic number, protocol version, sys_info,
 *   the object, the sorted storage keys), then per storage key an int64
 *   element count and the raw bytes.  Persistent ids are
 *   ('storage', storage_type, root_key, location, numel, view_metadata).
 *
 * Either way the object is a dict of tensors built by _rebuild_tensor_v2 over
 * storages that point into the mapped file.
 */

#include "config.h"

#include <string.h>

#include "tvw-pickle-private.h"
#include "tvw-hash-private.h"
#include "tvw-zip-private.h"

#define LEGACY_PROTOCOL_VERSION 1001

/* 0x1950a86a20f9469cfc6c, torch's MAGIC_NUMBER, as pickle's LONG1 bytes. */
static const guint8 legacy_magic[] = {
  0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
};

typedef struct
{
  TvwCheckpoint *ckpt;
  TvwZip        *zip;
  char          *prefix;     /* "archive/" */
  GHashTable    *storages;   /* key → TvwPkObj (storage) */
  GHashTable    *views;      /* legacy view key → TvwPkObj (storage) */
} TorchLoad;

static void
torch_load_clear (TorchLoad *load)
{
  g_clear_pointer (&load->zip, tvw_zip_free);
  g_clear_pointer (&load->prefix, g_free);
  g_clear_pointer (&load->storages, g_hash_table_unref);
  g_clear_pointer (&load->views, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TorchLoad, torch_load_clear)

static gboolean
storage_dtype (TvwPickle     *pk,
               TvwPkObj      *type,
               TvwCkptDType  *dtype,
               GError       **error)
{
  if (type->type != TVW_PK_GLOBAL ||
      (type->v.global.kind != TVW_PK_GLOBAL_STORAGE_TYPE &&
       type->v.global.kind != TVW_PK_GLOBAL_DTYPE))
    {
      tvw_pickle_set_error (pk, error, "storage type is a %s, not a torch storage class",
                            tvw_pk_type_name (type));
      return FALSE;
    }
  *dtype = type->v.global.dtype;
  return TRUE;
}

/* Checks the common fields of both persistent id forms. */
static gboolean
parse_storage_pid (TvwPickle     *pk,
                   TvwPkObj      *pid,
                   guint          n_fields,
                   TvwCkptDType  *dtype,
                   const char   **key,
                   gint64        *numel,
                   GError       **error)
{
  TvwPkObj **f;

  if (pid->type != TVW_PK_TUPLE || pid->v.seq.n == 0)
    {
      tvw_pickle_set_error (pk, error, "persistent id is a %s, not a tuple",
                            tvw_pk_type_name (pid));
      return FALSE;
    }
  f = pid->v.seq.items;
  if (tvw_pk_is_str (f[0], "module"))
    {
      tvw_pickle_set_error (pk, error, "the file holds a pickled module: "
                            "save its state_dict() instead");
      return FALSE;
    }
  if (!tvw_pk_is_str (f[0], "storage"))
    {
      tvw_pickle_set_error (pk, error, "unknown persistent id type");
      return FALSE;
    }
  if (pid->v.seq.n != n_fields)
    {
      tvw_pickle_set_error (pk, error, "storage persistent id has %u fields, not %u",
                            pid->v.seq.n, n_fields);
      return FALSE;
    }
  if (!storage_dtype (pk, f[1], dtype, error))
    return FALSE;
  if (f[2]->type != TVW_PK_STR || f[3]->type != TVW_PK_STR)
    {
      tvw_pickle_set_error (pk, error, "storage key and location must be strings");
      return FALSE;
    }
  if (f[4]->type != TVW_PK_INT || f[4]->v.i < 0 || f[4]->v.i > TVW_CKPT_MAX_ELEMENTS)
    {
      tvw_pickle_set_error (pk, error, "storage '%s' has an invalid element count",
                            f[2]->v.str.data);
      return FALSE;
    }
  *key = f[2]->v.str.data;
  *numel = f[4]->v.i;
  return TRUE;
}

static TvwPkObj *
existing_storage (TvwPickle     *pk,
                  GHashTable    *table,
                  const char    *key,
                  TvwCkptDType   dtype,
                  GError       **error)
{
  TvwPkObj *obj = g_hash_table_lookup (table, key);

  if (obj != NULL && obj->v.storage->dtype != dtype)
    {
      tvw_pickle_set_error (pk, error, "storage '%s' is used as both %s and %s",
                            key, tvw_ckpt_dtype_name (obj->v.storage->dtype),
                            tvw_ckpt_dtype_name (dtype));
      return NULL;
    }
  return obj;
}

static const guint8 *
storage_data (TvwPkStorage *s)
{
  if (s->root != NULL)
    return s->root->data + s->root_offset * (gint64) tvw_ckpt_dtype_size (s->dtype);
  return s->data;
}

/* Entry @i of a 1-D tensor of per-channel quantization parameters. */
static gboolean
read_vector (TvwCheckpoint  *ckpt,
             const char     *what,
             TvwPkTensor    *t,
             gint64          n,
             double         *out,
             GError        **error)
{
  TvwCkptDType dtype = t->storage->dtype;
  gsize es = tvw_ckpt_dtype_size (dtype);
  const guint8 *base;
  gint64 n_elements;

  if (t->n_dims != 1 || t->size[0] != n)
    {
      tvw_ckpt_set_error (ckpt, error, "'%s' has %u dimensions, not one of %" G_GINT64_FORMAT
                          " entries", what, t->n_dims, n);
      return FALSE;
    }
  if (!tvw_ckpt_check_view (ckpt, what, 1, t->size, t->stride, t->storage_offset,
                            t->storage->numel, &n_elements, error))
    return FALSE;
  base = storage_data (t->storage) + t->storage_offset * (gint64) es;

  for (gint64 i = 0; i < n; i++)
    {
      const guint8 *p = base + i * t->stride[0] * (gint64) es;
      union { double d; float f; gint64 l; gint32 i; } v;

      memcpy (&v, p, es);
      switch (dtype)
        {
        case TVW_CKPT_DTYPE_FLOAT64: out[i] = v.d; break;
        case TVW_CKPT_DTYPE_FLOAT32: out[i] = v.f; break;
        case TVW_CKPT_DTYPE_INT64: out[i] = (double) v.l; break;
        case TVW_CKPT_DTYPE_INT32: out[i] = v.i; break;
        default:
          tvw_ckpt_set_error (ckpt, error, "'%s' is a %s tensor, not a float or integer one",
                              what, tvw_ckpt_dtype_name (dtype));
          return FALSE;
        }
    }
  return TRUE;
}

/* A quantized tensor's affine parameters as “@name.q_scales” and
 * “@name.q_zero_points”: float32 vectors along dimension 0 (a per-tensor
 * scale repeated), which is where torch quantizes weights per channel. */
static gboolean
add_quantization (TorchLoad    *load,
                  const char   *name,
                  TvwPkTensor  *t,
                  GError      **error)
{
  TvwCheckpoint *ckpt = load->ckpt;
  const int qmin = t->storage->dtype == TVW_CKPT_DTYPE_UINT8 ? 0 : -128;
  const gint64 n = t->n_dims > 0 ? t->size[0] : 1;
  g_autofree double *scales = g_new (double, MAX (n, 1));
  g_autofree double *zero_points = g_new (double, MAX (n, 1));
  g_autofree char *scales_name = g_strconcat (name, ".q_scales", NULL);
  g_autofree char *zero_points_name = g_strconcat (name, ".q_zero_points", NULL);
  float *fs, *fz;

  if (t->storage->dtype != TVW_CKPT_DTYPE_INT8 && t->storage->dtype != TVW_CKPT_DTYPE_UINT8)
    {
      tvw_ckpt_set_error (ckpt, error, "quantized tensor '%s' is stored as %s, not qint8 or quint8",
                          name, tvw_ckpt_dtype_name (t->storage->dtype));
      return FALSE;
    }
  if (t->qaxis > 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: '%s' is quantized per channel along dimension %d; only dimension 0 "
                   "(output channels) is supported", ckpt->display_name, name, t->qaxis);
      return FALSE;
    }
  if (t->qaxis == 0)
    {
      if (!read_vector (ckpt, scales_name, t->qscales, n, scales, error) ||
          !read_vector (ckpt, zero_points_name, t->qzero_points, n, zero_points, error))
        return FALSE;
    }
  else
    for (gint64 i = 0; i < n; i++)
      {
        scales[i] = t->qscale;
        zero_points[i] = (double) t->qzero_point;
      }

  fs = g_new (float, MAX (n, 1));
  fz = g_new (float, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    {
      if (!(scales[i] > 0 && scales[i] < G_MAXFLOAT) ||
          !(zero_points[i] >= qmin && zero_points[i] <= qmin + 255))
        {
          g_free (fs);
          g_free (fz);
          tvw_ckpt_set_error (ckpt, error, "quantized tensor '%s': channel %" G_GINT64_FORMAT
                              " has scale %g and zero point %g", name, i, scales[i],
                              zero_points[i]);
          return FALSE;
        }
      fs[i] = (float) scales[i];
      fz[i] = (float) zero_points[i];
    }

  if (!tvw_ckpt_add_owned_floats (ckpt, scales_name, 1, &n, fs, error))
    {
      g_free (fz);
      return FALSE;
    }
  return tvw_ckpt_add_owned_floats (ckpt, zero_points_name, 1, &n, fz, error);
}

static gboolean
add_pk_tensor (TorchLoad    *load,
               const char   *name,
               TvwPkTensor  *t,
               GError      **error)
{
  TvwCheckpoint *ckpt = load->ckpt;
  TvwPkStorage *s = t->storage;
  const guint8 *data = NULL;
  gint64 n_elements;

  if (!tvw_ckpt_check_view (ckpt, name, t->n_dims, t->size, t->stride,
                            t->storage_offset, s->numel, &n_elements, error))
    return FALSE;

  if (n_elements > 0)
    data = storage_data (s) + t->storage_offset * (gint64) tvw_ckpt_dtype_size (s->dtype);
  if (!tvw_ckpt_add_tensor (ckpt, name, s->dtype, t->n_dims, t->size, t->stride, data, error))
    return FALSE;
  if (!t->quantized)
    return TRUE;

  ((TvwCkptTensor *) tvw_checkpoint_lookup (ckpt, name))->quantized = TRUE;
  return add_quantization (load, name, t, error);
}

/* A quantized Linear's packed parameters, “P._packed_params._packed_params”
 * = (weight, bias or None), become “P.weight” and “P.bias” like a Conv2d's;
 * “P._packed_params.dtype” (torch.qint8) is only checked. */
static gboolean
add_packed_params (TorchLoad    *load,
                   const char   *key,
                   TvwPkObj     *value,
                   gboolean     *handled,
                   GError      **error)
{
  static const char params_suffix[] = "._packed_params._packed_params";
  static const char dtype_suffix[] = "._packed_params.dtype";
  g_autofree char *prefix = NULL;
  g_autofree char *weight = NULL;
  g_autofree char *bias = NULL;
  TvwPkObj **items;

  *handled = FALSE;
  if (g_str_has_suffix (key, dtype_suffix) && value->type == TVW_PK_GLOBAL &&
      value->v.global.kind == TVW_PK_GLOBAL_DTYPE)
    {
      *handled = TRUE;
      if (value->v.global.dtype == TVW_CKPT_DTYPE_INT8)
        return TRUE;
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: '%s' is torch.%s: only static int8 quantization is supported",
                   load->ckpt->display_name, key, value->v.global.name);
      return FALSE;
    }
  if (!g_str_has_suffix (key, params_suffix) || value->type != TVW_PK_TUPLE)
    return TRUE;

  *handled = TRUE;
  items = value->v.seq.items;
  if (value->v.seq.n != 2 || items[0]->type != TVW_PK_TENSOR || !items[0]->v.tensor->quantized ||
      (items[1]->type != TVW_PK_TENSOR && items[1]->type != TVW_PK_NONE))
    {
      tvw_ckpt_set_error (load->ckpt, error, "'%s' is not a (quantized weight, bias) pair", key);
      return FALSE;
    }
  prefix = g_strndup (key, strlen (key) - strlen (params_suffix));
  weight = g_strconcat (prefix, ".weight", NULL);
  bias = g_strconcat (prefix, ".bias", NULL);
  if (!add_pk_tensor (load, weight, items[0]->v.tensor, error))
    return FALSE;
  return items[1]->type == TVW_PK_NONE || add_pk_tensor (load, bias, items[1]->v.tensor, error);
}

/* The object the pickle built: a state_dict, or a dict wrapping one under
 * "state_dict" or "model" next to other things (epoch, optimizer, …). */
static gboolean
collect_tensors (TorchLoad  *load,
                 TvwPkObj   *result,
                 GError    **error)
{
  TvwCheckpoint *ckpt = load->ckpt;
  static const char * const wrappers[] = { "state_dict", "model" };
  TvwPkObj *sd = result;
  guint i;

  if (result->type != TVW_PK_DICT)
    {
      tvw_ckpt_set_error (ckpt, error, "the checkpoint holds a %s, not a state_dict",
                          tvw_pk_type_name (result));
      return FALSE;
    }
  for (i = 0; i < G_N_ELEMENTS (wrappers); i++)
    {
      TvwPkObj *inner = tvw_pk_dict_get_str (result, wrappers[i]);

      if (inner != NULL && inner->type == TVW_PK_DICT)
        {
          sd = inner;
          break;
        }
    }

  for (i = 0; i < sd->v.dict.n; i++)
    {
      TvwPkObj *key = sd->v.dict.keys[i];
      TvwPkObj *value = sd->v.dict.values[i];
      gboolean handled;

      if (key->type != TVW_PK_STR)
        {
          tvw_ckpt_set_error (ckpt, error, "state_dict key %u is a %s, not a string",
                              i, tvw_pk_type_name (key));
          return FALSE;
        }
      if (!add_packed_params (load, key->v.str.data, value, &handled, error))
        return FALSE;
      /* A quantized module without bias saves None. */
      if (handled || value->type == TVW_PK_NONE)
        continue;
      if (value->type != TVW_PK_TENSOR)
        {
          tvw_ckpt_set_error (ckpt, error, "state_dict entry '%s' is a %s, not a tensor",
                              key->v.str.data, tvw_pk_type_name (value));
          return FALSE;
        }
      if (!add_pk_tensor (load, key->v.str.data, value->v.tensor, error))
        return FALSE;
    }
  return TRUE;
}

/* zip */

static TvwPkObj *
zip_persistent_load (TvwPickle  *pk,
                     TvwPkObj   *pid,
                     gpointer    user_data,
                     GError    **error)
{
  TorchLoad *load = user_data;
  g_autofree char *entry_name = NULL;
  const TvwZipEntry *entry;
  TvwCkptDType dtype;
  const char *key;
  gint64 numel, nbytes;
  TvwPkObj *obj;
  g_autoptr(GError) local_error = NULL;

  if (!parse_storage_pid (pk, pid, 5, &dtype, &key, &numel, error))
    return NULL;

  obj = existing_storage (pk, load->storages, key, dtype, &local_error);
  if (obj != NULL || local_error != NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      return obj;
    }

  entry_name = g_strconcat (load->prefix, "data/", key, NULL);
  entry = tvw_zip_lookup (load->zip, entry_name);
  if (entry == NULL)
    {
      tvw_pickle_set_error (pk, error, "storage '%s' has no zip entry '%s'", key, entry_name);
      return NULL;
    }
  nbytes = numel * (gint64) tvw_ckpt_dtype_size (dtype);  /* numel <= 2^36 */
  if ((guint64) nbytes != entry->size)
    {
      tvw_pickle_set_error (pk, error, "zip entry '%s' has %" G_GUINT64_FORMAT " bytes but "
                            "its storage of %" G_GINT64_FORMAT " %s elements needs %"
                            G_GINT64_FORMAT, entry_name, entry->size, numel,
                            tvw_ckpt_dtype_name (dtype), nbytes);
      return NULL;
    }

  obj = tvw_pickle_new_storage (pk, key, dtype, numel, error);
  if (obj == NULL)
    return NULL;
  obj->v.storage->data = load->ckpt->data + entry->data_offset;
  obj->v.storage->located = TRUE;
  g_hash_table_insert (load->storages, obj->v.storage->key, obj);
  return obj;
}

static gboolean
zip_read_small_record (TorchLoad   *load,
                       const char  *name,
                       char       **contents,
                       GError     **error)
{
  g_autofree char *entry_name = g_strconcat (load->prefix, name, NULL);
  const TvwZipEntry *entry = tvw_zip_lookup (load->zip, entry_name);

  *contents = NULL;
  if (entry == NULL)
    return TRUE;
  if (entry->size > 64)
    {
      tvw_ckpt_set_error (load->ckpt, error, "zip entry '%s' is too large", entry_name);
      return FALSE;
    }
  if (!tvw_zip_check_crc (load->zip, entry, error))
    return FALSE;
  *contents = g_strndup ((const char *) load->ckpt->data + entry->data_offset, entry->size);
  g_strstrip (*contents);
  return TRUE;
}

gboolean
tvw_ckpt_load_torch_zip (TvwCheckpoint  *self,
                         GError        **error)
{
  g_auto(TorchLoad) load = { self, NULL, NULL, NULL, NULL };
  g_autoptr(TvwPickle) pk = NULL;
  g_autofree char *pkl_name = NULL;
  g_autofree char *version = NULL;
  g_autofree char *byteorder = NULL;
  const TvwZipEntry *first, *pkl;
  const char *slash;
  TvwPkObj *result;
  gsize pos = 0;

  load.zip = tvw_zip_open (self->data, self->size, self->display_name, self->mapped, error);
  if (load.zip == NULL)
    return FALSE;

  /* Every record sits under one directory named after the archive. */
  if (tvw_zip_get_n_entries (load.zip) == 0)
    {
      tvw_ckpt_set_error (self, error, "the zip archive is empty");
      return FALSE;
    }
  first = tvw_zip_get_entry (load.zip, 0);
  slash = strchr (first->name, '/');
  if (slash == NULL)
    {
      tvw_ckpt_set_error (self, error, "not a torch.save archive: entry '%s' is not in "
                          "an archive directory", first->name);
      return FALSE;
    }
  load.prefix = g_strndup (first->name, slash - first->name + 1);

  pkl_name = g_strconcat (load.prefix, "data.pkl", NULL);
  pkl = tvw_zip_lookup (load.zip, pkl_name);
  if (pkl == NULL)
    {
      tvw_ckpt_set_error (self, error, "not a torch.save archive: no '%s' entry%s", pkl_name,
                          tvw_zip_lookup (load.zip, "constants.pkl") ||
                          g_str_has_suffix (first->name, "constants.pkl") ?
                          " (a TorchScript archive?)" : "");
      return FALSE;
    }
  if (!tvw_zip_check_crc (load.zip, pkl, error))
    return FALSE;

  if (!zip_read_small_record (&load, "version", &version, error) ||
      !zip_read_small_record (&load, "byteorder", &byteorder, error))
    return FALSE;
  if (version != NULL)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (version, 10, 1, 1000, &v, NULL))
        {
          tvw_ckpt_set_error (self, error, "bad archive version record");
          return FALSE;
        }
    }
  if (byteorder != NULL && strcmp (byteorder, "little") != 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: checkpoints with byte order '%s' are not supported",
                   self->display_name, byteorder);
      return FALSE;
    }

  load.storages = tvw_str_table_new (NULL, NULL);
  pk = tvw_pickle_new (self->display_name);
  tvw_pickle_set_persistent_load (pk, zip_persistent_load, &load);
  result = tvw_pickle_load (pk, pkl_name, self->data + pkl->data_offset, pkl->size,
                            &pos, error);
  if (result == NULL)
    return FALSE;

  return collect_tensors (&load, result, error);
}

/* legacy */

static TvwPkObj *
legacy_persistent_load (TvwPickle  *pk,
                        TvwPkObj   *pid,
                        gpointer    user_data,
                        GError    **error)
{
  TorchLoad *load = user_data;
  g_autoptr(GError) local_error = NULL;
  TvwCkptDType dtype;
  const char *key;
  gint64 numel, offset, size, end;
  TvwPkObj *root, *view, *meta;
  const char *view_key;

  if (!parse_storage_pid (pk, pid, 6, &dtype, &key, &numel, error))
    return NULL;

  root = existing_storage (pk, load->storages, key, dtype, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (root == NULL)
    {
      root = tvw_pickle_new_storage (pk, key, dtype, numel, error);
      if (root == NULL)
        return NULL;
      g_hash_table_insert (load->storages, root->v.storage->key, root);
    }

  meta = pid->v.seq.items[5];
  if (meta->type == TVW_PK_NONE)
    return root;

  /* (view_key, offset, view_size): a slice of the root storage. */
  if (meta->type != TVW_PK_TUPLE || meta->v.seq.n != 3 ||
      meta->v.seq.items[0]->type != TVW_PK_STR ||
      meta->v.seq.items[1]->type != TVW_PK_INT ||
      meta->v.seq.items[2]->type != TVW_PK_INT)
    {
      tvw_pickle_set_error (pk, error, "malformed storage view of '%s'", key);
      return NULL;
    }
  view_key = meta->v.seq.items[0]->v.str.data;
  offset = meta->v.seq.items[1]->v.i;
  size = meta->v.seq.items[2]->v.i;

  view = existing_storage (pk, load->views, view_key, dtype, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (view != NULL)
    return view;

  if (offset < 0 || size < 0 || !tvw_i64_add (offset, size, &end) ||
      end > root->v.storage->numel)
    {
      tvw_pickle_set_error (pk, error, "storage view '%s' lies outside storage '%s'",
                            view_key, key);
      return NULL;
    }
  view = tvw_pickle_new_storage (pk, view_key, dtype, size, error);
  if (view == NULL)
    return NULL;
  view->v.storage->root = root->v.storage;
  view->v.storage->root_offset = offset;
  g_hash_table_insert (load->views, view->v.storage->key, view);
  return view;
}

static gboolean
legacy_locate_storages (TorchLoad  *load,
                        TvwPkObj   *keys,
                        gsize       pos,
                        GError    **error)
{
  TvwCheckpoint *ckpt = load->ckpt;
  GHashTableIter iter;
  gpointer value;
  TvwReader r;
  guint i;

  if (keys->type != TVW_PK_LIST)
    {
      tvw_ckpt_set_error (ckpt, error, "the storage key list is a %s, not a list",
                          tvw_pk_type_name (keys));
      return FALSE;
    }

  /* The element counts are known from the persistent ids, so where each
   * storage starts is too: hint those places before reading them. */
  if (ckpt->mapped)
    {
      guint64 next = pos;

      for (i = 0; i < keys->v.seq.n && next < ckpt->size; i++)
        {
          TvwPkObj *key = keys->v.seq.items[i];
          TvwPkObj *obj = key->type == TVW_PK_STR ?
                          g_hash_table_lookup (load->storages, key->v.str.data) : NULL;

          if (obj == NULL)
            break;
          tvw_ckpt_prefetch (ckpt->data, ckpt->size, next, 8);
          /* numel <= 2^36 keeps this far from overflowing. */
          next += 8 + (guint64) obj->v.storage->numel * tvw_ckpt_dtype_size (obj->v.storage->dtype);
        }
    }

  tvw_reader_init (&r, ckpt->data, ckpt->size);
  tvw_reader_seek (&r, pos);
  for (i = 0; i < keys->v.seq.n; i++)
    {
      TvwPkObj *key = keys->v.seq.items[i];
      TvwPkObj *obj;
      TvwPkStorage *s;
      guint64 count;
      const guint8 *bytes;

      if (key->type != TVW_PK_STR)
        {
          tvw_ckpt_set_error (ckpt, error, "storage key %u is a %s, not a string",
                              i, tvw_pk_type_name (key));
          return FALSE;
        }
      obj = g_hash_table_lookup (load->storages, key->v.str.data);
      if (obj == NULL)
        {
          tvw_ckpt_set_error (ckpt, error, "storage '%s' has data but no tensor uses it",
                              key->v.str.data);
          return FALSE;
        }
      s = obj->v.storage;
      if (s->located)
        {
          tvw_ckpt_set_error (ckpt, error, "storage '%s' is listed twice", s->key);
          return FALSE;
        }
      if (!tvw_reader_u64 (&r, &count))
        {
          tvw_ckpt_set_error (ckpt, error, "the data of storage '%s' is truncated", s->key);
          return FALSE;
        }
      if (count != (guint64) s->numel)
        {
          tvw_ckpt_set_error (ckpt, error, "storage '%s' has %" G_GUINT64_FORMAT
                              " elements in the file but %" G_GINT64_FORMAT " in its tensors",
                              s->key, count, s->numel);
          return FALSE;
        }
      /* numel <= 2^36, so this cannot overflow. */
      if (!tvw_reader_bytes (&r, count * tvw_ckpt_dtype_size (s->dtype), &bytes))
        {
          tvw_ckpt_set_error (ckpt, error, "the data of storage '%s' is truncated", s->key);
          return FALSE;
        }
      s->data = bytes;
      s->located = TRUE;
    }

  g_hash_table_iter_init (&iter, load->storages);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      TvwPkObj *obj = value;

      if (!obj->v.storage->located)
        {
          tvw_ckpt_set_error (ckpt, error, "storage '%s' has no data", obj->v.storage->key);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
tvw_ckpt_load_torch_legacy (TvwCheckpoint  *self,
                            GError        **error)
{
  g_auto(TorchLoad) load = { self, NULL, NULL, NULL, NULL };
  g_autoptr(TvwPickle) pk = tvw_pickle_new (self->display_name);
  TvwPkObj *magic, *protocol, *sys_info, *result, *keys, *little;
  gsize pos = 0;

  magic = tvw_pickle_load (pk, "magic number", self->data, self->size, &pos, error);
  if (magic == NULL)
    return FALSE;
  if (magic->type != TVW_PK_BIGINT || magic->v.str.len != sizeof legacy_magic ||
      memcmp (magic->v.str.data, legacy_magic, sizeof legacy_magic) != 0)
    {
      tvw_ckpt_set_error (self, error, "not a torch.save file (bad magic number)");
      return FALSE;
    }

  protocol = tvw_pickle_load (pk, "protocol version", self->data, self->size, &pos, error);
  if (protocol == NULL)
    return FALSE;
  if (protocol->type != TVW_PK_INT || protocol->v.i != LEGACY_PROTOCOL_VERSION)
    {
      tvw_ckpt_set_error (self, error, "unsupported torch.save protocol version");
      return FALSE;
    }

  sys_info = tvw_pickle_load (pk, "sys_info", self->data, self->size, &pos, error);
  if (sys_info == NULL)
    return FALSE;
  if (sys_info->type != TVW_PK_DICT)
    {
      tvw_ckpt_set_error (self, error, "sys_info is a %s, not a dict",
                          tvw_pk_type_name (sys_info));
      return FALSE;
    }
  little = tvw_pk_dict_get_str (sys_info, "little_endian");
  if (little != NULL && little->type == TVW_PK_BOOL && !little->v.b)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: big-endian checkpoints are not supported", self->display_name);
      return FALSE;
    }

  load.storages = tvw_str_table_new (NULL, NULL);
  load.views = tvw_str_table_new (NULL, NULL);
  tvw_pickle_set_persistent_load (pk, legacy_persistent_load, &load);
  result = tvw_pickle_load (pk, "data pickle", self->data, self->size, &pos, error);
  if (result == NULL)
    return FALSE;
  tvw_pickle_set_persistent_load (pk, NULL, NULL);

  keys = tvw_pickle_load (pk, "storage keys", self->data, self->size, &pos, error);
  if (keys == NULL)
    return FALSE;

  return legacy_locate_storages (&load, keys, pos, error) &&
         collect_tensors (&load, result, error);
}
