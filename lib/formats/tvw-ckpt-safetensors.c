/* tvw-ckpt-safetensors.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * .safetensors: a little-endian u64 header length, a JSON header
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
 *  "__metadata__": {…}}, then the data area the offsets are relative to.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "tvw-ckpt-private.h"
#include "tvw-json-private.h"

/* The reference implementation refuses headers above 100 MB as well. */
#define MAX_HEADER_SIZE (100u * 1000 * 1000)

static gboolean
parse_dtype (const char   *name,
             TvwCkptDType *dtype)
{
  static const struct { const char *name; TvwCkptDType dtype; } dtypes[] = {
    { "F32", TVW_CKPT_DTYPE_FLOAT32 },
    { "F16", TVW_CKPT_DTYPE_FLOAT16 },
    { "BF16", TVW_CKPT_DTYPE_BFLOAT16 },
    { "F64", TVW_CKPT_DTYPE_FLOAT64 },
    { "I64", TVW_CKPT_DTYPE_INT64 },
    { "I32", TVW_CKPT_DTYPE_INT32 },
    { "I16", TVW_CKPT_DTYPE_INT16 },
    { "I8", TVW_CKPT_DTYPE_INT8 },
    { "U8", TVW_CKPT_DTYPE_UINT8 },
    { "BOOL", TVW_CKPT_DTYPE_BOOL },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strcmp (dtypes[i].name, name) == 0)
      {
        *dtype = dtypes[i].dtype;
        return TRUE;
      }
  return FALSE;
}

static gboolean
json_get_int (JsonNode *node,
              gint64   *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
load_tensor (TvwCheckpoint  *self,
             const char     *name,
             JsonNode       *node,
             const guint8   *data_area,
             guint64         data_size,
             GError        **error)
{
  JsonObject *obj;
  JsonNode *dtype_node, *shape_node, *offsets_node;
  JsonArray *shape_array, *offsets;
  TvwCkptDType dtype;
  gint64 shape[TVW_CKPT_MAX_DIMS], stride[TVW_CKPT_MAX_DIMS];
  gint64 begin, end, n_elements, nbytes, s;
  guint n_dims, d;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' is not a JSON object", name);
      return FALSE;
    }
  obj = json_node_get_object (node);

  dtype_node = json_object_get_member (obj, "dtype");
  if (dtype_node == NULL || !JSON_NODE_HOLDS_VALUE (dtype_node) ||
      json_node_get_value_type (dtype_node) != G_TYPE_STRING)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has no dtype", name);
      return FALSE;
    }
  if (!parse_dtype (json_node_get_string (dtype_node), &dtype))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: tensor '%s' has unsupported dtype '%s'",
                   self->display_name, name, json_node_get_string (dtype_node));
      return FALSE;
    }

  shape_node = json_object_get_member (obj, "shape");
  if (shape_node == NULL || !JSON_NODE_HOLDS_ARRAY (shape_node))
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has no shape", name);
      return FALSE;
    }
  shape_array = json_node_get_array (shape_node);
  n_dims = json_array_get_length (shape_array);
  if (n_dims > TVW_CKPT_MAX_DIMS)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has %u dimensions (at most %d are supported)",
                          name, n_dims, TVW_CKPT_MAX_DIMS);
      return FALSE;
    }
  for (d = 0; d < n_dims; d++)
    if (!json_get_int (json_array_get_element (shape_array, d), &shape[d]))
      {
        tvw_ckpt_set_error (self, error, "tensor '%s' has a non-integer size", name);
        return FALSE;
      }

  /* Row-major strides, checked like a torch view over its own bytes. */
  s = 1;
  for (d = n_dims; d-- > 0;)
    {
      stride[d] = s;
      if (shape[d] > 0 && (!tvw_i64_mul (s, shape[d], &s) || s > TVW_CKPT_MAX_ELEMENTS))
        s = TVW_CKPT_MAX_ELEMENTS;  /* check_view reports it */
    }

  offsets_node = json_object_get_member (obj, "data_offsets");
  if (offsets_node == NULL || !JSON_NODE_HOLDS_ARRAY (offsets_node) ||
      json_array_get_length (offsets = json_node_get_array (offsets_node)) != 2 ||
      !json_get_int (json_array_get_element (offsets, 0), &begin) ||
      !json_get_int (json_array_get_element (offsets, 1), &end))
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has no valid data_offsets", name);
      return FALSE;
    }
  if (begin < 0 || end < begin || (guint64) end > data_size)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has data_offsets [%" G_GINT64_FORMAT
                          ", %" G_GINT64_FORMAT "] outside the data area of %"
                          G_GUINT64_FORMAT " bytes", name, begin, end, data_size);
      return FALSE;
    }

  if (!tvw_ckpt_check_view (self, name, n_dims, shape, stride, 0, G_MAXINT64,
                            &n_elements, error))
    return FALSE;
  nbytes = n_elements * (gint64) tvw_ckpt_dtype_size (dtype);
  if (end - begin != nbytes)
    {
      tvw_ckpt_set_error (self, error, "tensor '%s' has %" G_GINT64_FORMAT " bytes of data "
                          "but its shape and dtype need %" G_GINT64_FORMAT,
                          name, end - begin, nbytes);
      return FALSE;
    }

  return tvw_ckpt_add_tensor (self, name, dtype, n_dims, shape, stride,
                              data_area + begin, error);
}

/* The header is strict JSON inside these before json-glib sees it.  A
 * header nests three levels; each tensor takes about ten values.
 * torchvision's largest checkpoints have a few thousand tensors, and their
 * names a few dozen bytes.  json-glib keeps an object's members in a GLib
 * hash table: names made to land in one bucket of it (not only to share a
 * hash value, which tvw_json_check() refuses) cost time quadratic in the
 * member count, a few tens of milliseconds at 16384. */
static const TvwJsonLimits json_limits = {
  .max_depth = 16,
  .max_values = 1 << 20,
  .max_members = 1 << 14,
  .max_name_length = 4096,
};

gboolean
tvw_ckpt_load_safetensors (TvwCheckpoint  *self,
                           GError        **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) json_error = NULL;
  g_autofree char *problem = NULL;
  g_autoptr(GList) members = NULL;
  const char *header;
  guint64 header_len, data_size;
  JsonNode *root;
  JsonObject *obj;
  TvwReader r;
  GList *l;

  tvw_reader_init (&r, self->data, self->size);
  if (!tvw_reader_u64 (&r, &header_len))
    {
      tvw_ckpt_set_error (self, error, "safetensors header length is truncated");
      return FALSE;
    }
  if (header_len > tvw_reader_remaining (&r))
    {
      tvw_ckpt_set_error (self, error, "safetensors header length %" G_GUINT64_FORMAT
                          " is larger than the file", header_len);
      return FALSE;
    }
  if (header_len > MAX_HEADER_SIZE)
    {
      tvw_ckpt_set_error (self, error, "safetensors header of %" G_GUINT64_FORMAT
                          " bytes is too large", header_len);
      return FALSE;
    }
  header = (const char *) self->data + r.pos;
  data_size = tvw_reader_remaining (&r) - header_len;

  if (!g_utf8_validate (header, header_len, NULL))
    {
      tvw_ckpt_set_error (self, error, "safetensors header is not valid UTF-8");
      return FALSE;
    }
  if (!tvw_json_check (header, header_len, &json_limits, &problem))
    {
      tvw_ckpt_set_error (self, error, "safetensors header refused: %s", problem);
      return FALSE;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, header, header_len, &json_error))
    {
      tvw_ckpt_set_error (self, error, "safetensors header is not valid JSON: %s",
                          json_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      tvw_ckpt_set_error (self, error, "safetensors header is not a JSON object");
      return FALSE;
    }
  obj = json_node_get_object (root);

  /* Members come in file order (tvw_json_check() refused repeated names). */
  members = json_object_get_members (obj);
  for (l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (strcmp (name, "__metadata__") == 0)
        continue;
      if (!load_tensor (self, name, json_object_get_member (obj, name),
                        self->data + 8 + header_len, data_size, error))
        return FALSE;
    }
  return TRUE;
}
