/* tvw-net-plan.c — shapes, layouts and the activation arena
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For a set of input shapes: every node is inferred again with the real
 * shapes; an input whose layout its op cannot read is given a staging
 * buffer (the executor copies into it first); views share their input's
 * storage; then every stored value gets a place in one arena, first fit in
 * execution order, reusing memory as soon as the last reader of a storage
 * has run.  Nothing is allocated while running.
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
    {
      TvwValue *v = value (net, i);

      v->root = -1;
      v->last_use = -1;
      v->allocated = FALSE;
    }

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

  /* Shapes and layouts in execution order; the last reader of each
   * storage. */
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
        value (net, n->out[o])->root = (n->call.cls->flags & TVW_OP_VIEW) ? input_root (net, n, 0) : -1;

      if (n->call.cls->scratch != NULL)
        {
          n->call.n_threads = n_threads;
          scratch = MAX (scratch, n->call.cls->scratch (&n->call));
        }
    }

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
      if (!(n->call.cls->flags & TVW_OP_VIEW))
        for (int o = 0; o < n->call.n_out; o++)
          allocate (net, live, n->out[o], &arena);

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
      g_free (net->arena);
      net->arena = g_try_malloc (arena);
      if (net->arena == NULL)
        {
          net->arena_bytes = 0;
          g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                       "Not enough memory to run on this input (%" G_GSIZE_FORMAT " MB)",
                       arena >> 20);
          return FALSE;
        }
      net->arena_bytes = arena;
    }

  scratch = ALIGN_UP (scratch, TVW_ARENA_ALIGN);
  if (scratch * n_threads + TVW_ARENA_ALIGN > net->scratch_alloc)
    {
      g_free (net->scratch);
      net->scratch_alloc = scratch * n_threads + TVW_ARENA_ALIGN;
      net->scratch = g_try_malloc (net->scratch_alloc);
      if (net->scratch == NULL)
        {
          net->scratch_alloc = 0;
          g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                       "Not enough memory to run on this input");
          return FALSE;
        }
    }
  net->scratch_per_thread = scratch;

  for (guint i = 0; i < net->values->len; i++)
    {
      TvwValue *v = value (net, i);

      if (v->allocated)
        v->a.data = net->arena + v->offset;
    }

  g_free (net->plan_shapes);
  net->plan_shapes = g_new0 (gint64, MAX (net->inputs->len, 1) * TVW_MAX_RANK);
  for (guint k = 0; k < net->inputs->len; k++)
    memcpy (net->plan_shapes + k * TVW_MAX_RANK, inputs[k].shape, inputs[k].rank * sizeof (gint64));
  net->plan_threads = n_threads;
  net->planned = TRUE;

  return TRUE;
}
