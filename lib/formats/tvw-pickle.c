/* tvw-pickle.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The restricted unpickler.  It follows CPython's Lib/pickle.py _Unpickler
 * opcode by opcode for the ones plain data needs, but builds its own small
 * object model instead of Python objects: globals are looked up in a fixed
 * allow-list and the few callables torch.save emits (OrderedDict,
 * _rebuild_tensor_v2, _rebuild_parameter) are interpreted here.  Everything
 * else is an error that names the offending global or opcode.
 *
 * This file is the machine: opcodes, stack, memo, the allow-list and the
 * torch callables; the objects it builds are in tvw-pickle-object.c.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-hash-private.h"
#include "tvw-pickle-object-private.h"

/* Allow-list. */
typedef struct
{
  const char      *module;
  const char      *name;
  TvwPkGlobalKind  kind;
  TvwCkptDType     dtype;
} PkAllowed;

static const PkAllowed allowed_globals[] = {
  { "collections", "OrderedDict", TVW_PK_GLOBAL_ORDERED_DICT, 0 },
  { "torch._utils", "_rebuild_tensor", TVW_PK_GLOBAL_REBUILD_TENSOR, 0 },
  { "torch._utils", "_rebuild_tensor_v2", TVW_PK_GLOBAL_REBUILD_TENSOR_V2, 0 },
  { "torch._utils", "_rebuild_parameter", TVW_PK_GLOBAL_REBUILD_PARAMETER, 0 },
  { "torch._utils", "_rebuild_parameter_with_state", TVW_PK_GLOBAL_REBUILD_PARAMETER_WITH_STATE, 0 },
  { "torch", "FloatStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_FLOAT32 },
  { "torch", "HalfStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_FLOAT16 },
  { "torch", "BFloat16Storage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_BFLOAT16 },
  { "torch", "DoubleStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_FLOAT64 },
  { "torch", "LongStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_INT64 },
  { "torch", "IntStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_INT32 },
  { "torch", "ShortStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_INT16 },
  { "torch", "CharStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_INT8 },
  { "torch", "ByteStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_UINT8 },
  { "torch", "BoolStorage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_BOOL },
  { "torch", "float32", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_FLOAT32 },
  { "torch", "float", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_FLOAT32 },
  { "torch", "float16", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_FLOAT16 },
  { "torch", "half", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_FLOAT16 },
  { "torch", "bfloat16", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_BFLOAT16 },
  { "torch", "float64", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_FLOAT64 },
  { "torch", "double", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_FLOAT64 },
  { "torch", "int64", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT64 },
  { "torch", "long", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT64 },
  { "torch", "int32", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT32 },
  { "torch", "int", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT32 },
  { "torch", "int16", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT16 },
  { "torch", "short", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT16 },
  { "torch", "int8", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT8 },
  { "torch", "uint8", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_UINT8 },
  { "torch", "bool", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_BOOL },
  /* Quantized tensors (torchvision.models.quantization): their storages
   * hold the raw integers, _rebuild_qtensor adds the affine parameters. */
  { "torch._utils", "_rebuild_qtensor", TVW_PK_GLOBAL_REBUILD_QTENSOR, 0 },
  { "torch", "QInt8Storage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_INT8 },
  { "torch", "QUInt8Storage", TVW_PK_GLOBAL_STORAGE_TYPE, TVW_CKPT_DTYPE_UINT8 },
  { "torch", "qint8", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_INT8 },
  { "torch", "quint8", TVW_PK_GLOBAL_DTYPE, TVW_CKPT_DTYPE_UINT8 },
  { "torch", "per_tensor_affine", TVW_PK_GLOBAL_QSCHEME, 0 },
  { "torch", "per_channel_affine", TVW_PK_GLOBAL_QSCHEME, 0 },
};

/* Opcodes (CPython Lib/pickle.py). */
enum
{
  OP_MARK = '(', OP_STOP = '.', OP_POP = '0', OP_POP_MARK = '1', OP_DUP = '2',
  OP_FLOAT = 'F', OP_INT = 'I', OP_BININT = 'J', OP_BININT1 = 'K', OP_LONG = 'L',
  OP_BININT2 = 'M', OP_NONE = 'N', OP_PERSID = 'P', OP_BINPERSID = 'Q',
  OP_REDUCE = 'R', OP_STRING = 'S', OP_BINSTRING = 'T', OP_SHORT_BINSTRING = 'U',
  OP_UNICODE = 'V', OP_BINUNICODE = 'X', OP_APPEND = 'a', OP_BUILD = 'b',
  OP_GLOBAL = 'c', OP_DICT = 'd', OP_EMPTY_DICT = '}', OP_APPENDS = 'e',
  OP_GET = 'g', OP_BINGET = 'h', OP_INST = 'i', OP_LONG_BINGET = 'j',
  OP_LIST = 'l', OP_EMPTY_LIST = ']', OP_OBJ = 'o', OP_PUT = 'p', OP_BINPUT = 'q',
  OP_LONG_BINPUT = 'r', OP_SETITEM = 's', OP_TUPLE = 't', OP_EMPTY_TUPLE = ')',
  OP_SETITEMS = 'u', OP_BINFLOAT = 'G',
  OP_PROTO = 0x80, OP_NEWOBJ = 0x81, OP_EXT1 = 0x82, OP_EXT2 = 0x83,
  OP_EXT4 = 0x84, OP_TUPLE1 = 0x85, OP_TUPLE2 = 0x86, OP_TUPLE3 = 0x87,
  OP_NEWTRUE = 0x88, OP_NEWFALSE = 0x89, OP_LONG1 = 0x8a, OP_LONG4 = 0x8b,
  OP_BINBYTES = 'B', OP_SHORT_BINBYTES = 'C',
  OP_SHORT_BINUNICODE = 0x8c, OP_BINUNICODE8 = 0x8d, OP_BINBYTES8 = 0x8e,
  OP_EMPTY_SET = 0x8f, OP_ADDITEMS = 0x90, OP_FROZENSET = 0x91,
  OP_NEWOBJ_EX = 0x92, OP_STACK_GLOBAL = 0x93, OP_MEMOIZE = 0x94,
  OP_FRAME = 0x95, OP_BYTEARRAY8 = 0x96, OP_NEXT_BUFFER = 0x97,
  OP_READONLY_BUFFER = 0x98,
};

void
tvw_pickle_set_error (TvwPickle   *self,
                      GError     **error,
                      const char  *format,
                      ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  tvw_file_error (error, self->display_name, "%s, byte %" G_GSIZE_FORMAT ": %s",
                  self->what ? self->what : "pickle", self->op_pos, msg);
}

TvwPickle *
tvw_pickle_new (const char *display_name)
{
  TvwPickle *self = g_new0 (TvwPickle, 1);

  self->display_name = g_strdup (display_name);
  self->objects = g_ptr_array_new_with_free_func (tvw_pk_obj_free);
  self->stack = g_ptr_array_new ();
  self->marks = g_array_new (FALSE, FALSE, sizeof (guint));
  self->memo = g_ptr_array_new ();
  self->none = tvw_pk_new (self, TVW_PK_NONE, NULL);
  self->true_ = tvw_pk_new (self, TVW_PK_BOOL, NULL);
  self->true_->v.b = TRUE;
  self->false_ = tvw_pk_new (self, TVW_PK_BOOL, NULL);
  return self;
}

void
tvw_pickle_free (TvwPickle *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->memo);
  g_array_unref (self->marks);
  g_ptr_array_unref (self->stack);
  g_ptr_array_unref (self->objects);
  g_free (self->display_name);
  g_free (self);
}

void
tvw_pickle_set_persistent_load (TvwPickle         *self,
                                TvwPickleLoadFunc  func,
                                gpointer           user_data)
{
  self->load_func = func;
  self->load_data = user_data;
}

static guint
pk_frame_base (TvwPickle *self)
{
  if (self->marks->len == 0)
    return 0;
  return g_array_index (self->marks, guint, self->marks->len - 1);
}

static gboolean
pk_push (TvwPickle  *self,
         TvwPkObj   *obj,
         GError    **error)
{
  if (obj == NULL)
    return FALSE;  /* error already set by the constructor */
  if (self->stack->len >= PK_MAX_STACK)
    {
      tvw_pickle_set_error (self, error, "stack deeper than %u", PK_MAX_STACK);
      return FALSE;
    }
  g_ptr_array_add (self->stack, obj);
  return TRUE;
}

static TvwPkObj *
pk_pop (TvwPickle  *self,
        GError    **error)
{
  if (self->stack->len <= pk_frame_base (self))
    {
      tvw_pickle_set_error (self, error, "stack underflow");
      return NULL;
    }
  return g_ptr_array_steal_index (self->stack, self->stack->len - 1);
}

static TvwPkObj *
pk_top (TvwPickle  *self,
        GError    **error)
{
  if (self->stack->len <= pk_frame_base (self))
    {
      tvw_pickle_set_error (self, error, "stack underflow");
      return NULL;
    }
  return g_ptr_array_index (self->stack, self->stack->len - 1);
}

/* Pops the most recent mark and returns where its items start. */
static gboolean
pk_pop_mark (TvwPickle  *self,
             guint      *base,
             GError    **error)
{
  if (self->marks->len == 0)
    {
      tvw_pickle_set_error (self, error, "opcode needs a MARK but there is none");
      return FALSE;
    }
  *base = g_array_index (self->marks, guint, self->marks->len - 1);
  g_array_set_size (self->marks, self->marks->len - 1);
  return TRUE;
}

static TvwPkObj **
pk_stack_items (TvwPickle *self,
                guint      base)
{
  return self->stack->len > base ? (TvwPkObj **) self->stack->pdata + base : NULL;
}

static void
pk_stack_truncate (TvwPickle *self,
                   guint      len)
{
  g_ptr_array_set_size (self->stack, len);
}

/* Memo.  Picklers number memo entries densely from 0, so an array indexed
 * by the memo index, capped at PK_MAX_MEMO entries, is enough. */

static gboolean
pk_memo_put (TvwPickle  *self,
             guint64     index,
             GError    **error)
{
  TvwPkObj *top = pk_top (self, error);

  if (top == NULL)
    return FALSE;
  if (index >= PK_MAX_MEMO)
    {
      tvw_pickle_set_error (self, error, "memo index %" G_GUINT64_FORMAT " is beyond the "
                            "limit of %u memo entries", index, PK_MAX_MEMO);
      return FALSE;
    }
  if (index >= self->memo->len)
    g_ptr_array_set_size (self->memo, (guint) index + 1);
  if (self->memo->pdata[index] == NULL)
    self->n_memo++;
  self->memo->pdata[index] = top;
  return TRUE;
}

static gboolean
pk_memo_get (TvwPickle  *self,
             guint64     index,
             GError    **error)
{
  TvwPkObj *obj = NULL;

  if (index < self->memo->len)
    obj = self->memo->pdata[index];
  if (obj == NULL)
    {
      tvw_pickle_set_error (self, error, "memo entry %" G_GUINT64_FORMAT " does not exist", index);
      return FALSE;
    }
  return pk_push (self, obj, error);
}

/* Globals. */

static TvwPkObj *
pk_find_global (TvwPickle   *self,
                const char  *module,
                const char  *name,
                GError     **error)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (allowed_globals); i++)
    {
      const PkAllowed *a = &allowed_globals[i];
      TvwPkObj *obj;

      if (strcmp (a->module, module) != 0 || strcmp (a->name, name) != 0)
        continue;
      obj = tvw_pk_new (self, TVW_PK_GLOBAL, error);
      if (obj == NULL)
        return NULL;
      obj->v.global.kind = a->kind;
      obj->v.global.dtype = a->dtype;
      obj->v.global.name = a->name;
      return obj;
    }

  if (strcmp (module, "torch") == 0 && g_str_has_prefix (name, "per_channel_affine"))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: %s: quantization scheme torch.%s is not supported",
                   self->display_name, self->what, name);
      return NULL;
    }
  if (strcmp (module, "torch") == 0 && g_str_has_suffix (name, "Storage"))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: %s: tensors of type torch.%s are not supported",
                   self->display_name, self->what, name);
      return NULL;
    }
  tvw_pickle_set_error (self, error,
                        "global '%s.%s' is not allowed: only tensors and plain data "
                        "are loaded from a checkpoint%s",
                        module, name,
                        g_str_has_prefix (module, "torch.nn") ||
                        g_str_has_prefix (module, "torchvision") ?
                        " (the file holds a pickled module: save its state_dict() instead)" : "");
  return NULL;
}

static gboolean
pk_is_identifier (const guint8 *p,
                  gsize         len)
{
  gsize i;

  if (len == 0 || len > 256)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!(g_ascii_isalnum (p[i]) || p[i] == '_' || p[i] == '.'))
      return FALSE;
  return TRUE;
}

static gboolean
pk_push_global (TvwPickle     *self,
                const guint8  *module,
                gsize          module_len,
                const guint8  *name,
                gsize          name_len,
                GError       **error)
{
  g_autofree char *m = NULL;
  g_autofree char *n = NULL;

  if (!pk_is_identifier (module, module_len) || !pk_is_identifier (name, name_len))
    {
      tvw_pickle_set_error (self, error, "malformed global name");
      return FALSE;
    }
  m = g_strndup ((const char *) module, module_len);
  n = g_strndup ((const char *) name, name_len);
  return pk_push (self, pk_find_global (self, m, n, error), error);
}

/* REDUCE for the allow-listed callables. */

static gboolean
pk_int_tuple (TvwPickle   *self,
              TvwPkObj    *obj,
              const char  *what,
              gint64      *out,
              guint       *n_out,
              GError     **error)
{
  guint i;

  if (obj->type != TVW_PK_TUPLE && obj->type != TVW_PK_LIST)
    {
      tvw_pickle_set_error (self, error, "tensor %s is a %s, not a tuple",
                            what, tvw_pk_type_name (obj));
      return FALSE;
    }
  if (obj->v.seq.n > TVW_CKPT_MAX_DIMS)
    {
      tvw_pickle_set_error (self, error, "tensor has %u dimensions (at most %d are supported)",
                            obj->v.seq.n, TVW_CKPT_MAX_DIMS);
      return FALSE;
    }
  for (i = 0; i < obj->v.seq.n; i++)
    {
      TvwPkObj *item = obj->v.seq.items[i];

      if (item->type != TVW_PK_INT)
        {
          tvw_pickle_set_error (self, error, "tensor %s[%u] is a %s, not an int",
                                what, i, tvw_pk_type_name (item));
          return FALSE;
        }
      out[i] = item->v.i;
    }
  *n_out = obj->v.seq.n;
  return TRUE;
}

static TvwPkObj *
pk_rebuild_tensor (TvwPickle  *self,
                   TvwPkObj  **args,
                   guint       n_args,
                   gboolean    v2,
                   GError    **error)
{
  g_autofree TvwPkTensor *t = g_new0 (TvwPkTensor, 1);
  guint n_stride = 0;
  TvwPkObj *obj;

  if (v2 ? (n_args != 6 && n_args != 7) : n_args != 4)
    {
      tvw_pickle_set_error (self, error, "%s takes %s arguments, not %u",
                            v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor",
                            v2 ? "6 or 7" : "4", n_args);
      return NULL;
    }
  if (args[0]->type != TVW_PK_STORAGE)
    {
      tvw_pickle_set_error (self, error, "tensor storage is a %s, not a storage",
                            tvw_pk_type_name (args[0]));
      return NULL;
    }
  if (args[1]->type != TVW_PK_INT)
    {
      tvw_pickle_set_error (self, error, "tensor storage offset is a %s, not an int",
                            tvw_pk_type_name (args[1]));
      return NULL;
    }
  if (!pk_int_tuple (self, args[2], "size", t->size, &t->n_dims, error) ||
      !pk_int_tuple (self, args[3], "stride", t->stride, &n_stride, error))
    return NULL;
  if (n_stride != t->n_dims)
    {
      tvw_pickle_set_error (self, error, "tensor has %u sizes but %u strides",
                            t->n_dims, n_stride);
      return NULL;
    }
  if (v2)
    {
      if (args[4]->type != TVW_PK_BOOL && args[4]->type != TVW_PK_INT)
        {
          tvw_pickle_set_error (self, error, "tensor requires_grad is a %s, not a bool",
                                tvw_pk_type_name (args[4]));
          return NULL;
        }
      if (args[5]->type != TVW_PK_DICT || args[5]->v.dict.n != 0)
        {
          tvw_pickle_set_error (self, error, "tensor backward hooks are not an empty dict");
          return NULL;
        }
    }
  t->storage = args[0]->v.storage;
  t->storage_offset = args[1]->v.i;

  obj = tvw_pk_new (self, TVW_PK_TENSOR, error);
  if (obj == NULL)
    return NULL;
  obj->v.tensor = g_steal_pointer (&t);
  return obj;
}

/* _rebuild_qtensor (storage, storage_offset, size, stride, quantizer_params,
 * requires_grad, backward_hooks), quantizer_params being
 * (torch.per_tensor_affine, scale, zero_point) or
 * (torch.per_channel_affine, scales, zero_points, axis). */
static TvwPkObj *
pk_rebuild_qtensor (TvwPickle  *self,
                    TvwPkObj  **args,
                    guint       n_args,
                    GError    **error)
{
  TvwPkObj *v2_args[6], *obj, *q;
  TvwPkObj **qp;
  TvwPkTensor *t;

  if (n_args != 7)
    {
      tvw_pickle_set_error (self, error, "_rebuild_qtensor takes 7 arguments, not %u", n_args);
      return NULL;
    }
  q = args[4];
  if (q->type != TVW_PK_TUPLE || q->v.seq.n < 3 || q->v.seq.items[0]->type != TVW_PK_GLOBAL ||
      q->v.seq.items[0]->v.global.kind != TVW_PK_GLOBAL_QSCHEME)
    {
      tvw_pickle_set_error (self, error, "quantized tensor parameters are a %s, not a "
                            "(qscheme, …) tuple", tvw_pk_type_name (q));
      return NULL;
    }

  /* The rest is an ordinary tensor's. */
  memcpy (v2_args, args, 4 * sizeof (TvwPkObj *));
  v2_args[4] = args[5];
  v2_args[5] = args[6];
  obj = pk_rebuild_tensor (self, v2_args, 6, TRUE, error);
  if (obj == NULL)
    return NULL;
  t = obj->v.tensor;
  t->quantized = TRUE;
  t->qaxis = -1;
  qp = q->v.seq.items;

  if (strcmp (qp[0]->v.global.name, "per_tensor_affine") == 0)
    {
      if (q->v.seq.n != 3 || (qp[1]->type != TVW_PK_FLOAT && qp[1]->type != TVW_PK_INT) ||
          qp[2]->type != TVW_PK_INT)
        {
          tvw_pickle_set_error (self, error, "per-tensor quantization needs a scale and "
                                "a zero point");
          return NULL;
        }
      t->qscale = qp[1]->type == TVW_PK_FLOAT ? qp[1]->v.f : (double) qp[1]->v.i;
      t->qzero_point = qp[2]->v.i;
    }
  else
    {
      if (q->v.seq.n != 4 || qp[1]->type != TVW_PK_TENSOR || qp[2]->type != TVW_PK_TENSOR ||
          qp[3]->type != TVW_PK_INT || qp[3]->v.i < 0 || qp[3]->v.i >= t->n_dims)
        {
          tvw_pickle_set_error (self, error, "per-channel quantization needs scales, zero "
                                "points and an axis of the tensor");
          return NULL;
        }
      t->qscales = qp[1]->v.tensor;
      t->qzero_points = qp[2]->v.tensor;
      t->qaxis = (int) qp[3]->v.i;
    }
  return obj;
}

static TvwPkObj *
pk_reduce (TvwPickle  *self,
           TvwPkObj   *func,
           TvwPkObj   *args,
           GError    **error)
{
  TvwPkObj **a;
  guint n;

  if (func->type != TVW_PK_GLOBAL)
    {
      tvw_pickle_set_error (self, error, "REDUCE on a %s, which is not callable",
                            tvw_pk_type_name (func));
      return NULL;
    }
  if (args->type != TVW_PK_TUPLE)
    {
      tvw_pickle_set_error (self, error, "REDUCE arguments are a %s, not a tuple",
                            tvw_pk_type_name (args));
      return NULL;
    }
  a = args->v.seq.items;
  n = args->v.seq.n;

  switch (func->v.global.kind)
    {
    case TVW_PK_GLOBAL_ORDERED_DICT:
      if (n != 0)
        {
          tvw_pickle_set_error (self, error, "OrderedDict() with arguments is not supported");
          return NULL;
        }
      return tvw_pk_new (self, TVW_PK_DICT, error);

    case TVW_PK_GLOBAL_REBUILD_TENSOR:
      return pk_rebuild_tensor (self, a, n, FALSE, error);

    case TVW_PK_GLOBAL_REBUILD_TENSOR_V2:
      return pk_rebuild_tensor (self, a, n, TRUE, error);

    case TVW_PK_GLOBAL_REBUILD_QTENSOR:
      return pk_rebuild_qtensor (self, a, n, error);

    case TVW_PK_GLOBAL_REBUILD_PARAMETER:
    case TVW_PK_GLOBAL_REBUILD_PARAMETER_WITH_STATE:
      {
        guint expected = func->v.global.kind == TVW_PK_GLOBAL_REBUILD_PARAMETER ? 3 : 4;

        if (n != expected || a[0]->type != TVW_PK_TENSOR)
          {
            tvw_pickle_set_error (self, error, "%s needs a tensor and %u more arguments",
                                  func->v.global.name, expected - 1);
            return NULL;
          }
        /* A Parameter is its tensor for our purposes. */
        return a[0];
      }

    case TVW_PK_GLOBAL_STORAGE_TYPE:
    case TVW_PK_GLOBAL_DTYPE:
    case TVW_PK_GLOBAL_QSCHEME:
    default:
      tvw_pickle_set_error (self, error, "torch.%s is not callable in a checkpoint",
                            func->v.global.name);
      return NULL;
    }
}

TvwPkObj *
tvw_pickle_new_storage (TvwPickle     *self,
                        const char    *key,
                        TvwCkptDType   dtype,
                        gint64         numel,
                        GError       **error)
{
  TvwPkObj *obj = tvw_pk_new (self, TVW_PK_STORAGE, error);

  if (obj == NULL)
    return NULL;
  obj->v.storage = g_new0 (TvwPkStorage, 1);
  obj->v.storage->key = g_strdup (key);
  obj->v.storage->dtype = dtype;
  obj->v.storage->numel = numel;
  return obj;
}

static gboolean
pk_parse_decimal (TvwPickle     *self,
                  const guint8  *p,
                  gsize          len,
                  gint64        *out,
                  GError       **error)
{
  g_autofree char *s = g_strndup ((const char *) p, len);
  g_autoptr(GError) local = NULL;

  g_strstrip (s);
  if (!g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, out, &local))
    {
      tvw_pickle_set_error (self, error, "bad integer literal: %s", local->message);
      return FALSE;
    }
  return TRUE;
}

/* A protocol 0 LONG literal, which may exceed gint64 (torch's magic number
 * does): decimal digits into little-endian two's complement bytes. */
static TvwPkObj *
pk_new_decimal_long (TvwPickle     *self,
                     const guint8  *p,
                     gsize          len,
                     GError       **error)
{
  guint8 mag[64] = { 0, };
  gsize n = 1, i, k;
  gboolean negative = FALSE;

  if (len > 0 && (p[0] == '-' || p[0] == '+'))
    {
      negative = p[0] == '-';
      p++;
      len--;
    }
  if (len == 0 || len > 140)
    {
      tvw_pickle_set_error (self, error, "bad integer literal");
      return NULL;
    }
  for (i = 0; i < len; i++)
    {
      guint carry;

      if (!g_ascii_isdigit (p[i]))
        {
          tvw_pickle_set_error (self, error, "bad integer literal");
          return NULL;
        }
      carry = p[i] - '0';
      for (k = 0; k < n; k++)
        {
          guint v = mag[k] * 10u + carry;

          mag[k] = v & 0xff;
          carry = v >> 8;
        }
      if (carry != 0)
        mag[n++] = (guint8) carry;
    }
  /* Room for the sign bit, then negate if needed. */
  if (mag[n - 1] & 0x80)
    n++;
  if (negative)
    {
      guint carry = 1;

      for (k = 0; k < n; k++)
        {
          guint v = (guint8) ~mag[k] + carry;

          mag[k] = v & 0xff;
          carry = v >> 8;
        }
    }
  return tvw_pk_new_long (self, mag, n, error);
}

static TvwPkObj *
pk_persistent_load (TvwPickle  *self,
                    TvwPkObj   *pid,
                    GError    **error)
{
  if (self->load_func == NULL)
    {
      tvw_pickle_set_error (self, error, "unexpected persistent id");
      return NULL;
    }
  return self->load_func (self, pid, self->load_data, error);
}

TvwPkObj *
tvw_pickle_load (TvwPickle     *self,
                 const char    *what,
                 const guint8  *data,
                 gsize          size,
                 gsize         *pos,
                 GError       **error)
{
  TvwReader r;

  self->what = what;
  self->op_pos = *pos;
  g_ptr_array_set_size (self->memo, 0);
  self->n_memo = 0;
  g_ptr_array_set_size (self->stack, 0);
  g_array_set_size (self->marks, 0);

  tvw_reader_init (&r, data, size);
  if (!tvw_reader_seek (&r, *pos))
    {
      tvw_pickle_set_error (self, error, "pickle starts past the end of the data");
      return NULL;
    }

#define NEED(expr) G_STMT_START { if (!(expr)) goto truncated; } G_STMT_END
#define CHECK(expr) G_STMT_START { if (!(expr)) return NULL; } G_STMT_END

  for (;;)
    {
      guint8 op;

      self->op_pos = r.pos;
      NEED (tvw_reader_u8 (&r, &op));

      switch (op)
        {
        case OP_PROTO:
          {
            guint8 proto;

            NEED (tvw_reader_u8 (&r, &proto));
            if (proto > 5)
              {
                tvw_pickle_set_error (self, error, "unsupported pickle protocol %u", proto);
                return NULL;
              }
          }
          break;

        case OP_FRAME:
          {
            guint64 len;

            NEED (tvw_reader_u64 (&r, &len));
            if (len > tvw_reader_remaining (&r))
              goto truncated;
          }
          break;

        case OP_STOP:
          {
            TvwPkObj *result = pk_pop (self, error);

            CHECK (result != NULL);
            *pos = r.pos;
            return result;
          }

        /* Constants and numbers. */
        case OP_NONE:
          CHECK (pk_push (self, self->none, error));
          break;
        case OP_NEWTRUE:
          CHECK (pk_push (self, self->true_, error));
          break;
        case OP_NEWFALSE:
          CHECK (pk_push (self, self->false_, error));
          break;

        case OP_BININT:
          {
            guint32 v;

            NEED (tvw_reader_u32 (&r, &v));
            CHECK (pk_push (self, tvw_pk_new_int (self, (gint32) v, error), error));
          }
          break;
        case OP_BININT1:
          {
            guint8 v;

            NEED (tvw_reader_u8 (&r, &v));
            CHECK (pk_push (self, tvw_pk_new_int (self, v, error), error));
          }
          break;
        case OP_BININT2:
          {
            guint16 v;

            NEED (tvw_reader_u16 (&r, &v));
            CHECK (pk_push (self, tvw_pk_new_int (self, v, error), error));
          }
          break;
        case OP_LONG1:
        case OP_LONG4:
          {
            const guint8 *p;
            guint64 n;

            if (op == OP_LONG1)
              {
                guint8 n8;

                NEED (tvw_reader_u8 (&r, &n8));
                n = n8;
              }
            else
              {
                guint32 n32;

                NEED (tvw_reader_u32 (&r, &n32));
                if ((gint32) n32 < 0)
                  {
                    tvw_pickle_set_error (self, error, "negative LONG4 length");
                    return NULL;
                  }
                n = n32;
              }
            NEED (tvw_reader_bytes (&r, n, &p));
            CHECK (pk_push (self, tvw_pk_new_long (self, p, n, error), error));
          }
          break;
        case OP_INT:
        case OP_LONG:
          {
            const guint8 *p;
            gsize len;
            gint64 v;

            NEED (tvw_reader_line (&r, &p, &len));
            if (op == OP_INT && len == 2 && p[0] == '0' && (p[1] == '0' || p[1] == '1'))
              {
                CHECK (pk_push (self, p[1] == '1' ? self->true_ : self->false_, error));
                break;
              }
            if (op == OP_LONG)
              {
                if (len > 0 && p[len - 1] == 'L')
                  len--;
                CHECK (pk_push (self, pk_new_decimal_long (self, p, len, error), error));
                break;
              }
            CHECK (pk_parse_decimal (self, p, len, &v, error));
            CHECK (pk_push (self, tvw_pk_new_int (self, v, error), error));
          }
          break;
        case OP_FLOAT:
          {
            const guint8 *p;
            gsize len;
            g_autofree char *s = NULL;
            char *end = NULL;
            double v;
            TvwPkObj *obj;

            NEED (tvw_reader_line (&r, &p, &len));
            s = g_strndup ((const char *) p, len);
            v = g_ascii_strtod (s, &end);
            if (end == s || *end != '\0')
              {
                tvw_pickle_set_error (self, error, "bad float literal");
                return NULL;
              }
            obj = tvw_pk_new (self, TVW_PK_FLOAT, error);
            CHECK (obj != NULL);
            obj->v.f = v;
            CHECK (pk_push (self, obj, error));
          }
          break;
        case OP_BINFLOAT:
          {
            const guint8 *p;
            guint64 bits = 0;
            TvwPkObj *obj;
            int k;

            NEED (tvw_reader_bytes (&r, 8, &p));
            for (k = 0; k < 8; k++)
              bits = (bits << 8) | p[k];
            obj = tvw_pk_new (self, TVW_PK_FLOAT, error);
            CHECK (obj != NULL);
            memcpy (&obj->v.f, &bits, sizeof (double));
            CHECK (pk_push (self, obj, error));
          }
          break;

        /* Strings and bytes. */
        case OP_BINUNICODE:
        case OP_SHORT_BINUNICODE:
        case OP_BINUNICODE8:
        case OP_BINSTRING:
        case OP_SHORT_BINSTRING:
        case OP_BINBYTES:
        case OP_SHORT_BINBYTES:
        case OP_BINBYTES8:
          {
            const guint8 *p;
            guint64 len;
            TvwPkObj *obj;

            if (op == OP_SHORT_BINUNICODE || op == OP_SHORT_BINSTRING || op == OP_SHORT_BINBYTES)
              {
                guint8 n8;

                NEED (tvw_reader_u8 (&r, &n8));
                len = n8;
              }
            else if (op == OP_BINUNICODE8 || op == OP_BINBYTES8)
              NEED (tvw_reader_u64 (&r, &len));
            else
              {
                guint32 n32;

                NEED (tvw_reader_u32 (&r, &n32));
                if (op == OP_BINSTRING && (gint32) n32 < 0)
                  {
                    tvw_pickle_set_error (self, error, "negative BINSTRING length");
                    return NULL;
                  }
                len = n32;
              }
            NEED (tvw_reader_bytes (&r, len, &p));
            if (op == OP_BINUNICODE || op == OP_SHORT_BINUNICODE || op == OP_BINUNICODE8)
              obj = tvw_pk_new_str (self, p, len, error);
            else if (op == OP_BINSTRING || op == OP_SHORT_BINSTRING)
              obj = tvw_pk_new_str_or_bytes (self, p, len, error);
            else
              obj = tvw_pk_new_blob (self, TVW_PK_BYTES, p, len, error);
            CHECK (pk_push (self, obj, error));
          }
          break;
        case OP_STRING:
        case OP_UNICODE:
          {
            const guint8 *p;
            gsize len;
            TvwPkObj *obj;

            NEED (tvw_reader_line (&r, &p, &len));
            if (op == OP_STRING)
              obj = tvw_pk_new_escaped_string (self, p, len, error);
            else
              obj = tvw_pk_new_raw_unicode (self, p, len, error);
            CHECK (pk_push (self, obj, error));
          }
          break;

        /* Containers. */
        case OP_EMPTY_TUPLE:
          CHECK (pk_push (self, tvw_pk_new_seq (self, TVW_PK_TUPLE, NULL, 0, error), error));
          break;
        case OP_EMPTY_LIST:
          CHECK (pk_push (self, tvw_pk_new_seq (self, TVW_PK_LIST, NULL, 0, error), error));
          break;
        case OP_EMPTY_DICT:
          CHECK (pk_push (self, tvw_pk_new (self, TVW_PK_DICT, error), error));
          break;
        case OP_EMPTY_SET:
          CHECK (pk_push (self, tvw_pk_new_seq (self, TVW_PK_SET, NULL, 0, error), error));
          break;

        case OP_TUPLE1:
        case OP_TUPLE2:
        case OP_TUPLE3:
          {
            guint n = op - OP_TUPLE1 + 1;
            guint base = self->stack->len - n;
            TvwPkObj *obj;

            if (self->stack->len < pk_frame_base (self) + n)
              {
                tvw_pickle_set_error (self, error, "stack underflow");
                return NULL;
              }
            obj = tvw_pk_new_seq (self, TVW_PK_TUPLE, pk_stack_items (self, base), n, error);
            CHECK (obj != NULL);
            pk_stack_truncate (self, base);
            CHECK (pk_push (self, obj, error));
          }
          break;

        case OP_TUPLE:
        case OP_LIST:
        case OP_FROZENSET:
          {
            guint base;
            TvwPkObj *obj;
            TvwPkType type = op == OP_TUPLE ? TVW_PK_TUPLE :
                             op == OP_LIST ? TVW_PK_LIST : TVW_PK_SET;

            CHECK (pk_pop_mark (self, &base, error));
            obj = tvw_pk_new_seq (self, type, pk_stack_items (self, base),
                                  self->stack->len - base, error);
            CHECK (obj != NULL);
            pk_stack_truncate (self, base);
            CHECK (pk_push (self, obj, error));
          }
          break;

        case OP_DICT:
          {
            guint base, i;
            TvwPkObj *obj;

            CHECK (pk_pop_mark (self, &base, error));
            if ((self->stack->len - base) % 2 != 0)
              {
                tvw_pickle_set_error (self, error, "odd number of items for DICT");
                return NULL;
              }
            obj = tvw_pk_new (self, TVW_PK_DICT, error);
            CHECK (obj != NULL);
            for (i = base; i < self->stack->len; i += 2)
              CHECK (tvw_pk_dict_set (self, obj, self->stack->pdata[i],
                                      self->stack->pdata[i + 1], error));
            pk_stack_truncate (self, base);
            CHECK (pk_push (self, obj, error));
          }
          break;

        case OP_APPEND:
          {
            TvwPkObj *item = pk_pop (self, error);
            TvwPkObj *list;

            CHECK (item != NULL);
            list = pk_top (self, error);
            CHECK (list != NULL);
            if (list->type != TVW_PK_LIST)
              {
                tvw_pickle_set_error (self, error, "APPEND to a %s", tvw_pk_type_name (list));
                return NULL;
              }
            CHECK (tvw_pk_seq_append (self, list, item, error));
          }
          break;

        case OP_APPENDS:
        case OP_ADDITEMS:
          {
            guint base, i;
            TvwPkObj *target;

            CHECK (pk_pop_mark (self, &base, error));
            if (base <= pk_frame_base (self))
              {
                tvw_pickle_set_error (self, error, "stack underflow");
                return NULL;
              }
            target = self->stack->pdata[base - 1];
            if (target->type != (op == OP_APPENDS ? TVW_PK_LIST : TVW_PK_SET))
              {
                tvw_pickle_set_error (self, error, "%s to a %s",
                                      op == OP_APPENDS ? "APPENDS" : "ADDITEMS",
                                      tvw_pk_type_name (target));
                return NULL;
              }
            for (i = base; i < self->stack->len; i++)
              CHECK (tvw_pk_seq_append (self, target, self->stack->pdata[i], error));
            pk_stack_truncate (self, base);
          }
          break;

        case OP_SETITEM:
          {
            TvwPkObj *value = pk_pop (self, error);
            TvwPkObj *key = value ? pk_pop (self, error) : NULL;
            TvwPkObj *dict = key ? pk_top (self, error) : NULL;

            CHECK (dict != NULL);
            if (dict->type != TVW_PK_DICT)
              {
                tvw_pickle_set_error (self, error, "SETITEM on a %s", tvw_pk_type_name (dict));
                return NULL;
              }
            CHECK (tvw_pk_dict_set (self, dict, key, value, error));
          }
          break;

        case OP_SETITEMS:
          {
            guint base, i;
            TvwPkObj *dict;

            CHECK (pk_pop_mark (self, &base, error));
            if (base <= pk_frame_base (self))
              {
                tvw_pickle_set_error (self, error, "stack underflow");
                return NULL;
              }
            dict = self->stack->pdata[base - 1];
            if (dict->type != TVW_PK_DICT)
              {
                tvw_pickle_set_error (self, error, "SETITEMS on a %s", tvw_pk_type_name (dict));
                return NULL;
              }
            if ((self->stack->len - base) % 2 != 0)
              {
                tvw_pickle_set_error (self, error, "odd number of items for SETITEMS");
                return NULL;
              }
            for (i = base; i < self->stack->len; i += 2)
              CHECK (tvw_pk_dict_set (self, dict, self->stack->pdata[i],
                                      self->stack->pdata[i + 1], error));
            pk_stack_truncate (self, base);
          }
          break;

        /* Stack manipulation. */
        case OP_MARK:
          {
            guint len = self->stack->len;

            if (self->marks->len >= PK_MAX_DEPTH)
              {
                tvw_pickle_set_error (self, error, "MARKs nested more than %d deep",
                                      PK_MAX_DEPTH);
                return NULL;
              }
            g_array_append_val (self->marks, len);
          }
          break;
        case OP_POP:
          if (self->stack->len > pk_frame_base (self))
            pk_stack_truncate (self, self->stack->len - 1);
          else
            {
              guint base;

              CHECK (pk_pop_mark (self, &base, error));
            }
          break;
        case OP_POP_MARK:
          {
            guint base;

            CHECK (pk_pop_mark (self, &base, error));
            pk_stack_truncate (self, base);
          }
          break;
        case OP_DUP:
          {
            TvwPkObj *top = pk_top (self, error);

            CHECK (top != NULL);
            CHECK (pk_push (self, top, error));
          }
          break;

        /* Memo. */
        case OP_BINPUT:
          {
            guint8 i;

            NEED (tvw_reader_u8 (&r, &i));
            CHECK (pk_memo_put (self, i, error));
          }
          break;
        case OP_LONG_BINPUT:
          {
            guint32 i;

            NEED (tvw_reader_u32 (&r, &i));
            CHECK (pk_memo_put (self, i, error));
          }
          break;
        case OP_PUT:
        case OP_GET:
          {
            const guint8 *p;
            gsize len;
            gint64 i;

            NEED (tvw_reader_line (&r, &p, &len));
            CHECK (pk_parse_decimal (self, p, len, &i, error));
            if (i < 0)
              {
                tvw_pickle_set_error (self, error, "negative memo index");
                return NULL;
              }
            if (op == OP_PUT)
              CHECK (pk_memo_put (self, (guint64) i, error));
            else
              CHECK (pk_memo_get (self, (guint64) i, error));
          }
          break;
        case OP_MEMOIZE:
          CHECK (pk_memo_put (self, self->n_memo, error));
          break;
        case OP_BINGET:
          {
            guint8 i;

            NEED (tvw_reader_u8 (&r, &i));
            CHECK (pk_memo_get (self, i, error));
          }
          break;
        case OP_LONG_BINGET:
          {
            guint32 i;

            NEED (tvw_reader_u32 (&r, &i));
            CHECK (pk_memo_get (self, i, error));
          }
          break;

        /* Globals and calls. */
        case OP_GLOBAL:
          {
            const guint8 *module, *name;
            gsize module_len, name_len;

            NEED (tvw_reader_line (&r, &module, &module_len));
            NEED (tvw_reader_line (&r, &name, &name_len));
            CHECK (pk_push_global (self, module, module_len, name, name_len, error));
          }
          break;
        case OP_STACK_GLOBAL:
          {
            TvwPkObj *name = pk_pop (self, error);
            TvwPkObj *module = name ? pk_pop (self, error) : NULL;

            CHECK (module != NULL);
            if (name->type != TVW_PK_STR || module->type != TVW_PK_STR)
              {
                tvw_pickle_set_error (self, error, "STACK_GLOBAL needs two strings");
                return NULL;
              }
            CHECK (pk_push_global (self,
                                   (const guint8 *) module->v.str.data, module->v.str.len,
                                   (const guint8 *) name->v.str.data, name->v.str.len,
                                   error));
          }
          break;
        case OP_REDUCE:
          {
            TvwPkObj *args = pk_pop (self, error);
            TvwPkObj *func = args ? pk_pop (self, error) : NULL;

            CHECK (func != NULL);
            CHECK (pk_push (self, pk_reduce (self, func, args, error), error));
          }
          break;
        case OP_NEWOBJ:
        case OP_NEWOBJ_EX:
          {
            TvwPkObj *kwargs = op == OP_NEWOBJ_EX ? pk_pop (self, error) : self->none;
            TvwPkObj *args = kwargs ? pk_pop (self, error) : NULL;
            TvwPkObj *cls = args ? pk_pop (self, error) : NULL;

            CHECK (cls != NULL);
            /* cls.__new__(cls) for an OrderedDict is an empty dict; nothing
             * else may be instantiated. */
            if (cls->type != TVW_PK_GLOBAL ||
                cls->v.global.kind != TVW_PK_GLOBAL_ORDERED_DICT ||
                args->type != TVW_PK_TUPLE || args->v.seq.n != 0)
              {
                tvw_pickle_set_error (self, error, "NEWOBJ of a %s is not supported",
                                      tvw_pk_type_name (cls));
                return NULL;
              }
            CHECK (pk_push (self, tvw_pk_new (self, TVW_PK_DICT, error), error));
          }
          break;
        case OP_BUILD:
          {
            TvwPkObj *state = pk_pop (self, error);
            TvwPkObj *obj = state ? pk_top (self, error) : NULL;

            CHECK (obj != NULL);
            /* state_dict() attaches its _metadata (layer versions) to the
             * OrderedDict this way; it is not needed. */
            if (obj->type != TVW_PK_DICT)
              {
                tvw_pickle_set_error (self, error, "BUILD on a %s is not supported",
                                      tvw_pk_type_name (obj));
                return NULL;
              }
          }
          break;
        case OP_BINPERSID:
        case OP_PERSID:
          {
            TvwPkObj *pid;

            if (op == OP_PERSID)
              {
                const guint8 *p;
                gsize len;

                NEED (tvw_reader_line (&r, &p, &len));
                pid = tvw_pk_new_str_or_bytes (self, p, len, error);
              }
            else
              pid = pk_pop (self, error);
            CHECK (pid != NULL);
            CHECK (pk_push (self, pk_persistent_load (self, pid, error), error));
          }
          break;

        case OP_INST:
        case OP_OBJ:
          tvw_pickle_set_error (self, error, "class instantiation (opcode '%c') is not allowed", op);
          return NULL;
        case OP_EXT1:
        case OP_EXT2:
        case OP_EXT4:
          tvw_pickle_set_error (self, error, "extension registry opcodes are not allowed");
          return NULL;
        case OP_BYTEARRAY8:
        case OP_NEXT_BUFFER:
        case OP_READONLY_BUFFER:
          tvw_pickle_set_error (self, error, "protocol 5 buffers are not supported");
          return NULL;

        default:
          tvw_pickle_set_error (self, error, "unknown opcode 0x%02x", op);
          return NULL;
        }
    }

truncated:
  tvw_pickle_set_error (self, error, "pickle is truncated");
  return NULL;

#undef NEED
#undef CHECK
}
