/* tvw-op-eltwise.c — activations and broadcasting binary ops
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Elementwise ops keep the layout they are given: a channels-last map stays
 * channels-last, so that they never cost a conversion between two
 * convolutions.  Dense operands of one layout take a flat loop; anything
 * else (broadcasting, views) an indexed one over the output's rows.
 */

#include "config.h"

#include <string.h>

#include "tvw-engine-threads-private.h"
#include "tvw-activation-private.h"
#include "tvw-kernels-private.h"
#include "tvw-ops-private.h"

static gboolean
is_dense (const TvwArray *a)
{
  return tvw_array_is_contiguous (a) || tvw_array_is_channels_last (a);
}

static gboolean
same_strides (const TvwArray *a,
              const TvwArray *b)
{
  if (!tvw_array_same_shape (a, b))
    return FALSE;
  for (int i = 0; i < a->rank; i++)
    if (a->shape[i] != 1 && a->stride[i] != b->stride[i])
      return FALSE;
  return TRUE;
}

/* A dense layout for @out, after @x's: a channel slice of a channels-last
 * map (a split: RAFT's hidden state and context) stays channels-last, as
 * the convolutions and the additions around it read it; anything else
 * becomes contiguous. */
static void
set_dense_like (TvwArray       *out,
                const TvwArray *x)
{
  if (tvw_array_channels_last_pitch (x) > 0)
    tvw_array_set_channels_last (out);
  else
    tvw_array_set_contiguous (out);
}

/* Activation */

static gboolean
activation_infer (TvwOpCall  *call,
                  GError    **error)
{
  if (!tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;

  call->out[0] = call->in[0];
  if (!is_dense (&call->in[0]))
    set_dense_like (&call->out[0], &call->in[0]);
  return TRUE;
}

static void
activation_run (TvwOpCall *call)
{
  const TvwActivationParams *p = call->params;
  TvwArray *out = &call->out[0];

  if (same_strides (&call->in[0], out))
    memcpy (out->data, call->in[0].data, tvw_array_extent_bytes (out));
  else
    tvw_array_copy (&call->in[0], out, call->n_threads);
  tvw_kernel_activation (out->data, (gsize) tvw_array_numel (out), p->act, call->n_threads);
}

const TvwOpClass tvw_op_activation = {
  .name = "activation",
  .flags = TVW_OP_STRIDED,
  .infer = activation_infer,
  .run = activation_run,
};

TvwVal
tvw_net_activation (TvwNet        *net,
                    TvwVal         x,
                    TvwActivation  act)
{
  TvwActivationParams params = { act };
  TvwNodeSpec node = {
    .cls = &tvw_op_activation,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_out = 1,
  };

  if (act == TVW_ACT_NONE)
    return x;

  return tvw_net_add_node (net, &node, NULL);
}

/* Binary ops with broadcasting */

static gboolean
binary_infer (TvwOpCall  *call,
              GError    **error)
{
  const TvwArray *a = &call->in[0], *b = &call->in[1];
  const int rank = MAX (a->rank, b->rank);
  gint64 shape[TVW_MAX_RANK];

  if (!tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error))
    return FALSE;

  /* Aligned on the last dimension; a size 1 stretches. */
  for (int i = 0; i < rank; i++)
    {
      int ia = a->rank - rank + i, ib = b->rank - rank + i;
      gint64 da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;

      if (da != db && da != 1 && db != 1)
        {
          g_autofree char *sa = tvw_array_shape_string (a);
          g_autofree char *sb = tvw_array_shape_string (b);

          tvw_op_set_error (call, error, "cannot broadcast shapes %s and %s", sa, sb);
          return FALSE;
        }
      shape[i] = da == 1 ? db : da;
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, rank, shape);
  /* The layout of an operand of the output's shape. */
  if (tvw_array_same_shape (a, &call->out[0]) && is_dense (a))
    memcpy (call->out[0].stride, a->stride, sizeof a->stride);
  else if (tvw_array_same_shape (b, &call->out[0]) && is_dense (b))
    memcpy (call->out[0].stride, b->stride, sizeof b->stride);
  else if (tvw_array_same_shape (a, &call->out[0]))
    set_dense_like (&call->out[0], a);
  else if (tvw_array_same_shape (b, &call->out[0]))
    set_dense_like (&call->out[0], b);

  return TRUE;
}

typedef struct
{
  const TvwBinaryParams *p;
  const TvwArray        *a, *b, *out;
  gint64                 sa[TVW_MAX_RANK], sb[TVW_MAX_RANK];
  gint64                 inner;
} BinaryJob;

static inline float
binary_apply (TvwBinaryOp op,
              float       x,
              float       y)
{
  switch (op)
    {
    case TVW_BINARY_SUB:
      return x - y;
    case TVW_BINARY_MUL:
      return x * y;
    case TVW_BINARY_DIV:
      return x / y;
    case TVW_BINARY_ADD:
    default:
      return x + y;
    }
}

static void
binary_flat_range (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const BinaryJob *job = data;
  const float *a = job->a->data, *b = job->b->data;
  float *out = job->out->data;
  const TvwBinaryOp op = job->p->op;

  for (gsize i = begin; i < end; i++)
    out[i] = binary_apply (op, a[i], b[i]);
  tvw_activation_apply_span (out + begin, end - begin, job->p->act);
}

static void
binary_rows_range (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const BinaryJob *job = data;
  const TvwArray *out = job->out;
  const int r = out->rank;
  const gint64 inner = job->inner;
  const gint64 sa = r > 0 ? job->sa[r - 1] : 0, sb = r > 0 ? job->sb[r - 1] : 0;
  const gint64 so = r > 0 ? out->stride[r - 1] : 0;
  const TvwBinaryOp op = job->p->op;

  for (gsize row = begin; row < end; row++)
    {
      gint64 rest = (gint64) row, oa = 0, ob = 0, oo = 0;
      const float *a, *b;
      float *o;

      for (int i = r - 2; i >= 0; i--)
        {
          gint64 idx = rest % out->shape[i];

          rest /= out->shape[i];
          oa += idx * job->sa[i];
          ob += idx * job->sb[i];
          oo += idx * out->stride[i];
        }
      a = (const float *) job->a->data + oa;
      b = (const float *) job->b->data + ob;
      o = (float *) out->data + oo;

      for (gint64 j = 0; j < inner; j++)
        o[j * so] = tvw_activation_apply (binary_apply (op, a[j * sa], b[j * sb]), job->p->act);
    }
}

/* Strides of @x read as an array of @out's shape: 0 where it broadcasts. */
static void
broadcast_strides (const TvwArray *x,
                   const TvwArray *out,
                   gint64         *strides)
{
  for (int i = 0; i < out->rank; i++)
    {
      int ix = x->rank - out->rank + i;

      strides[i] = ix >= 0 && x->shape[ix] != 1 ? x->stride[ix] : 0;
    }
}

static void
binary_run (TvwOpCall *call)
{
  const TvwBinaryParams *p = call->params;
  const TvwArray *out = &call->out[0];
  BinaryJob job = { p, &call->in[0], &call->in[1], out };
  const gint64 numel = tvw_array_numel (out);
  const int threads = numel < 32768 ? 1 : call->n_threads;

  if (numel == 0)
    return;

  if (same_strides (job.a, out) && same_strides (job.b, out) && is_dense (out))
    {
      if (p->op == TVW_BINARY_ADD)
        tvw_kernel_add (job.a->data, job.b->data, out->data, (gsize) numel, p->act, call->n_threads);
      else
        tvw_parallel_range ((gsize) numel, threads, binary_flat_range, &job);
      return;
    }

  broadcast_strides (job.a, out, job.sa);
  broadcast_strides (job.b, out, job.sb);
  job.inner = out->rank > 0 ? out->shape[out->rank - 1] : 1;
  tvw_parallel_range ((gsize) (numel / job.inner), threads, binary_rows_range, &job);
}

const TvwOpClass tvw_op_binary = {
  .name = "binary",
  .flags = TVW_OP_STRIDED,
  .infer = binary_infer,
  .run = binary_run,
};

TvwVal
tvw_net_binary (TvwNet      *net,
                TvwBinaryOp  op,
                TvwVal       a,
                TvwVal       b)
{
  TvwBinaryParams params = { op, TVW_ACT_NONE };
  TvwVal in[2] = { a, b };
  TvwNodeSpec node = {
    .cls = &tvw_op_binary,
    .params = &params, .params_size = sizeof params,
    .n_in = 2, .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}

TvwVal
tvw_net_add (TvwNet *net,
             TvwVal  a,
             TvwVal  b)
{
  return tvw_net_binary (net, TVW_BINARY_ADD, a, b);
}

/* x · gate per channel, gate N×C (×1×1): a squeeze-excitation's scale. */

static gboolean
scale_channels_infer (TvwOpCall  *call,
                      GError    **error)
{
  const TvwArray *x = &call->in[0], *g = &call->in[1];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_rank (call, 1, 2, 4, error))
    return FALSE;
  if (g->shape[0] != x->shape[0] || g->shape[1] != x->shape[1] ||
      tvw_array_numel (g) != x->shape[0] * x->shape[1])
    {
      g_autofree char *sx = tvw_array_shape_string (x);
      g_autofree char *sg = tvw_array_shape_string (g);

      tvw_op_set_error (call, error, "a channel gate of shape %s does not fit a map of shape %s",
                        sg, sx);
      return FALSE;
    }

  call->out[0] = *x;
  return TRUE;
}

static void
scale_channels_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0];

  tvw_kernel_scale_channels (x->data, call->in[1].data, call->out[0].data, (int) x->shape[0],
                             (gsize) (x->shape[2] * x->shape[3]), (int) x->shape[1],
                             call->n_threads);
}

const TvwOpClass tvw_op_scale_channels = {
  .name = "scale_channels",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = scale_channels_infer,
  .run = scale_channels_run,
};

TvwVal
tvw_net_scale_channels (TvwNet *net,
                        TvwVal  x,
                        TvwVal  gate)
{
  TvwVal in[2] = { x, gate };
  TvwNodeSpec node = {
    .cls = &tvw_op_scale_channels,
    .n_in = 2, .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}
