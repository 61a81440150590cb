/* tvw-op-pool.c — 2-D max, average and adaptive average pooling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Over channels-last maps: the channel loop is the contiguous one.
 */

#include "config.h"

#include "tvw-kernels-private.h"
#include "tvw-ops-private.h"

/* PyTorch's pooling output size (pooling_output_shape); with ceil_mode
 * the last window must start inside the input or the left padding, and
 * may be wider than what is left of the input: GoogLeNet's 3×3 ceil-mode
 * pools take a 2×2 map to 1×1. */
gint64
tvw_pool_out (gint64   size,
              int      kernel,
              int      stride,
              int      pad,
              gboolean ceil_mode)
{
  gint64 num = size + 2 * pad - (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  gint64 out;

  /* div_rtn: rounded towards −∞ */
  if (num < 0)
    return 0;

  out = num / stride + 1;
  if (ceil_mode && (out - 1) * stride >= size + pad)
    out--;

  return out;
}

static gboolean
pool_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwPool2dParams *p = call->params;
  const TvwArray *x = &call->in[0];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;

  shape[0] = x->shape[0];
  shape[1] = x->shape[1];
  if (call->cls == &tvw_op_adaptive_avg_pool2d)
    {
      shape[2] = p->out_h;
      shape[3] = p->out_w;
      if (x->shape[2] <= 0 || x->shape[3] <= 0)
        {
          tvw_op_set_error (call, error, "an empty map cannot be pooled");
          return FALSE;
        }
    }
  else
    {
      shape[2] = tvw_pool_out (x->shape[2], p->kernel, p->stride, p->padding, p->ceil_mode);
      shape[3] = tvw_pool_out (x->shape[3], p->kernel, p->stride, p->padding, p->ceil_mode);
      if (shape[2] <= 0 || shape[3] <= 0 || p->padding * 2 > p->kernel)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "The input is too small for this architecture: a pooling layer gets a %"
                       G_GINT64_FORMAT "×%" G_GINT64_FORMAT " map and would produce an empty one",
                       x->shape[2], x->shape[3]);
          return FALSE;
        }
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return TRUE;
}

static void
pool_run (TvwOpCall *call)
{
  const TvwPool2dParams *p = call->params;
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  TvwPoolParams pp = {
    .n = (int) x->shape[0], .c = (int) x->shape[1], .h = (int) x->shape[2], .w = (int) x->shape[3],
    .oh = (int) y->shape[2], .ow = (int) y->shape[3],
    .kh = p->kernel, .kw = p->kernel, .sh = p->stride, .sw = p->stride,
    .ph = p->padding, .pw = p->padding,
    .count_include_pad = p->count_include_pad,
    .out_pitch = (int) tvw_array_channels_last_pitch (y),
  };

  if (call->cls == &tvw_op_max_pool2d)
    tvw_kernel_max_pool2d (&pp, x->data, y->data, call->n_threads);
  else if (call->cls == &tvw_op_avg_pool2d)
    tvw_kernel_avg_pool2d (&pp, x->data, y->data, call->n_threads);
  else
    tvw_kernel_adaptive_avg_pool2d (&pp, x->data, y->data, call->n_threads);
}

/* The kernels write output pixels any pitch apart. */
static gboolean
pool_writes_pitched (const TvwOpCall *call)
{
  return TRUE;
}

const TvwOpClass tvw_op_max_pool2d = {
  .name = "max_pool2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = pool_infer,
  .writes_pitched = pool_writes_pitched,
  .run = pool_run,
};

const TvwOpClass tvw_op_avg_pool2d = {
  .name = "avg_pool2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = pool_infer,
  .writes_pitched = pool_writes_pitched,
  .run = pool_run,
};

const TvwOpClass tvw_op_adaptive_avg_pool2d = {
  .name = "adaptive_avg_pool2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = pool_infer,
  .writes_pitched = pool_writes_pitched,
  .run = pool_run,
};

static TvwVal
pool (TvwNet           *net,
      const TvwOpClass *cls,
      TvwVal            x,
      const TvwPool2dParams *params)
{
  TvwNodeSpec node = {
    .cls = cls,
    .params = params, .params_size = sizeof *params,
    .n_in = 1, .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}

TvwVal
tvw_net_max_pool2d (TvwNet   *net,
                    TvwVal    x,
                    int       kernel,
                    int       stride,
                    int       padding,
                    gboolean  ceil_mode)
{
  TvwPool2dParams p = { kernel, stride, padding, ceil_mode, FALSE };

  return pool (net, &tvw_op_max_pool2d, x, &p);
}

TvwVal
tvw_net_avg_pool2d (TvwNet   *net,
                    TvwVal    x,
                    int       kernel,
                    int       stride,
                    int       padding,
                    gboolean  ceil_mode,
                    gboolean  count_include_pad)
{
  TvwPool2dParams p = { kernel, stride, padding, ceil_mode, count_include_pad };

  return pool (net, &tvw_op_avg_pool2d, x, &p);
}

TvwVal
tvw_net_adaptive_avg_pool2d (TvwNet *net,
                             TvwVal  x,
                             int     out_h,
                             int     out_w)
{
  TvwPool2dParams p = { .out_h = out_h, .out_w = out_w };

  return pool (net, &tvw_op_adaptive_avg_pool2d, x, &p);
}
