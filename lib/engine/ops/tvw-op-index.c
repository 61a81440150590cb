/* tvw-op-index.c — index_select, gather, top-k
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Indices are i64 tensors computed by the graph, so a bad one can only be
 * seen when the kernel runs, and a kernel cannot fail: index_select and
 * gather check every index at run time and write zeros (of the element
 * type) where it is out of range, instead of reading outside the input.
 * Negative indices are out of range too (torch.gather and index_select
 * reject them).  Both move elements by size, so every element type works.
 *
 * torch.topk on CPU breaks ties in no documented order (torch 1.13 returns
 * indices 1, 6, 4 for the 3s of [1, 3, 3, 2, 3, 1, 3]); here equal values
 * come out lower index first, so results are deterministic.  NaN counts as
 * larger than everything, as in PyTorch.
 */

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

#define PARALLEL_MIN_ELEMENTS 32768

static int
threads_for (gint64 elements,
             int    n_threads)
{
  return elements < PARALLEL_MIN_ELEMENTS ? 1 : n_threads;
}

static inline void
copy_elem (guint8       *dst,
           const guint8 *src,
           gsize         es)
{
  if (es == 4)
    *(guint32 *) dst = *(const guint32 *) src;
  else if (es == 8)
    *(guint64 *) dst = *(const guint64 *) src;
  else
    *dst = *src;
}

static TvwVal
add_node (TvwNet           *net,
          const TvwOpClass *cls,
          gconstpointer     params,
          gsize             params_size,
          TvwVal            x,
          TvwVal            index)
{
  TvwVal in[2] = { x, index };
  TvwNodeSpec spec = {
    .cls = cls,
    .params = params,
    .params_size = params_size,
    .n_in = 2,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

/* ---- index_select -------------------------------------------------------- */

static gboolean
index_select_infer (TvwOpCall  *call,
                    GError    **error)
{
  const TvwDimParams *p = call->params;
  const TvwArray *in = &call->in[0], *index = &call->in[1];
  TvwArray *out = &call->out[0];
  int dim;

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_rank (call, 1, 1, 1, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_I64, error) ||
      !tvw_op_check_dim (call, p->dim, call->in[0].rank, &dim, error))
    return FALSE;
  if (in->quantized && in->qaxis == dim)
    {
      tvw_op_set_invalid (call, error, "cannot select along the axis of per-channel quantization");
      return FALSE;
    }

  *out = *in;
  out->data = NULL;
  out->shape[dim] = index->shape[0];
  tvw_array_set_contiguous (out);
  return TRUE;
}

typedef struct
{
  const TvwArray *in, *index, *out;
  int             dim;
} IndexJob;

/* One output row (all dims but the last) at a time. */
static void
index_select_rows (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const IndexJob *job = data;
  const TvwArray *in = job->in, *out = job->out;
  const gint64 *index = job->index->data;
  const gint64 istride = job->index->stride[0];
  const int r = out->rank, dim = job->dim;
  const gsize es = tvw_elem_size (out->elem);
  const gint64 w = out->shape[r - 1], ws = in->stride[r - 1];

  for (gsize row = begin; row < end; row++)
    {
      guint8 *dst = (guint8 *) out->data + row * w * es;
      const guint8 *src;
      gint64 rest = (gint64) row, off = 0;
      gboolean valid = TRUE;

      for (int d = r - 2; d >= 0; d--)
        {
          gint64 i = rest % out->shape[d];

          rest /= out->shape[d];
          if (d == dim)
            {
              i = index[i * istride];
              valid = i >= 0 && i < in->shape[d];
            }
          off += i * in->stride[d];
        }
      if (!valid)
        {
          memset (dst, 0, w * es);
          continue;
        }
      src = (const guint8 *) in->data + off * (gint64) es;

      if (dim == r - 1)
        for (gint64 j = 0; j < w; j++)
          {
            gint64 i = index[j * istride];

            if (i >= 0 && i < in->shape[dim])
              copy_elem (dst + j * es, src + i * ws * (gint64) es, es);
            else
              memset (dst + j * es, 0, es);
          }
      else if (ws == 1)
        memcpy (dst, src, w * es);
      else
        for (gint64 j = 0; j < w; j++)
          copy_elem (dst + j * es, src + j * ws * (gint64) es, es);
    }
}

/* index_select and gather: @rows over the output's innermost rows. */
static void
run_index_rows (TvwOpCall    *call,
                TvwRangeFunc  rows)
{
  const TvwDimParams *p = call->params;
  const TvwArray *out = &call->out[0];
  gint64 numel = tvw_array_numel (out);
  IndexJob job = { &call->in[0], &call->in[1], out, p->dim < 0 ? p->dim + out->rank : p->dim };

  if (numel == 0)
    return;
  tvw_parallel_range (numel / out->shape[out->rank - 1], threads_for (numel, call->n_threads),
                      rows, &job);
}

static void
index_select_run (TvwOpCall *call)
{
  run_index_rows (call, index_select_rows);
}

const TvwOpClass tvw_op_index_select = {
  .name = "index_select",
  .flags = TVW_OP_STRIDED,
  .infer = index_select_infer,
  .run = index_select_run,
};

TvwVal
tvw_net_index_select (TvwNet *net,
                      TvwVal  x,
                      int     dim,
                      TvwVal  index)
{
  TvwDimParams p = { dim };

  return add_node (net, &tvw_op_index_select, &p, sizeof p, x, index);
}

/* ---- gather -------------------------------------------------------------- */

static gboolean
gather_infer (TvwOpCall  *call,
              GError    **error)
{
  const TvwDimParams *p = call->params;
  const TvwArray *in = &call->in[0], *index = &call->in[1];
  TvwArray *out = &call->out[0];
  int dim;

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_I64, error) ||
      !tvw_op_check_dim (call, p->dim, call->in[0].rank, &dim, error))
    return FALSE;
  if (in->quantized && in->qaxis >= 0)
    {
      tvw_op_set_invalid (call, error, "input 0 is quantized per channel, which gather does not support");
      return FALSE;
    }

  for (int d = 0; d < in->rank; d++)
    if (index->rank != in->rank || (d != dim && index->shape[d] > in->shape[d]))
      {
        char a[TVW_SHAPE_CHARS], b[TVW_SHAPE_CHARS];

        tvw_array_format_shape (in, a);
        tvw_array_format_shape (index, b);

        tvw_op_set_error (call, error, "index of shape %s does not fit input of shape %s "
                          "outside dim %d", b, a, p->dim);
        return FALSE;
      }

  *out = *in;
  out->data = NULL;
  for (int d = 0; d < in->rank; d++)
    out->shape[d] = index->shape[d];
  tvw_array_set_contiguous (out);
  return TRUE;
}

static void
gather_rows (gpointer data,
             gsize    begin,
             gsize    end,
             int      thread)
{
  const IndexJob *job = data;
  const TvwArray *in = job->in, *index = job->index, *out = job->out;
  const int r = out->rank, dim = job->dim;
  const gsize es = tvw_elem_size (out->elem);
  const gint64 w = out->shape[r - 1];

  for (gsize row = begin; row < end; row++)
    {
      guint8 *dst = (guint8 *) out->data + row * w * es;
      const gint64 *idx_row;
      const guint8 *src;
      gint64 rest = (gint64) row, off = 0, ioff = 0;

      /* Every dim but @dim addresses the input like the index. */
      for (int d = r - 2; d >= 0; d--)
        {
          gint64 i = rest % out->shape[d];

          rest /= out->shape[d];
          ioff += i * index->stride[d];
          if (d != dim)
            off += i * in->stride[d];
        }
      idx_row = (const gint64 *) index->data + ioff;
      src = (const guint8 *) in->data + off * (gint64) es;

      for (gint64 j = 0; j < w; j++)
        {
          gint64 i = idx_row[j * index->stride[r - 1]];
          gint64 at = i * in->stride[dim] + (dim == r - 1 ? 0 : j * in->stride[r - 1]);

          if (i >= 0 && i < in->shape[dim])
            copy_elem (dst + j * es, src + at * (gint64) es, es);
          else
            memset (dst + j * es, 0, es);
        }
    }
}

static void
gather_run (TvwOpCall *call)
{
  run_index_rows (call, gather_rows);
}

const TvwOpClass tvw_op_gather = {
  .name = "gather",
  .flags = TVW_OP_STRIDED,
  .infer = gather_infer,
  .run = gather_run,
};

TvwVal
tvw_net_gather (TvwNet *net,
                TvwVal  x,
                int     dim,
                TvwVal  index)
{
  TvwDimParams p = { dim };

  return add_node (net, &tvw_op_gather, &p, sizeof p, x, index);
}

/* ---- top-k --------------------------------------------------------------- */

static gboolean
topk_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwTopkParams *p = call->params;
  const TvwArray *in = &call->in[0];
  int dim;

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_dim (call, p->dim, call->in[0].rank, &dim, error))
    return FALSE;
  if (call->n_out != 2)
    {
      tvw_op_set_invalid (call, error, "%d outputs, expected values and indices", call->n_out);
      return FALSE;
    }
  if (p->k < 0 || p->k > in->shape[dim])
    {
      char shape[TVW_SHAPE_CHARS];

      tvw_array_format_shape (in, shape);

      tvw_op_set_error (call, error, "k = %" G_GINT64_FORMAT " is out of range for dim %d "
                        "of input %s", p->k, p->dim, shape);
      return FALSE;
    }

  for (int o = 0; o < 2; o++)
    {
      tvw_array_init (&call->out[o], o == 0 ? TVW_ELEM_F32 : TVW_ELEM_I64, in->rank, in->shape);
      call->out[o].shape[dim] = p->k;
      tvw_array_set_contiguous (&call->out[o]);
    }
  return TRUE;
}

typedef struct
{
  float  value;
  gint64 index;
} Entry;

/* Whether @a comes before @b: larger first, NaN largest, then lower index. */
static inline gboolean
entry_before (const Entry *a,
              const Entry *b)
{
  gboolean an = isnan (a->value), bn = isnan (b->value);

  if (an != bn)
    return an;
  if (!an && a->value != b->value)
    return a->value > b->value;
  return a->index < b->index;
}

/* A heap with the entry that comes last at the root. */
static void
sift_down (Entry  *heap,
           gint64  n,
           gint64  i)
{
  for (;;)
    {
      gint64 l = 2 * i + 1, r = l + 1, m = i;
      Entry t;

      if (l < n && entry_before (&heap[m], &heap[l]))
        m = l;
      if (r < n && entry_before (&heap[m], &heap[r]))
        m = r;
      if (m == i)
        return;
      t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
}

typedef struct
{
  const TvwArray *in, *values, *indices;
  int             dim;
  gint64          k;
  guint8         *scratch;
  gsize           scratch_bytes;
} TopkJob;

static void
topk_rows (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const TopkJob *job = data;
  const TvwArray *in = job->in, *values = job->values;
  const int r = in->rank, dim = job->dim;
  const gint64 n = in->shape[dim], k = job->k, step = in->stride[dim];
  const gint64 ostep = values->stride[dim];
  Entry *heap = (Entry *) (job->scratch + thread * job->scratch_bytes);

  for (gsize row = begin; row < end; row++)
    {
      gint64 rest = (gint64) row, off = 0, ooff = 0;
      const float *x;
      float *v;
      gint64 *ix;

      for (int d = r - 1; d >= 0; d--)
        {
          gint64 i;

          if (d == dim)
            continue;
          i = rest % in->shape[d];
          rest /= in->shape[d];
          off += i * in->stride[d];
          ooff += i * values->stride[d];
        }
      x = (const float *) in->data + off;
      v = (float *) values->data + ooff;
      ix = (gint64 *) job->indices->data + ooff;

      /* The k best so far, worst at the root; a later element that ties
       * the root has a higher index and stays out. */
      for (gint64 j = 0; j < k; j++)
        heap[j] = (Entry) { x[j * step], j };
      for (gint64 j = k / 2 - 1; j >= 0; j--)
        sift_down (heap, k, j);
      for (gint64 j = k; j < n; j++)
        {
          Entry e = { x[j * step], j };

          if (k > 0 && entry_before (&e, &heap[0]))
            {
              heap[0] = e;
              sift_down (heap, k, 0);
            }
        }

      /* Popping the worst fills the outputs from the end. */
      for (gint64 m = k; m > 0; m--)
        {
          v[(m - 1) * ostep] = heap[0].value;
          ix[(m - 1) * ostep] = heap[0].index;
          heap[0] = heap[m - 1];
          sift_down (heap, m - 1, 0);
        }
    }
}

static gsize
topk_scratch (const TvwOpCall *call)
{
  const TvwTopkParams *p = call->params;

  return MAX (p->k, 1) * sizeof (Entry);
}

static void
topk_run (TvwOpCall *call)
{
  const TvwTopkParams *p = call->params;
  const TvwArray *in = &call->in[0];
  const int dim = p->dim < 0 ? p->dim + in->rank : p->dim;
  gint64 numel = tvw_array_numel (in);
  TopkJob job = { in, &call->out[0], &call->out[1], dim, p->k, call->scratch, call->scratch_bytes };

  if (numel == 0 || p->k == 0)
    return;
  tvw_parallel_range (numel / in->shape[dim], threads_for (numel, call->n_threads),
                      topk_rows, &job);
}

const TvwOpClass tvw_op_topk = {
  .name = "topk",
  .flags = TVW_OP_STRIDED,
  .infer = topk_infer,
  .scratch = topk_scratch,
  .run = topk_run,
};

void
tvw_net_topk (TvwNet *net,
              TvwVal  x,
              gint64  k,
              int     dim,
              TvwVal *values,
              TvwVal *indices)
{
  TvwTopkParams p = { k, dim };
  TvwVal outs[2] = { -1, -1 };
  TvwNodeSpec spec = {
    .cls = &tvw_op_topk,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 2,
  };

  tvw_net_add_node (net, &spec, outs);
  if (values != NULL)
    *values = outs[0];
  if (indices != NULL)
    *indices = outs[1];
}
