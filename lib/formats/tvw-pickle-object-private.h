/* tvw-pickle-object-private.h — the unpickler's objects, shared by its two halves
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tvw-pickle.c runs the pickle machine; tvw-pickle-object.c holds the small
 * object model it builds (strings, integers, sequences, dicts with their key
 * order and index).  Nothing outside lib/formats/tvw-pickle*.c includes this.
 */

#pragma once

#include "tvw-pickle-private.h"

G_BEGIN_DECLS

/* Bounds.  A torchvision state_dict uses a few thousand objects and memo
 * entries and nests four levels deep; these limits are far above that and
 * keep a hostile pickle's memory use proportional to a few tens of MB. */
#define PK_MAX_OBJECTS  (1u << 20)
#define PK_MAX_ITEMS    (1u << 22)
#define PK_MAX_MEMO     (1u << 20)
#define PK_MAX_STACK    (1u << 20)
#define PK_MAX_DEPTH    64
#define PK_DICT_INDEX_THRESHOLD 16
/* Tuples as dict keys: far more items than any checkpoint's. */
#define PK_MAX_KEY_ITEMS 64

struct _TvwPickle
{
  char              *display_name;
  const char        *what;
  gsize              op_pos;
  GPtrArray         *objects;     /* every object, owned */
  guint              n_items;     /* container slots filled so far */
  GPtrArray         *stack;
  GArray            *marks;       /* guint: stack length at each MARK */
  GPtrArray         *memo;        /* index → TvwPkObj or NULL */
  guint              n_memo;      /* non-NULL memo entries */
  TvwPickleLoadFunc  load_func;
  gpointer           load_data;
  TvwPkObj          *none;
  TvwPkObj          *true_;
  TvwPkObj          *false_;
};

void      tvw_pk_obj_free           (gpointer data);
TvwPkObj *tvw_pk_new                (TvwPickle  *self,
                                     TvwPkType   type,
                                     GError    **error);
TvwPkObj *tvw_pk_new_blob           (TvwPickle     *self,
                                     TvwPkType      type,
                                     const guint8  *data,
                                     gsize          len,
                                     GError       **error);
TvwPkObj *tvw_pk_new_str            (TvwPickle     *self,
                                     const guint8  *data,
                                     gsize          len,
                                     GError       **error);
TvwPkObj *tvw_pk_new_str_or_bytes   (TvwPickle     *self,
                                     const guint8  *data,
                                     gsize          len,
                                     GError       **error);
TvwPkObj *tvw_pk_new_int            (TvwPickle  *self,
                                     gint64      value,
                                     GError    **error);
TvwPkObj *tvw_pk_new_long           (TvwPickle     *self,
                                     const guint8  *p,
                                     gsize          n,
                                     GError       **error);
TvwPkObj *tvw_pk_new_escaped_string (TvwPickle     *self,
                                     const guint8  *p,
                                     gsize          len,
                                     GError       **error);
TvwPkObj *tvw_pk_new_raw_unicode    (TvwPickle     *self,
                                     const guint8  *p,
                                     gsize          len,
                                     GError       **error);
gboolean  tvw_pk_seq_append         (TvwPickle  *self,
                                     TvwPkObj   *seq,
                                     TvwPkObj   *item,
                                     GError    **error);
TvwPkObj *tvw_pk_new_seq            (TvwPickle  *self,
                                     TvwPkType   type,
                                     TvwPkObj  **items,
                                     guint       n,
                                     GError    **error);
gboolean  tvw_pk_dict_set           (TvwPickle  *self,
                                     TvwPkObj   *dict,
                                     TvwPkObj   *key,
                                     TvwPkObj   *value,
                                     GError    **error);

G_END_DECLS
