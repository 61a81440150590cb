/* tvw-op-quant.c — quantize_per_tensor and dequantize
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * As PyTorch's CPU kernels (fbgemm): q = clamp (nearbyint (x · (1 / scale))
 * + zero_point) with the inverse scale in float and ties to even, and
 * x = (q − zero_point) · scale, per tensor or per channel along the
 * array's qaxis.
 */

#include "config.h"

#include <math.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

static gboolean
quantize_infer (TvwOpCall  *call,
                GError    **error)
{
  const TvwQuantizeParams *p = call->params;
  const TvwArray *x = &call->in[0];
  TvwArray *y = &call->out[0];
  const int qmin = p->elem == TVW_ELEM_U8 ? 0 : -128, qmax = p->elem == TVW_ELEM_U8 ? 255 : 127;

  if (!tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (p->elem != TVW_ELEM_U8 && p->elem != TVW_ELEM_I8)
    {
      tvw_op_set_invalid (call, error, "quantizes to uint8 or int8, not %s",
                          tvw_elem_name (p->elem));
      return FALSE;
    }
  if (!(p->scale > 0) || !isfinite (p->scale) || p->zero_point < qmin || p->zero_point > qmax)
    {
      tvw_op_set_invalid (call, error, "scale %g and zero point %d do not fit %s",
                          p->scale, p->zero_point, tvw_elem_name (p->elem));
      return FALSE;
    }

  tvw_array_init (y, p->elem, x->rank, x->shape);
  y->quantized = TRUE;
  y->scale = p->scale;
  y->zero_point = p->zero_point;
  y->qaxis = -1;
  return TRUE;
}

static void
quantize_range (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const TvwOpCall *call = data;
  const TvwQuantizeParams *p = call->params;
  const float *x = call->in[0].data;
  const float inv = 1.f / (float) p->scale;
  const float zp = (float) p->zero_point;

  if (p->elem == TVW_ELEM_U8)
    {
      guint8 *y = call->out[0].data;

      for (gsize i = begin; i < end; i++)
        y[i] = (guint8) CLAMP (nearbyintf (x[i] * inv) + zp, 0.f, 255.f);
    }
  else
    {
      gint8 *y = call->out[0].data;

      for (gsize i = begin; i < end; i++)
        y[i] = (gint8) CLAMP (nearbyintf (x[i] * inv) + zp, -128.f, 127.f);
    }
}

static void
quantize_run (TvwOpCall *call)
{
  gint64 n = tvw_array_numel (&call->out[0]);

  tvw_parallel_range ((gsize) n, n < 65536 ? 1 : call->n_threads, quantize_range, call);
}

const TvwOpClass tvw_op_quantize = {
  .name = "quantize",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = quantize_infer,
  .run = quantize_run,
};

static gboolean
dequantize_infer (TvwOpCall  *call,
                  GError    **error)
{
  const TvwArray *x = &call->in[0];

  if ((x->elem != TVW_ELEM_U8 && x->elem != TVW_ELEM_I8) || !x->quantized)
    {
      tvw_op_set_error (call, error, "input is %s%s, expected a quantized uint8 or int8",
                        x->quantized ? "quantized " : "", tvw_elem_name (x->elem));
      return FALSE;
    }
  if (x->qaxis >= x->rank || (x->qaxis >= 0 && (x->scales == NULL || x->zero_points == NULL)))
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_op_set_invalid (call, error, "per-channel axis %d of %s without its scales",
                          x->qaxis, xs);
      return FALSE;
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, x->rank, x->shape);
  return TRUE;
}

typedef struct
{
  const TvwOpCall *call;
  gint64           inner;   /* elements after qaxis (per channel) */
} DequantJob;

static void
dequantize_range (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const DequantJob *job = data;
  const TvwArray *x = &job->call->in[0];
  float *y = job->call->out[0].data;
  const gint64 channels = x->qaxis >= 0 ? x->shape[x->qaxis] : 1;

  for (gsize i = begin; i < end; i++)
    {
      const gint64 c = x->qaxis >= 0 ? (gint64) i / job->inner % channels : 0;
      const float q = x->elem == TVW_ELEM_U8 ? ((const guint8 *) x->data)[i]
                                             : ((const gint8 *) x->data)[i];

      if (x->qaxis >= 0)
        y[i] = (q - (float) x->zero_points[c]) * x->scales[c];
      else
        y[i] = (float) ((q - (float) x->zero_point) * x->scale);
    }
}

static void
dequantize_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0];
  DequantJob job = { call, 1 };
  gint64 n = tvw_array_numel (x);

  for (int i = x->qaxis + 1; x->qaxis >= 0 && i < x->rank; i++)
    job.inner *= x->shape[i];
  tvw_parallel_range ((gsize) n, n < 65536 ? 1 : call->n_threads, dequantize_range, &job);
}

const TvwOpClass tvw_op_dequantize = {
  .name = "dequantize",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = dequantize_infer,
  .run = dequantize_run,
};

TvwVal
tvw_net_quantize (TvwNet  *net,
                  TvwVal   x,
                  double   scale,
                  gint32   zero_point,
                  TvwElem  elem)
{
  const TvwQuantizeParams p = { scale, zero_point, elem };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_quantize,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_dequantize (TvwNet *net,
                    TvwVal  x)
{
  const int unused = 0;
  const TvwNodeSpec spec = {
    .cls = &tvw_op_dequantize,
    .params = &unused,
    .params_size = sizeof unused,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}
