/* tvw-graph-private.h — the graph's own structures, shared by its files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tvw-net.c builds the graph and owns its parameters; tvw-net-passes.c
 * rewrites it (folding, fusion); tvw-net-plan.c plans shapes, layouts and
 * the activation arena for an input shape; tvw-net-run.c packs weights and
 * runs it.  Nothing outside lib/engine/ sees these.
 */

#pragma once

#include "tvw-op-private.h"
#include "tvw-ops-private.h"

G_BEGIN_DECLS

#define TVW_ARENA_ALIGN 64   /* bytes */

typedef struct
{
  char         *name;
  TvwArray      desc;        /* declared shape (f32, contiguous); data bound */
  guint         flags;       /* TvwWeightFlags */
  gint64        numel;
  const float  *data;        /* into a checkpoint, or @owned */
  float        *owned;
} TvwParam;

typedef struct
{
  TvwArray   a;              /* shape, strides; data once planned */
  int        producer;       /* node, or -1 for a graph input */
  int        n_consumers;    /* nodes reading it, outputs included */

  /* Planning. */
  int        root;           /* the value whose storage this one uses */
  int        last_use;       /* of the storage, for roots */
  gsize      offset;         /* bytes into the arena, for roots */
  gboolean   allocated;
  /* A channel slice of another value's storage (a concatenation's output
   * its producer writes into), or -1; at channel @alias_channel. */
  int        alias;
  gint64     alias_channel;
} TvwValue;

typedef struct
{
  TvwOpCall  call;
  gsize      params_size;    /* of call.params */
  int       *in;             /* [call.n_in] values */
  int       *out;            /* [call.n_out] values */
  int       *weight;         /* [call.n_weights] params */
  int       *stage;          /* [call.n_in] staging value, or -1 (kept) */
  gboolean  *staged;         /* [call.n_in] whether this plan stages it */
  gboolean   dead;           /* fused into another node */
  gboolean   stale;          /* inputs changed shape since inferred */
} TvwNode;

typedef struct
{
  char *name;
  int   value;
} TvwPort;

struct _TvwNet
{
  GArray     *values;        /* TvwValue */
  GPtrArray  *nodes;         /* TvwNode */
  GPtrArray  *params;        /* TvwParam, declaration order */
  GHashTable *param_index;
  gboolean    share_params;  /* tvw_net_set_param_sharing () */
  gboolean    params_shared; /* some node reuses another's parameters */
  GArray     *inputs;        /* TvwPort */
  GArray     *outputs;       /* TvwPort */
  GError     *error;         /* the first construction error */
  gboolean    finalized;     /* passes have run */
  gboolean    prepared;
  gboolean    profile;

  /* The plan for the last input shapes. */
  gint64     *plan_shapes;   /* [n_inputs · TVW_MAX_RANK] */
  int         plan_threads;
  gboolean    planned;
  guint8     *arena;
  gsize       arena_bytes;
  guint8     *scratch;
  gsize       scratch_alloc;
  gsize       scratch_per_thread;

  /* Every packed weight (cls->packed_bytes ()) in one mapping. */
  guint8     *weights;
  gsize       weights_bytes;
  gsize       packed_bytes;  /* used of it */
};

static inline TvwValue *
tvw_net_value (TvwNet *net,
               int     v)
{
  return &g_array_index (net->values, TvwValue, v);
}

static inline TvwNode *
tvw_net_node (TvwNet *net,
              int     i)
{
  return g_ptr_array_index (net->nodes, i);
}

static inline TvwParam *
tvw_net_param (TvwNet *net,
               int     i)
{
  return g_ptr_array_index (net->params, i);
}

/* tvw-net.c */
int        tvw_net_new_value        (TvwNet          *net,
                                     const TvwArray  *a,
                                     int              producer);
/* Points every reader of @from (nodes and graph outputs) at @to. */
void       tvw_net_replace_uses     (TvwNet          *net,
                                     int              from,
                                     int              to);

/* tvw-net-passes.c: folding and fusion, once, before the first plan. */
void       tvw_net_run_passes       (TvwNet          *net);

/* tvw-net-run.c: buffers of the packed weights and the activation arena,
 * 2 MiB aligned in transparent huge pages (NULL when out of memory);
 * *@out_bytes is what tvw_net_big_free() needs. */
guint8    *tvw_net_big_alloc        (gsize            size,
                                     gsize           *out_bytes);
void       tvw_net_big_free         (guint8          *p,
                                     gsize            bytes);
/* The per-thread scratch: at least @per_thread bytes for each of
 * @n_threads, 64-byte aligned. */
gboolean   tvw_net_grow_scratch     (TvwNet          *net,
                                     gsize            per_thread,
                                     int              n_threads,
                                     GError         **error);

/* tvw-net-plan.c */
gboolean   tvw_net_plan             (TvwNet          *net,
                                     const TvwArray  *inputs,
                                     int              n_threads,
                                     GError         **error);
/* Infers @node again from its inputs' current arrays and places its
 * outputs (strides, data) where the plan put them. */
gboolean   tvw_net_reinfer_node     (TvwNet          *net,
                                     TvwNode         *node,
                                     GError         **error);

G_END_DECLS
