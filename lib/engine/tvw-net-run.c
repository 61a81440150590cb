/* tvw-net-run.c — preparing weights and running the graph
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-graph-private.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~(gsize) ((a) - 1))

/* The packed weights and the activation arena each live in one anonymous
 * mapping, 2 MiB aligned, in transparent huge pages where the system
 * allows and populated in one call: a resnet50's 100 MB of weights is some
 * 25 000 page faults in 4 KiB pages, and the kernels' 64-byte aligned
 * offsets are aligned in memory too (malloc () gives 16 bytes).  Under
 * AddressSanitizer the buffers come from its allocator instead, so that it
 * sees accesses past their ends. */
#if defined(__SANITIZE_ADDRESS__)
#define TVW_BIG_ALLOC_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TVW_BIG_ALLOC_MALLOC 1
#endif
#endif

guint8 *
tvw_net_big_alloc (gsize  size,
                   gsize *out_bytes)
{
  const gsize huge = 2 << 20;
  gsize bytes;
  guint8 *p;

  if (size > G_MAXSIZE - 2 * huge)
    return NULL;
#ifdef TVW_BIG_ALLOC_MALLOC
  bytes = ALIGN_UP (MAX (size, 1), TVW_ARENA_ALIGN);
  if (posix_memalign ((void **) &p, TVW_ARENA_ALIGN, bytes) != 0)
    return NULL;
  *out_bytes = bytes;
  return p;
#else
  guint8 *aligned;

  bytes = ALIGN_UP (MAX (size, 1), huge);
  p = mmap (NULL, bytes + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  aligned = (guint8 *) ALIGN_UP ((guintptr) p, huge);
  if (aligned > p)
    munmap (p, aligned - p);
  if (aligned < p + huge)
    munmap (aligned + bytes, p + huge - aligned);
#ifdef MADV_HUGEPAGE
  madvise (aligned, bytes, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
  /* Best effort: before Linux 5.14 the pages fault in as they are written
   * (EINVAL).  Memory the system cannot give is an error now rather than
   * a fault in the middle of a forward pass. */
  if (madvise (aligned, ALIGN_UP (size, 4096), MADV_POPULATE_WRITE) != 0 && errno == ENOMEM)
    {
      munmap (aligned, bytes);
      return NULL;
    }
#endif
  *out_bytes = bytes;
  return aligned;
#endif
}

void
tvw_net_big_free (guint8 *p,
                  gsize   bytes)
{
  if (p == NULL)
    return;
#ifdef TVW_BIG_ALLOC_MALLOC
  free (p);
#else
  munmap (p, bytes);
#endif
}

static guint8 *
weights_arena_new (gsize    size,
                   gsize   *out_bytes,
                   GError **error)
{
  guint8 *p = tvw_net_big_alloc (size, out_bytes);

  if (p == NULL)
    g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                 "Not enough memory for the model’s weights (%" G_GSIZE_FORMAT " MB)",
                 size >> 20);
  return p;
}

/* One piece of packing work: pieces [begin, end) of one node. */
typedef struct
{
  const TvwOpCall *call;
  int              begin, end;
} PackItem;

static void
pack_task (gpointer data,
           int      task,
           int      thread)
{
  const PackItem *item = (const PackItem *) data + task;

  item->call->cls->pack (item->call, item->begin, item->end);
}

static gboolean
bind_weights (TvwNet   *net,
              TvwNode  *n,
              GError  **error)
{
  for (int w = 0; w < n->call.n_weights; w++)
    {
      TvwParam *p = tvw_net_param (net, n->weight[w]);

      if (p->data == NULL && !(p->flags & (TVW_WEIGHT_OPTIONAL | TVW_WEIGHT_INT)))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                       "Parameter “%s” has no value", p->name);
          return FALSE;
        }
    }

  return TRUE;
}

/* Whether nodes @a and @b pack the same bytes: the same op on the same
 * parameters (a module applied several times, as RAFT's update block is
 * once per iteration), with the same op parameters and input shapes. */
static gboolean
same_packing (TvwNet  *net,
              TvwNode *a,
              TvwNode *b)
{
  if (a->call.cls != b->call.cls || a->params_size != b->params_size ||
      a->call.n_weights != b->call.n_weights || a->call.n_in != b->call.n_in)
    return FALSE;
  if (a->params_size > 0 && memcmp (a->call.params, b->call.params, a->params_size) != 0)
    return FALSE;
  for (int w = 0; w < a->call.n_weights; w++)
    if (a->weight[w] != b->weight[w])
      return FALSE;
  for (int i = 0; i < a->call.n_in; i++)
    {
      const TvwArray *x = &tvw_net_value (net, a->in[i])->a;
      const TvwArray *y = &tvw_net_value (net, b->in[i])->a;

      if (x->elem != y->elem || x->rank != y->rank ||
          memcmp (x->shape, y->shape, x->rank * sizeof x->shape[0]) != 0)
        return FALSE;
    }

  return TRUE;
}

gboolean
tvw_net_prepare (TvwNet  *net,
                 GError **error)
{
  const guint n_nodes = net->nodes->len;
  g_autofree gpointer *prepared = g_new0 (gpointer, MAX (n_nodes, 1));
  g_autofree gsize *offsets = g_new0 (gsize, MAX (n_nodes, 1));
  /* The earlier node whose packed weights a node reuses, or -1. */
  g_autofree int *packed_like = g_new (int, MAX (n_nodes, 1));
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (PackItem));
  gsize total = 0, arena_bytes = 0;
  guint8 *arena = NULL;
  guint failed = n_nodes;

  if (!tvw_net_check (net, error))
    return FALSE;
  if (!net->finalized)
    tvw_net_run_passes (net);
  for (guint i = 0; i < n_nodes; i++)
    packed_like[i] = -1;

  /* Everything is checked and made aside before anything changes: a
   * failure leaves the net as it was. */
  for (guint i = 0; i < n_nodes; i++)
    {
      TvwNode *n = tvw_net_node (net, i);

      if (!n->dead && !bind_weights (net, n, error))
        return FALSE;
    }

  for (guint i = 0; i < n_nodes && failed == n_nodes; i++)
    {
      TvwNode *n = tvw_net_node (net, i);
      TvwOpCall call;

      if (n->dead)
        continue;

      call = n->call;
      for (int w = 0; w < call.n_weights; w++)
        call.weights[w].data = (gpointer) tvw_net_param (net, n->weight[w])->data;
      call.prepared = NULL;

      if (call.cls->prepare != NULL && !call.cls->prepare (&call, error))
        {
          failed = i;
          break;
        }
      prepared[i] = call.prepared;

      if (call.cls->packed_bytes != NULL)
        {
          gsize bytes = call.cls->packed_bytes (&call);

          /* Parameters shared between nodes (tvw_net_set_param_sharing ())
           * are packed once. */
          for (guint j = 0; j < i && net->params_shared; j++)
            if (packed_like[j] < 0 && !tvw_net_node (net, j)->dead &&
                tvw_net_node (net, j)->call.cls->packed_bytes != NULL &&
                same_packing (net, tvw_net_node (net, j), n))
              {
                packed_like[i] = (int) j;
                offsets[i] = offsets[j];
                break;
              }
          if (packed_like[i] < 0)
            {
              offsets[i] = total;
              total += ALIGN_UP (bytes, TVW_ARENA_ALIGN);
            }
        }
    }

  if (failed == n_nodes && total > 0 && (arena = weights_arena_new (total, &arena_bytes, error)) == NULL)
    failed = n_nodes - 1;

  if (failed < n_nodes)
    {
      for (guint i = 0; i < n_nodes; i++)
        {
          TvwNode *n = tvw_net_node (net, i);
          TvwOpCall call = n->call;

          call.prepared = prepared[i];
          if (prepared[i] != NULL && call.cls->release != NULL)
            call.cls->release (&call);
        }
      return FALSE;
    }

  /* Commit. */
  for (guint i = 0; i < n_nodes; i++)
    {
      TvwNode *n = tvw_net_node (net, i);
      int pieces;

      if (n->dead)
        continue;

      if (n->call.cls->release != NULL)
        n->call.cls->release (&n->call);
      n->call.prepared = prepared[i];
      for (int w = 0; w < n->call.n_weights; w++)
        n->call.weights[w].data = (gpointer) tvw_net_param (net, n->weight[w])->data;

      if (n->call.cls->packed_bytes == NULL)
        continue;
      n->call.packed = arena + offsets[i];
      if (packed_like[i] >= 0)
        continue;
      pieces = n->call.cls->pack_pieces (&n->call);
      for (int b = 0; b < pieces; b++)
        g_array_append_val (items, ((PackItem) { &n->call, b, b + 1 }));
    }

  /* One parallel region for the whole model: most layers alone are too
   * small to share out. */
  tvw_parallel_tasks ((int) items->len, tvw_engine_default_threads (), pack_task, items->data);

  tvw_net_big_free (net->weights, net->weights_bytes);
  net->weights = arena;
  net->weights_bytes = arena_bytes;
  net->packed_bytes = total;
  net->prepared = TRUE;
  net->planned = FALSE;   /* kernels and scratch may have changed */

  return TRUE;
}

gsize
tvw_net_get_packed_bytes (TvwNet *net)
{
  return net->packed_bytes;
}

/* Running */

static void
run_node (TvwNet   *net,
          TvwNode  *n,
          gboolean  reinfer)
{
  TvwOpCall *call = &n->call;

  /* Inputs through their staging copies; views point into input 0. */
  for (int i = 0; i < call->n_in; i++)
    {
      TvwArray src = tvw_net_value (net, n->in[i])->a;

      if (n->staged[i])
        {
          call->in[i].data = tvw_net_value (net, n->stage[i])->a.data;
          tvw_array_copy (&src, &call->in[i], call->n_threads);
        }
      else
        call->in[i].data = src.data;
    }

  if (call->cls->flags & TVW_OP_VIEW)
    {
      const gsize es = tvw_elem_size (call->in[0].elem);

      for (int o = 0; o < call->n_out; o++)
        {
          TvwValue *v = tvw_net_value (net, n->out[o]);

          v->a.data = (guint8 *) call->in[0].data + call->view_offset[o] * (gint64) es;
          call->out[o].data = v->a.data;
        }
      return;
    }

  for (int o = 0; o < call->n_out; o++)
    call->out[o].data = tvw_net_value (net, n->out[o])->a.data;

  call->cls->run (call);

  /* A host op may have produced fewer rows than planned. */
  if (reinfer || (call->cls->flags & TVW_OP_HOST))
    for (int o = 0; o < call->n_out; o++)
      memcpy (tvw_net_value (net, n->out[o])->a.shape, call->out[o].shape, sizeof call->out[o].shape);
}

/* Makes the scratch @per_thread bytes (aligned) for each of @n_threads, in
 * huge pages as the arena (im2col rows and Winograd's matrices are walked
 * with large strides); its contents are not kept. */
gboolean
tvw_net_grow_scratch (TvwNet  *net,
                      gsize    per_thread,
                      int      n_threads,
                      GError **error)
{
  const gsize aligned = ALIGN_UP (per_thread, TVW_ARENA_ALIGN);
  gsize bytes;
  guint8 *scratch;

  if (net->scratch != NULL && aligned * n_threads <= net->scratch_alloc)
    {
      net->scratch_per_thread = aligned;
      return TRUE;
    }

  scratch = tvw_net_big_alloc (aligned * n_threads, &bytes);
  if (scratch == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY, "Not enough memory for %" G_GSIZE_FORMAT
                   " bytes of scratch", aligned * n_threads);
      return FALSE;
    }
  tvw_net_big_free (net->scratch, net->scratch_alloc);
  net->scratch = scratch;
  net->scratch_alloc = bytes;
  net->scratch_per_thread = aligned;
  return TRUE;
}

gboolean
tvw_net_run_arrays (TvwNet          *net,
                    const TvwArray  *inputs,
                    int              n_threads,
                    GCancellable    *cancellable,
                    TvwArray        *outputs,
                    GError         **error)
{
  gboolean dynamic = FALSE;
  unsigned int fp_mode;
  guint done = 0;

  g_return_val_if_fail (net->prepared, FALSE);

  if (n_threads <= 0)
    n_threads = tvw_engine_default_threads ();

  for (guint k = 0; k < net->inputs->len; k++)
    if (tvw_array_numel (&inputs[k]) == 0 || !tvw_array_is_contiguous (&inputs[k]))
      {
        g_autofree char *shape = tvw_array_shape_string (&inputs[k]);

        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     "Input “%s” is empty or not contiguous (%s)",
                     g_array_index (net->inputs, TvwPort, k).name, shape);
        return FALSE;
      }

  if (!tvw_net_plan (net, inputs, n_threads, error))
    return FALSE;

  for (guint k = 0; k < net->inputs->len; k++)
    tvw_net_value (net, g_array_index (net->inputs, TvwPort, k).value)->a.data = inputs[k].data;

  /* Denormals flushed while the engine runs here; the caller's mode back
   * after. */
  fp_mode = tvw_engine_fp_enter ();

  for (guint i = 0; i < net->nodes->len; i++)
    {
      TvwNode *n = tvw_net_node (net, i);
      gint64 start = net->profile ? g_get_monotonic_time () : 0;

      if (n->dead)
        continue;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto fail;

      n->call.n_threads = n_threads;

      /* A data-dependent op and everything after it are inferred again
       * (within the planned bounds). */
      dynamic |= (n->call.cls->flags & TVW_OP_HOST) != 0;
      if (dynamic && !tvw_net_reinfer_node (net, n, error))
        goto fail;
      /* Scratch was planned at the bounds, but a kernel may need more for
       * fewer rows (Winograd splits few tiles by columns instead). */
      if (dynamic && n->call.cls->scratch != NULL &&
          n->call.cls->scratch (&n->call) > net->scratch_per_thread &&
          !tvw_net_grow_scratch (net, n->call.cls->scratch (&n->call), n_threads, error))
        goto fail;
      n->call.scratch = net->scratch;
      n->call.scratch_bytes = net->scratch_per_thread;

      run_node (net, n, dynamic);

      if (net->profile)
        {
          g_autofree char *shape = tvw_array_shape_string (&n->call.out[0]);

          g_printerr ("tvw-profile: %-28s %-20s %-22s %8.3f ms\n",
                      n->call.name != NULL ? n->call.name : "-", n->call.cls->name, shape,
                      (g_get_monotonic_time () - start) / 1000.0);
        }
    }

  for (done = 0; done < net->outputs->len; done++)
    {
      const TvwArray *src = &tvw_net_value (net, g_array_index (net->outputs, TvwPort, done).value)->a;
      TvwArray *dst = &outputs[done];

      tvw_array_init (dst, src->elem, src->rank, src->shape);
      dst->quantized = src->quantized;
      dst->scale = src->scale;
      dst->zero_point = src->zero_point;
      dst->data = g_try_malloc (MAX (tvw_array_extent_bytes (dst), 1));
      if (dst->data == NULL)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY, "Not enough memory for the output");
          goto fail;
        }
      tvw_array_copy (src, dst, n_threads);
    }

  tvw_engine_fp_leave (fp_mode);
  return TRUE;

fail:
  for (guint k = 0; k < done; k++)
    g_clear_pointer (&outputs[k].data, g_free);
  tvw_engine_fp_leave (fp_mode);
  return FALSE;
}

gboolean
tvw_net_run (TvwNet        *net,
             const float   *input,
             int            n,
             int            h,
             int            w,
             int            n_threads,
             GCancellable  *cancellable,
             float        **output,
             gint64        *output_shape,
             guint         *output_n_dims,
             GError       **error)
{
  const TvwArray *declared;
  g_autofree TvwArray *out = g_new0 (TvwArray, net->outputs->len);
  TvwArray in;
  gint64 shape[4];

  g_return_val_if_fail (net->inputs->len == 1, FALSE);

  if (n <= 0 || h <= 0 || w <= 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The input batch is empty (%d×%d×%d)", n, h, w);
      return FALSE;
    }

  declared = &tvw_net_value (net, g_array_index (net->inputs, TvwPort, 0).value)->a;
  shape[0] = n;
  shape[1] = declared->shape[1];
  shape[2] = h;
  shape[3] = w;
  tvw_array_init (&in, TVW_ELEM_F32, 4, shape);
  in.data = (gpointer) input;

  if (!tvw_net_run_arrays (net, &in, n_threads, cancellable, out, error))
    return FALSE;

  /* Only the first output. */
  for (guint k = 1; k < net->outputs->len; k++)
    g_free (out[k].data);
  *output = out[0].data;
  *output_n_dims = (guint) out[0].rank;
  memcpy (output_shape, out[0].shape, out[0].rank * sizeof (gint64));
  return TRUE;
}
