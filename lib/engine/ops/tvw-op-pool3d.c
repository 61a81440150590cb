/* tvw-op-pool3d.c — MaxPool3d, AvgPool3d, AdaptiveAvgPool3d
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Over N×C×T×H×W taken channels-last (N·T·H·W·C), so every window position
 * is a contiguous run of channels and the inner loop is over them.  Output
 * sizes and windows follow PyTorch: with ceil_mode the last window must
 * still start inside the input or its left padding; average pooling divides
 * by the window clipped to the padded input (count_include_pad) or to the
 * input; adaptive windows are [floor (i·in/out), ceil ((i+1)·in/out)).
 */

#include "config.h"

#include <math.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

typedef enum
{
  POOL_MAX,
  POOL_AVG,
  POOL_ADAPTIVE_AVG,
} PoolKind;

/* PyTorch's pooling_output_shape () (dilation 1). */
static gint64
pool_output_size (gint64   in,
                  int      k,
                  int      stride,
                  int      pad,
                  gboolean ceil_mode)
{
  gint64 num = in + 2 * pad - (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  gint64 out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;

  if (ceil_mode && (out - 1) * stride >= in + pad)
    out--;
  return out;
}

/* The class says which pool it is. */
static PoolKind
pool_kind (const TvwOpCall *call)
{
  if (call->cls == &tvw_op_max_pool3d)
    return POOL_MAX;
  if (call->cls == &tvw_op_avg_pool3d)
    return POOL_AVG;
  return POOL_ADAPTIVE_AVG;
}

static gboolean
pool3d_infer (TvwOpCall  *call,
              GError    **error)
{
  const TvwPool3dParams *p = call->params;
  const PoolKind kind = pool_kind (call);
  const TvwArray *x = &call->in[0];
  gint64 shape[5];

  if (!tvw_op_check_rank (call, 0, 5, 5, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;

  shape[0] = x->shape[0];
  shape[1] = x->shape[1];
  for (int i = 0; i < 3; i++)
    {
      if (kind == POOL_ADAPTIVE_AVG)
        {
          if (p->out_size[i] <= 0 || x->shape[2 + i] <= 0)
            {
              char xs[TVW_SHAPE_CHARS];

              tvw_array_format_shape (x, xs);
              tvw_op_set_invalid (call, error,
                                  "input %s to output size %" G_GINT64_FORMAT " in dimension %d",
                                  xs, p->out_size[i], 2 + i);
              return FALSE;
            }
          shape[2 + i] = p->out_size[i];
          continue;
        }
      if (p->kernel[i] < 1 || p->stride[i] < 1 || p->padding[i] < 0 ||
          p->padding[i] > p->kernel[i] / 2)
        {
          tvw_op_set_invalid (call, error,
                              "kernel %d, stride %d, padding %d in dimension %d "
                              "(padding must be at most half the kernel)",
                              p->kernel[i], p->stride[i], p->padding[i], 2 + i);
          return FALSE;
        }
      shape[2 + i] = pool_output_size (x->shape[2 + i], p->kernel[i], p->stride[i], p->padding[i],
                                       p->ceil_mode);
      if (shape[2 + i] <= 0)
        {
          char xs[TVW_SHAPE_CHARS];

          tvw_array_format_shape (x, xs);
          tvw_op_set_error (call, error, "input %s is too small for kernel %d in dimension %d",
                            xs, p->kernel[i], 2 + i);
          return FALSE;
        }
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 5, shape);
  return TRUE;
}

/* The window of output index @o along @axis: [*begin, *end) in the input,
 * and the divisor's extent for average pooling. */
static void
pool_window (const TvwPool3dParams *p,
             PoolKind            kind,
             const gint64       *in,
             const gint64       *out,
             int                 axis,
             gint64              o,
             gint64             *begin,
             gint64             *end,
             gint64             *extent)
{
  if (kind == POOL_ADAPTIVE_AVG)
    {
      *begin = o * in[axis] / out[axis];
      *end = ((o + 1) * in[axis] + out[axis] - 1) / out[axis];
      *extent = *end - *begin;
      return;
    }

  *begin = o * p->stride[axis] - p->padding[axis];
  *end = MIN (*begin + p->kernel[axis], in[axis] + p->padding[axis]);
  *extent = *end - *begin;
  *begin = MAX (*begin, 0);
  *end = MIN (*end, in[axis]);
  if (kind == POOL_AVG && !p->count_include_pad)
    *extent = *end - *begin;
}

typedef struct
{
  const TvwOpCall *call;
  gint64           in[3], out[3];
} PoolJob;

static void
pool3d_rows (gpointer data,
             gsize    begin,
             gsize    end,
             int      thread)
{
  const PoolJob *job = data;
  const TvwPool3dParams *p = job->call->params;
  const PoolKind kind = pool_kind (job->call);
  const TvwArray *x = &job->call->in[0], *y = &job->call->out[0];
  const gint64 channels = x->shape[1];

  /* One task is one output position; channels are contiguous. */
  for (gsize row = begin; row < end; row++)
    {
      gint64 rest = (gint64) row, o[3], b[3], e[3], ext[3];
      const float *xn;
      float *dst;
      double divisor;

      for (int i = 2; i >= 0; i--)
        {
          o[i] = rest % job->out[i];
          rest /= job->out[i];
        }
      xn = (const float *) x->data + rest * x->stride[0];
      dst = (float *) y->data + rest * y->stride[0] + o[0] * y->stride[2] + o[1] * y->stride[3] +
            o[2] * y->stride[4];
      for (int i = 0; i < 3; i++)
        pool_window (p, kind, job->in, job->out, i, o[i], &b[i], &e[i], &ext[i]);

      if (kind == POOL_MAX)
        {
          for (gint64 c = 0; c < channels; c++)
            dst[c] = -INFINITY;
          for (gint64 t = b[0]; t < e[0]; t++)
            for (gint64 h = b[1]; h < e[1]; h++)
              for (gint64 w = b[2]; w < e[2]; w++)
                {
                  const float *src = xn + t * x->stride[2] + h * x->stride[3] + w * x->stride[4];

                  /* NaN wins, as in PyTorch. */
                  for (gint64 c = 0; c < channels; c++)
                    if (src[c] > dst[c] || isnan (src[c]))
                      dst[c] = src[c];
                }
          continue;
        }

      for (gint64 c = 0; c < channels; c++)
        dst[c] = 0.f;
      for (gint64 t = b[0]; t < e[0]; t++)
        for (gint64 h = b[1]; h < e[1]; h++)
          for (gint64 w = b[2]; w < e[2]; w++)
            {
              const float *src = xn + t * x->stride[2] + h * x->stride[3] + w * x->stride[4];

              for (gint64 c = 0; c < channels; c++)
                dst[c] += src[c];
            }
      divisor = (double) ext[0] * ext[1] * ext[2];
      for (gint64 c = 0; c < channels; c++)
        dst[c] = divisor > 0 ? (float) (dst[c] / divisor) : 0.f;
    }
}

static void
pool3d_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  PoolJob job = { call };
  gint64 rows = y->shape[0];

  if (tvw_array_numel (y) == 0)
    return;
  for (int i = 0; i < 3; i++)
    {
      job.in[i] = x->shape[2 + i];
      job.out[i] = y->shape[2 + i];
      rows *= job.out[i];
    }
  tvw_parallel_range ((gsize) rows, tvw_array_numel (x) < 16384 ? 1 : call->n_threads,
                      pool3d_rows, &job);
}

const TvwOpClass tvw_op_max_pool3d = {
  .name = "max_pool3d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = pool3d_infer,
  .run = pool3d_run,
};

const TvwOpClass tvw_op_avg_pool3d = {
  .name = "avg_pool3d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = pool3d_infer,
  .run = pool3d_run,
};

const TvwOpClass tvw_op_adaptive_avg_pool3d = {
  .name = "adaptive_avg_pool3d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = pool3d_infer,
  .run = pool3d_run,
};

/* ---- graph constructors ------------------------------------------------ */

static TvwVal
add_pool (TvwNet             *net,
          const TvwOpClass   *cls,
          TvwVal              x,
          const TvwPool3dParams *p)
{
  const TvwNodeSpec spec = {
    .cls = cls,
    .params = p,
    .params_size = sizeof *p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

static void
set_window (TvwPool3dParams *p,
            const int    *kernel,
            const int    *stride,
            const int    *padding)
{
  for (int i = 0; i < 3; i++)
    {
      p->kernel[i] = kernel[i];
      /* PyTorch: no stride means the kernel size. */
      p->stride[i] = stride != NULL ? stride[i] : kernel[i];
      p->padding[i] = padding != NULL ? padding[i] : 0;
    }
}

TvwVal
tvw_net_max_pool3d (TvwNet    *net,
                    TvwVal     x,
                    const int *kernel,
                    const int *stride,
                    const int *padding,
                    gboolean   ceil_mode)
{
  TvwPool3dParams p = { .ceil_mode = ceil_mode };

  set_window (&p, kernel, stride, padding);
  return add_pool (net, &tvw_op_max_pool3d, x, &p);
}

TvwVal
tvw_net_avg_pool3d (TvwNet    *net,
                    TvwVal     x,
                    const int *kernel,
                    const int *stride,
                    const int *padding,
                    gboolean   ceil_mode,
                    gboolean   count_include_pad)
{
  TvwPool3dParams p = { .ceil_mode = ceil_mode, .count_include_pad = count_include_pad };

  set_window (&p, kernel, stride, padding);
  return add_pool (net, &tvw_op_avg_pool3d, x, &p);
}

TvwVal
tvw_net_adaptive_avg_pool3d (TvwNet       *net,
                             TvwVal        x,
                             const gint64 *out_size)
{
  TvwPool3dParams p = { 0 };

  for (int i = 0; i < 3; i++)
    p.out_size[i] = out_size[i];
  return add_pool (net, &tvw_op_adaptive_avg_pool3d, x, &p);
}
