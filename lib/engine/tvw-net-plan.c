/* tvw-net-plan.c — shapes, layouts and the activation arena
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For a set of input shapes: every node is inferred again with the real
 * shapes; an input whose layout its op cannot read is given a staging
 * buffer (the executor copies into it first); views share their input's
 * storage; the inputs of a channel concatenation are written in place into
 * its output where their producers can write a channel slice, and a
 * concatenation whose inputs are then already side by side in a later
 * one's output (DenseNet's) becomes a slice of it; then every stored value
 * gets a place in one arena, first fit in execution order, reusing memory
 * as soon as the last reader of a storage has run.  Nothing is allocated
 * while running.
 */

#include "config.h"

#include <string.h>

#include "tvw-error.h"
#include "tvw-graph-private.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~(gsize) ((a) - 1))

static TvwValue *
value (TvwNet *net,
       int     v)
{
  return tvw_net_value (net, v);
}

/* Fills call->in from the values, through the staging buffers of the
 * inputs the op cannot read as they are; @plan decides which those are
 * (a staging buffer, once made, is kept for later plans). */
static void
gather_inputs (TvwNet   *net,
               TvwNode  *n,
               gboolean  plan)
{
  for (int i = 0; i < n->call.n_in; i++)
    {
      TvwValue *s;
      void *data;

      n->call.in[i] = value (net, n->in[i])->a;
      if (plan)
        {
          n->staged[i] = !tvw_op_input_ok (&n->call, i);
          if (n->staged[i] && n->stage[i] < 0)
            n->stage[i] = tvw_net_new_value (net, &n->call.in[i], -1);
        }
      if (!n->staged[i])
        continue;

      s = value (net, n->stage[i]);
      data = s->a.data;
      tvw_op_input_layout (&n->call, i, &s->a);
      s->a.data = data;
      n->call.in[i] = s->a;
    }
}

static inline int
active_stage (const TvwNode *n,
              int            i)
{
  return n->staged[i] ? n->stage[i] : -1;
}

static int
root_of (TvwNet *net,
         int     v)
{
  return value (net, v)->root >= 0 ? value (net, v)->root : v;
}

/* The storage a node's input @i reads: its staging buffer, or its value's. */
static int
input_root (TvwNet  *net,
            TvwNode *n,
            int      i)
{
  int s = active_stage (n, i);

  return s >= 0 ? s : root_of (net, n->in[i]);
}

static gboolean
infer_node (TvwNet   *net,
            TvwNode  *n,
            GError  **error)
{
  if (!n->call.cls->infer (&n->call, error))
    return FALSE;
  tvw_op_layout_outputs (&n->call);

  for (int o = 0; o < n->call.n_out; o++)
    {
      TvwValue *v = value (net, n->out[o]);
      void *data = v->a.data;

      /* Written into a wider buffer: its pixels are that far apart. */
      if (v->alias >= 0)
        tvw_array_set_channels_last_pitch (&n->call.out[o], value (net, v->alias)->a.shape[1]);
      v->a = n->call.out[o];
      v->a.data = data;
    }

  return TRUE;
}

gboolean
tvw_net_reinfer_node (TvwNet   *net,
                      TvwNode  *n,
                      GError  **error)
{
  gather_inputs (net, n, FALSE);
  return infer_node (net, n, error);
}

/* Shapes and layouts in execution order; the last reader of each
 * storage; the largest scratch. */
static gboolean
infer_all (TvwNet   *net,
           int       n_threads,
           gsize    *scratch,
           GError  **error)
{
  const int n_nodes = (int) net->nodes->len;

  for (guint i = 0; i < net->values->len; i++)
    {
      TvwValue *v = value (net, i);

      v->root = v->alias;
      v->last_use = -1;
      v->allocated = FALSE;
    }

  for (int i = 0; i < n_nodes; i++)
    {
      TvwNode *n = tvw_net_node (net, i);

      if (n->dead)
        continue;

      gather_inputs (net, n, TRUE);
      if (!infer_node (net, n, error))
        return FALSE;

      for (int j = 0; j < n->call.n_in; j++)
        {
          int s = active_stage (n, j);

          value (net, root_of (net, n->in[j]))->last_use = i;
          if (s >= 0)
            {
              value (net, s)->root = -1;
              value (net, s)->last_use = i;
            }
        }
      for (int o = 0; o < n->call.n_out; o++)
        {
          TvwValue *v = value (net, n->out[o]);

          if (v->alias < 0)
            v->root = (n->call.cls->flags & TVW_OP_VIEW) ? input_root (net, n, 0) : -1;
        }

      if (n->call.cls->scratch != NULL)
        {
          n->call.n_threads = n_threads;
          *scratch = MAX (*scratch, n->call.cls->scratch (&n->call));
        }
    }

  return TRUE;
}

/* A value the planner already put somewhere: in @root's storage at
 * channel @channel, written by whoever concatenates it there. */
typedef struct
{
  int    root;
  gint64 channel;
  int    value;
} Placement;

static gboolean
is_graph_output (TvwNet *net,
                 int     v)
{
  for (guint k = 0; k < net->outputs->len; k++)
    if (g_array_index (net->outputs, TvwPort, k).value == v)
      return TRUE;
  return FALSE;
}

/* Whether @v's producer can write it straight into a wider channels-last
 * buffer. */
static gboolean
can_place (TvwNet *net,
           int     v)
{
  TvwValue *val = value (net, v);
  TvwNode *p;

  if (val->alias >= 0 || val->producer < 0 || is_graph_output (net, v) ||
      !tvw_array_is_channels_last (&val->a) || val->a.rank != 4)
    return FALSE;

  p = tvw_net_node (net, val->producer);
  return !p->dead && p->call.n_out == 1 && !(p->call.cls->flags & TVW_OP_VIEW) &&
         p->call.cls->writes_pitched != NULL && p->call.cls->writes_pitched (&p->call);
}

static gboolean
placed_at (GArray *placed,
           int     root,
           gint64  channel,
           int     v)
{
  for (guint i = 0; i < placed->len; i++)
    {
      const Placement *p = &g_array_index (placed, Placement, i);

      if (p->root == root && p->channel == channel && p->value == v)
        return TRUE;
    }
  return FALSE;
}

/* The concatenation @n is a slice of a later one's output when each of its
 * inputs already lies there, side by side in its order: in place, or
 * copied there by that concatenation (the same value, so @n may copy it
 * too).  Sets its output's alias. */
static gboolean
alias_into_later (TvwNet  *net,
                  TvwNode *n,
                  GArray  *placed)
{
  TvwValue *out = value (net, n->out[0]);
  int root = -1;
  gint64 base = 0, at = 0;

  for (int i = 0; i < n->call.n_in && root < 0; i++)
    {
      TvwValue *in = value (net, n->in[i]);

      if (in->alias >= 0)
        {
          root = in->alias;
          base = in->alias_channel - at;
        }
      at += in->a.shape[1];
    }
  if (root < 0 || base < 0 || is_graph_output (net, n->out[0]))
    return FALSE;

  at = base;
  for (int i = 0; i < n->call.n_in; i++)
    {
      TvwValue *in = value (net, n->in[i]);

      if (!(in->alias == root && in->alias_channel == at) && !placed_at (placed, root, at, n->in[i]))
        return FALSE;
      at += in->a.shape[1];
    }

  out->alias = root;
  out->alias_channel = base;
  return TRUE;
}

/* Latest first, so that the widest concatenation of a DenseNet block
 * takes every layer's output and the earlier ones become slices of it.
 * Returns whether anything moved. */
static gboolean
place_concat_inputs (TvwNet *net)
{
  g_autoptr(GArray) placed = g_array_new (FALSE, FALSE, sizeof (Placement));
  gboolean moved = FALSE;

  for (int i = (int) net->nodes->len - 1; i >= 0; i--)
    {
      TvwNode *n = tvw_net_node (net, i);
      TvwValue *out;
      int root;
      gint64 at;

      if (n->dead || n->call.cls != &tvw_op_concat)
        continue;
      out = value (net, n->out[0]);
      if (out->a.rank != 4 || !tvw_array_is_channels_last (&out->a) ||
          tvw_op_resolve_dim (((const TvwDimParams *) n->call.params)->dim, 4) != 1)
        continue;

      if (out->alias < 0 && alias_into_later (net, n, placed))
        {
          moved = TRUE;
          continue;
        }

      /* Its output's storage: its own, or a later concatenation's that
       * took it in place. */
      root = out->alias >= 0 ? out->alias : n->out[0];
      at = out->alias >= 0 ? out->alias_channel : 0;

      for (int j = 0; j < n->call.n_in; j++)
        {
          TvwValue *in = value (net, n->in[j]);
          gint64 channels = in->a.shape[1];

          if (can_place (net, n->in[j]))
            {
              in->alias = root;
              in->alias_channel = at;
              moved = TRUE;
            }
          else
            {
              Placement p = { root, at, n->in[j] };

              g_array_append_val (placed, p);
            }
          at += channels;
        }
    }

  return moved;
}

/* First-fit placement of live storage in the arena. */
typedef struct
{
  gsize start, end;
  int   value;
} Block;

static gsize
place (GArray *live,
       gsize   size)
{
  gsize at = 0;

  size = ALIGN_UP (size, TVW_ARENA_ALIGN);
  for (guint i = 0; i < live->len; i++)
    {
      Block *b = &g_array_index (live, Block, i);

      if (b->start >= at + size)
        break;
      at = MAX (at, b->end);
    }

  return at;
}

static void
insert_block (GArray *live,
              gsize   start,
              gsize   size,
              int     v)
{
  Block b = { start, start + ALIGN_UP (size, TVW_ARENA_ALIGN), v };
  guint i;

  for (i = 0; i < live->len; i++)
    if (g_array_index (live, Block, i).start > start)
      break;
  g_array_insert_val (live, i, b);
}

static void
remove_block (GArray *live,
              int     v)
{
  for (guint i = 0; i < live->len; i++)
    if (g_array_index (live, Block, i).value == v)
      {
        g_array_remove_index (live, i);
        return;
      }
}

static void
allocate (TvwNet *net,
          GArray *live,
          int     v,
          gsize  *arena)
{
  TvwValue *r = value (net, v);
  gsize size = MAX (tvw_array_extent_bytes (&r->a), 1);

  r->offset = place (live, size);
  r->allocated = TRUE;
  insert_block (live, r->offset, size, v);
  *arena = MAX (*arena, r->offset + ALIGN_UP (size, TVW_ARENA_ALIGN));
}

static gboolean
same_plan (TvwNet         *net,
           const TvwArray *inputs,
           int             n_threads)
{
  if (!net->planned || net->plan_threads != n_threads)
    return FALSE;

  for (guint k = 0; k < net->inputs->len; k++)
    for (int d = 0; d < TVW_MAX_RANK; d++)
      if (net->plan_shapes[k * TVW_MAX_RANK + d] != (d < inputs[k].rank ? inputs[k].shape[d] : 0))
        return FALSE;

  return TRUE;
}

gboolean
tvw_net_plan (TvwNet          *net,
              const TvwArray  *inputs,
              int              n_threads,
              GError         **error)
{
  g_autoptr(GArray) live = g_array_new (FALSE, FALSE, sizeof (Block));
  gsize arena = 0, scratch = 0;
  const int n_nodes = (int) net->nodes->len;

  if (same_plan (net, inputs, n_threads))
    return TRUE;

  net->planned = FALSE;
  for (guint i = 0; i < net->values->len; i++)
    value (net, i)->alias = -1;

  for (guint k = 0; k < net->inputs->len; k++)
    {
      TvwValue *v = value (net, g_array_index (net->inputs, TvwPort, k).value);

      if (inputs[k].rank != v->a.rank || inputs[k].elem != v->a.elem)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "Input “%s” must be a %s tensor of %d dimensions, not %s of %d",
                       g_array_index (net->inputs, TvwPort, k).name, tvw_elem_name (v->a.elem),
                       v->a.rank, tvw_elem_name (inputs[k].elem), inputs[k].rank);
          return FALSE;
        }
      tvw_array_init (&v->a, inputs[k].elem, inputs[k].rank, inputs[k].shape);
    }

  /* Once with every value in its own storage, then again with the
   * concatenations' inputs in place (their layouts change). */
  if (!infer_all (net, n_threads, &scratch, error))
    return FALSE;
  if (place_concat_inputs (net) && !infer_all (net, n_threads, &scratch, error))
    return FALSE;

  for (guint k = 0; k < net->outputs->len; k++)
    value (net, root_of (net, g_array_index (net->outputs, TvwPort, k).value))->last_use = G_MAXINT;

  /* Memory: outputs and staging buffers never overlap what the node
   * reads; storage is released after its last reader.  Graph inputs stay
   * in the caller's memory. */
  for (int i = 0; i < n_nodes; i++)
    {
      TvwNode *n = tvw_net_node (net, i);

      if (n->dead)
        continue;

      for (int j = 0; j < n->call.n_in; j++)
        if (active_stage (n, j) >= 0)
          allocate (net, live, active_stage (n, j), &arena);
      /* A concatenation's output is allocated by its first input written
       * in place. */
      if (!(n->call.cls->flags & TVW_OP_VIEW))
        for (int o = 0; o < n->call.n_out; o++)
          if (!value (net, root_of (net, n->out[o]))->allocated)
            allocate (net, live, root_of (net, n->out[o]), &arena);

      for (int j = 0; j < n->call.n_in; j++)
        {
          int roots[2] = { root_of (net, n->in[j]), active_stage (n, j) };

          for (int r = 0; r < 2; r++)
            if (roots[r] >= 0 && value (net, roots[r])->last_use == i)
              remove_block (live, roots[r]);
        }
      for (int o = 0; o < n->call.n_out; o++)
        {
          int r = root_of (net, n->out[o]);

          if (value (net, r)->last_use < i)
            remove_block (live, r);
        }
    }

  if (arena > net->arena_bytes)
    {
      tvw_net_big_free (net->arena, net->arena_bytes);
      net->arena = tvw_net_big_alloc (arena, &net->arena_bytes);
      if (net->arena == NULL)
        {
          net->arena_bytes = 0;
          g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                       "Not enough memory to run on this input (%" G_GSIZE_FORMAT " MB)",
                       arena >> 20);
          return FALSE;
        }
    }

  if (!tvw_net_grow_scratch (net, scratch, n_threads, error))
    return FALSE;

  for (guint i = 0; i < net->values->len; i++)
    {
      TvwValue *v = value (net, i);

      if (v->allocated)
        v->a.data = net->arena + v->offset;
    }
  for (guint i = 0; i < net->values->len; i++)
    {
      TvwValue *v = value (net, i);

      if (v->alias >= 0)
        v->a.data = (guint8 *) value (net, v->alias)->a.data + v->alias_channel * tvw_elem_size (v->a.elem);
    }

  g_free (net->plan_shapes);
  net->plan_shapes = g_new0 (gint64, MAX (net->inputs->len, 1) * TVW_MAX_RANK);
  for (guint k = 0; k < net->inputs->len; k++)
    memcpy (net->plan_shapes + k * TVW_MAX_RANK, inputs[k].shape, inputs[k].rank * sizeof (gint64));
  net->plan_threads = n_threads;
  net->planned = TRUE;

  return TRUE;
}
