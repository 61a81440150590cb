/* tvw-pickle-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A restricted unpickler: a small VM over the pickle opcodes that plain data
 * needs (protocols 0–4), which builds dicts, lists, tuples, strings, numbers
 * and the few torch objects of a state_dict.  Globals come from an allow-list
 * and REDUCE is interpreted by the VM itself; nothing is ever executed.
 * Memo, stack, nesting depth and object count are bounded.
 */

#pragma once

#include "tvw-ckpt-private.h"

G_BEGIN_DECLS

typedef enum
{
  TVW_PK_NONE,
  TVW_PK_BOOL,
  TVW_PK_INT,
  TVW_PK_BIGINT,     /* an int outside gint64: raw little-endian two's complement in str */
  TVW_PK_FLOAT,
  TVW_PK_STR,        /* valid UTF-8, NUL-terminated */
  TVW_PK_BYTES,
  TVW_PK_TUPLE,
  TVW_PK_LIST,
  TVW_PK_SET,
  TVW_PK_DICT,
  TVW_PK_GLOBAL,
  TVW_PK_STORAGE,
  TVW_PK_TENSOR,
} TvwPkType;

typedef enum
{
  TVW_PK_GLOBAL_ORDERED_DICT,
  TVW_PK_GLOBAL_REBUILD_TENSOR,
  TVW_PK_GLOBAL_REBUILD_TENSOR_V2,
  TVW_PK_GLOBAL_REBUILD_PARAMETER,
  TVW_PK_GLOBAL_REBUILD_PARAMETER_WITH_STATE,
  TVW_PK_GLOBAL_STORAGE_TYPE,   /* torch.FloatStorage, … */
  TVW_PK_GLOBAL_DTYPE,          /* torch.float32, … */
  TVW_PK_GLOBAL_REBUILD_QTENSOR,
  TVW_PK_GLOBAL_QSCHEME,        /* torch.per_tensor_affine, torch.per_channel_affine */
} TvwPkGlobalKind;

typedef struct _TvwPkObj TvwPkObj;
typedef struct _TvwPkStorage TvwPkStorage;
typedef struct _TvwPkTensor TvwPkTensor;
typedef struct _TvwPickle TvwPickle;

struct _TvwPkStorage
{
  char          *key;
  TvwCkptDType   dtype;
  gint64         numel;        /* elements, as the persistent id says */
  TvwPkStorage  *root;         /* legacy storage views: the viewed storage */
  gint64         root_offset;  /* element offset of a view inside root */
  const guint8  *data;         /* set by the loader once located */
  gboolean       located;
};

struct _TvwPkTensor
{
  TvwPkStorage  *storage;
  gint64         storage_offset;
  guint          n_dims;
  gint64         size[TVW_CKPT_MAX_DIMS];
  gint64         stride[TVW_CKPT_MAX_DIMS];

  /* _rebuild_qtensor: the storage holds qint8 / quint8 values of an affine
   * quantization, per tensor (@qaxis < 0: @qscale, @qzero_point) or per
   * channel along @qaxis (@qscales, @qzero_points: 1-D tensors owned by
   * the pickle). */
  gboolean       quantized;
  int            qaxis;
  double         qscale;
  gint64         qzero_point;
  TvwPkTensor   *qscales;
  TvwPkTensor   *qzero_points;
};

struct _TvwPkObj
{
  TvwPkType type;
  guint     depth;             /* container nesting below this object */
  union
  {
    gboolean b;
    gint64   i;
    double   f;
    struct
    {
      char    *data;           /* a GRefString: equal keys come to share it */
      gsize    len;
      guint64  hash;           /* tvw_hash_bytes() of data */
    } str;
    struct
    {
      TvwPkObj **items;
      guint      n;
      guint      alloc;
    } seq;
    struct
    {
      TvwPkObj  **keys;
      TvwPkObj  **values;
      guint       n;
      guint       alloc;
      GTree      *index;       /* key → position + 1, built once the dict grows */
    } dict;
    struct
    {
      TvwPkGlobalKind kind;
      TvwCkptDType    dtype;
      const char     *name;    /* "torch.FloatStorage" */
    } global;
    TvwPkStorage *storage;
    TvwPkTensor  *tensor;
  } v;
};

/* Turns a persistent id into an object (a storage, for torch). */
typedef TvwPkObj *(*TvwPickleLoadFunc) (TvwPickle  *pickle,
                                        TvwPkObj   *pid,
                                        gpointer    user_data,
                                        GError    **error);

/* @display_name names the file in messages, @what the stream inside it. */
TvwPickle    *tvw_pickle_new                 (const char         *display_name);
void          tvw_pickle_free                (TvwPickle          *self);
void          tvw_pickle_set_persistent_load (TvwPickle          *self,
                                              TvwPickleLoadFunc   func,
                                              gpointer            user_data);
/* Runs one pickle starting at @data[*pos] and returns the object STOP
 * leaves; *pos is moved past STOP.  Objects stay owned by @self, so several
 * pickles can be read in a row (each with a fresh memo). */
TvwPkObj     *tvw_pickle_load                (TvwPickle          *self,
                                              const char         *what,
                                              const guint8       *data,
                                              gsize               size,
                                              gsize              *pos,
                                              GError            **error);

TvwPkObj     *tvw_pickle_new_storage         (TvwPickle          *self,
                                              const char         *key,
                                              TvwCkptDType        dtype,
                                              gint64              numel,
                                              GError            **error);

/* Sets a TVW_ERROR_INVALID_DATA error "FILE: WHAT: message". */
void          tvw_pickle_set_error           (TvwPickle          *self,
                                              GError            **error,
                                              const char         *format,
                                              ...) G_GNUC_PRINTF (3, 4);

/* Lookup of a string key in a dict; NULL when absent. */
TvwPkObj     *tvw_pk_dict_get_str            (TvwPkObj           *dict,
                                              const char         *key);
gboolean      tvw_pk_is_str                  (TvwPkObj           *obj,
                                              const char         *value);
const char   *tvw_pk_type_name               (TvwPkObj           *obj);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwPickle, tvw_pickle_free)

G_END_DECLS
