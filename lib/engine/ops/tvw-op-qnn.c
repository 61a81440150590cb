/* tvw-op-qnn.c — the modules of a converted (int8) torchvision model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torch.ao.nn.quantized as torchvision's quantized models use them:
 * Quantize (the QuantStub), Conv2d / ConvReLU2d (grouped and depthwise
 * too), Linear, FloatFunctional's add / add_relu / cat, and max, average
 * and adaptive average pooling on quint8 maps.  Activations are quint8,
 * per tensor; weights qint8, per tensor or per output channel.  A
 * module's output scale and zero point are weights (“@name.scale”,
 * “@name.zero_point”), so an output's quantization is only known after
 * prepare: infer gives the real one once the op is prepared (the executor
 * infers again when it plans) and scale 1, zero point 0 before that.
 * Kernels read the input's quantization from the input array.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-engine-threads-private.h"
#include "tvw-kernels-qconv-private.h"
#include "tvw-op-qnn-private.h"
#include "tvw-ops-private.h"

/* What every prepared op here starts with: its output's quantization. */
typedef struct
{
  double scale;
  int    zero_point;
} QOut;

gboolean
tvw_qnn_check_input (const TvwOpCall  *call,
                     int               i,
                     GError          **error)
{
  const TvwArray *x = &call->in[i];

  if (x->elem != TVW_ELEM_U8 || !x->quantized || x->qaxis >= 0)
    {
      tvw_op_set_error (call, error, "input %d is %s%s, expected a quint8 tensor quantized "
                        "per tensor", i, x->quantized ? "quantized " : "", tvw_elem_name (x->elem));
      return FALSE;
    }
  return TRUE;
}

static void
set_qoutput (const TvwOpCall *call,
             TvwArray        *y)
{
  const QOut *q = call->prepared;

  y->quantized = TRUE;
  y->qaxis = -1;
  y->scale = q != NULL ? q->scale : 1.0;
  y->zero_point = q != NULL ? q->zero_point : 0;
}

/* The module's “scale” and “zero_point” (weights @i and @i + 1). */
static gboolean
read_qout (const TvwOpCall  *call,
           int               i,
           QOut             *q,
           GError          **error)
{
  const float scale = *(const float *) call->weights[i].data;
  const float zero_point = *(const float *) call->weights[i + 1].data;

  if (!(scale > 0) || !isfinite (scale) || !(zero_point >= 0 && zero_point <= 255) ||
      zero_point != floorf (zero_point))
    {
      tvw_op_set_invalid (call, error, "output scale %g and zero point %g do not fit quint8",
                          scale, zero_point);
      return FALSE;
    }
  q->scale = scale;
  q->zero_point = (int) zero_point;
  return TRUE;
}

/* ---- Quantize: the QuantStub ------------------------------------------ */

static gboolean
qstub_infer (TvwOpCall  *call,
             GError    **error)
{
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  tvw_array_init (&call->out[0], TVW_ELEM_U8, x->rank, x->shape);
  set_qoutput (call, &call->out[0]);
  return TRUE;
}

static gboolean
qout_prepare (TvwOpCall  *call,
              GError    **error)
{
  g_autofree QOut *q = g_new0 (QOut, 1);

  /* The output's scale and zero point are the last two weights. */
  if (!read_qout (call, call->n_weights - 2, q, error))
    return FALSE;
  call->prepared = g_steal_pointer (&q);
  return TRUE;
}

static void
prepared_release (TvwOpCall *call)
{
  g_clear_pointer (&call->prepared, g_free);
}

static void
qstub_range (gpointer data,
             gsize    begin,
             gsize    end,
             int      thread)
{
  const TvwOpCall *call = data;
  const QOut *q = call->prepared;
  const float *x = call->in[0].data;
  guint8 *y = call->out[0].data;
  const float inv = 1.f / (float) q->scale;

  for (gsize i = begin; i < end; i++)
    y[i] = tvw_quantize_u8 (x[i], inv, q->zero_point);
}

/* An elementwise op's ranges over its output, on one thread below 64 Ki
 * elements. */
static void
run_elementwise (TvwOpCall    *call,
                 TvwRangeFunc  range)
{
  gint64 n = tvw_array_numel (&call->out[0]);

  tvw_parallel_range ((gsize) n, n < 65536 ? 1 : call->n_threads, range, call);
}

static void
qstub_run (TvwOpCall *call)
{
  run_elementwise (call, qstub_range);
}

const TvwOpClass tvw_op_quantize_stub = {
  .name = "quantize_stub",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = qstub_infer,
  .prepare = qout_prepare,
  .release = prepared_release,
  .run = qstub_run,
};

/* ---- Conv2d, ConvReLU2d and Linear ------------------------------------ */

enum { W_WEIGHT, W_SCALES, W_ZERO_POINTS, W_BIAS, W_OUT_SCALE, W_OUT_ZERO_POINT, N_QCONV_WEIGHTS };

typedef struct
{
  QOut         out;
  gboolean     depthwise;
  const float *weight;   /* qint8 values as floats, as declared */
  float       *owned_weight;
  float       *w_scale;  /* [cout] */
  gint32      *w_zero;   /* [cout], NULL when all are 0 */
  float       *bias;     /* [cout], float, 0 without one */
  gint32      *col_sum;  /* [cout], filled by pack */
  /* For the input scale last seen: sx·sw/sy and bias/sy. */
  double       mult_for;
  float       *mult;
  float       *bias_q;
} QConvPrepared;

gboolean
tvw_qconv_infer (TvwOpCall  *call,
                 GError    **error)
{
  const TvwQConvOpParams *p = call->params;
  const TvwConvSpec *s = &p->spec;
  const TvwArray *x = &call->in[0];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_qnn_check_input (call, 0, error))
    return FALSE;
  if (x->shape[1] != p->cin)
    {
      char have[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "expects %d input channels, got a tensor of shape %s",
                        p->cin, tvw_array_format_shape (x, have));
      return FALSE;
    }
  shape[0] = x->shape[0];
  shape[1] = p->cout;
  shape[2] = (x->shape[2] + 2 * s->pad_h - (gint64) s->dilation_h * (s->kernel_h - 1) - 1) /
             s->stride_h + 1;
  shape[3] = (x->shape[3] + 2 * s->pad_w - (gint64) s->dilation_w * (s->kernel_w - 1) - 1) /
             s->stride_w + 1;
  if (x->shape[2] + 2 * s->pad_h < (gint64) s->dilation_h * (s->kernel_h - 1) + 1 ||
      x->shape[3] + 2 * s->pad_w < (gint64) s->dilation_w * (s->kernel_w - 1) + 1)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The input is too small for this architecture: %s gets a %" G_GINT64_FORMAT
                   "×%" G_GINT64_FORMAT " map and would produce an empty one",
                   call->name != NULL ? call->name : "a convolution", x->shape[2], x->shape[3]);
      return FALSE;
    }
  tvw_array_init (&call->out[0], TVW_ELEM_U8, 4, shape);
  set_qoutput (call, &call->out[0]);
  return TRUE;
}

gboolean
tvw_qlinear_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwQConvOpParams *p = call->params;
  const TvwArray *x = &call->in[0];
  const gint64 shape[2] = { x->shape[0], p->cout };

  /* [N, cin], or the N×cin×1×1 map of an average pool before flatten. */
  if (!tvw_qnn_check_input (call, 0, error))
    return FALSE;
  if (!((x->rank == 2 && x->shape[1] == p->cin) ||
        (x->rank == 4 && x->shape[1] == p->cin && x->shape[2] == 1 && x->shape[3] == 1)))
    {
      char have[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "expects N×%d input features, got a tensor of shape %s",
                        p->cin, tvw_array_format_shape (x, have));
      return FALSE;
    }
  tvw_array_init (&call->out[0], TVW_ELEM_U8, 2, shape);
  set_qoutput (call, &call->out[0]);
  return TRUE;
}

void
tvw_qconv_release (TvwOpCall *call)
{
  QConvPrepared *prep = call->prepared;

  if (prep == NULL)
    return;
  g_free (prep->owned_weight);
  g_free (prep->w_scale);
  g_free (prep->w_zero);
  g_free (prep->bias);
  g_free (prep->col_sum);
  g_free (prep->mult);
  g_free (prep->bias_q);
  g_clear_pointer (&call->prepared, g_free);
}

/* Takes @owned_weight (NULL: @weight is the bound weight). */
static gboolean
qconv_setup (TvwOpCall    *call,
             const float  *weight,
             float        *owned_weight,
             const float  *scales,
             const float  *zero_points,
             const float  *bias,
             const QOut   *out,
             GError      **error)
{
  const TvwQConvOpParams *p = call->params;
  QConvPrepared *prep = g_new0 (QConvPrepared, 1);
  gboolean any_zero = FALSE;

  call->prepared = prep;
  prep->out = *out;
  prep->weight = weight;
  prep->owned_weight = owned_weight;
  prep->depthwise = p->spec.groups > 1 && p->spec.groups == p->cin && p->spec.groups == p->cout;
  prep->w_scale = g_new (float, p->cout);
  prep->w_zero = g_new (gint32, p->cout);
  prep->bias = g_new0 (float, p->cout);
  prep->col_sum = g_new0 (gint32, p->cout);
  prep->mult = g_new (float, p->cout);
  prep->bias_q = g_new (float, p->cout);
  for (int c = 0; c < p->cout; c++)
    {
      if (!(scales[c] > 0) || !isfinite (scales[c]) || !(fabsf (zero_points[c]) <= 128))
        {
          tvw_op_set_invalid (call, error, "weight channel %d has scale %g and zero point %g",
                              c, scales[c], zero_points[c]);
          tvw_qconv_release (call);
          return FALSE;
        }
      prep->w_scale[c] = scales[c];
      prep->w_zero[c] = (gint32) zero_points[c];
      any_zero |= prep->w_zero[c] != 0;
      if (bias != NULL)
        prep->bias[c] = bias[c];
    }
  if (!any_zero)
    g_clear_pointer (&prep->w_zero, g_free);
  return TRUE;
}

static gboolean
qconv_prepare (TvwOpCall  *call,
               GError    **error)
{
  QOut out;

  if (!read_qout (call, W_OUT_SCALE, &out, error))
    return FALSE;
  return qconv_setup (call, call->weights[W_WEIGHT].data, NULL, call->weights[W_SCALES].data,
                      call->weights[W_ZERO_POINTS].data, call->weights[W_BIAS].data, &out,
                      error);
}

gboolean
tvw_qconv_prepare_converted (TvwOpCall    *call,
                             float        *weight,
                             const float  *scales,
                             const float  *zero_points,
                             const float  *bias,
                             double        out_scale,
                             int           out_zero_point,
                             GError      **error)
{
  const QOut out = { out_scale, out_zero_point };

  return qconv_setup (call, weight, weight, scales, zero_points, bias, &out, error);
}

gsize
tvw_qconv_packed_bytes (const TvwOpCall *call)
{
  const TvwQConvOpParams *p = call->params;
  const QConvPrepared *prep = call->prepared;
  const int taps = p->spec.kernel_h * p->spec.kernel_w;
  const int groups = p->spec.groups;

  if (prep->depthwise)
    return (gsize) taps * p->cout * sizeof (gint16);
  return groups * tvw_qgemm_packed_bytes (taps * (p->cin / groups), p->cout / groups);
}

int
tvw_qconv_pack_pieces (const TvwOpCall *call)
{
  return 1;
}

void
tvw_qconv_pack (const TvwOpCall *call,
                int              begin,
                int              end)
{
  const TvwQConvOpParams *p = call->params;
  QConvPrepared *prep = call->prepared;
  const float *w = prep->weight;
  const int taps = p->spec.kernel_h * p->spec.kernel_w;
  const int groups = p->spec.groups;
  const int cin_g = p->cin / groups, cout_g = p->cout / groups;
  const gsize k = (gsize) taps * cin_g;

  if (prep->depthwise)
    {
      gint16 *packed = call->packed;

      for (int c = 0; c < p->cout; c++)
        for (int t = 0; t < taps; t++)
          packed[(gsize) t * p->cout + c] =
            (gint16) (CLAMP (nearbyintf (w[(gsize) c * taps + t]), -128.f, 127.f) -
                      (prep->w_zero != NULL ? prep->w_zero[c] : 0));
      return;
    }

  for (int g = 0; g < groups; g++)
    tvw_qgemm_pack (w + (gsize) g * cout_g * k, cout_g, cin_g, taps,
                    (gint8 *) call->packed + (gsize) g * tvw_qgemm_packed_bytes ((int) k, cout_g),
                    prep->col_sum + (gsize) g * cout_g);
}

static void
qconv_kernel_params (const TvwOpCall *call,
                     TvwQConvParams  *kp)
{
  const TvwQConvOpParams *p = call->params;
  const QConvPrepared *prep = call->prepared;
  const TvwConvSpec *s = &p->spec;
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  const gboolean linear = y->rank == 2;

  *kp = (TvwQConvParams) {
    .n = (int) x->shape[0], .cin = p->cin, .cout = p->cout,
    .h = linear ? 1 : (int) x->shape[2], .w = linear ? 1 : (int) x->shape[3],
    .oh = linear ? 1 : (int) y->shape[2], .ow = linear ? 1 : (int) y->shape[3],
    .kh = s->kernel_h, .kw = s->kernel_w, .sh = s->stride_h, .sw = s->stride_w,
    .ph = s->pad_h, .pw = s->pad_w, .dh = s->dilation_h, .dw = s->dilation_w,
    .groups = s->groups,
  };
  if (prep == NULL)
    return;
  kp->depthwise = prep->depthwise;
  kp->weight = call->packed;
  kp->col_sum = prep->col_sum;
  kp->w_zero = prep->w_zero;
  kp->mult = prep->mult;
  kp->bias = prep->bias_q;
  kp->x_zero = x->zero_point;
  kp->y_zero = prep->out.zero_point;
  kp->y_min = p->relu ? prep->out.zero_point : 0;
  kp->y_max = 255;
}

gsize
tvw_qconv_scratch (const TvwOpCall *call)
{
  TvwQConvParams kp;

  qconv_kernel_params (call, &kp);
  kp.depthwise = kp.groups > 1 && kp.groups == kp.cin && kp.groups == kp.cout;
  return tvw_qconv_scratch_bytes (&kp);
}

void
tvw_qconv_run (TvwOpCall *call)
{
  const TvwQConvOpParams *p = call->params;
  QConvPrepared *prep = call->prepared;
  const double sx = call->in[0].scale;
  TvwQConvParams kp;

  /* The float multipliers for this input scale. */
  if (prep->mult_for != sx)
    {
      for (int c = 0; c < p->cout; c++)
        {
          prep->mult[c] = (float) (sx * prep->w_scale[c] / prep->out.scale);
          prep->bias_q[c] = (float) (prep->bias[c] / prep->out.scale);
        }
      prep->mult_for = sx;
    }

  qconv_kernel_params (call, &kp);
  tvw_kernel_qconv2d (&kp, call->in[0].data, call->out[0].data, call->scratch, call->n_threads);
}

const TvwOpClass tvw_op_qconv2d = {
  .name = "qconv2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = tvw_qconv_infer,
  .prepare = qconv_prepare,
  .release = tvw_qconv_release,
  .packed_bytes = tvw_qconv_packed_bytes,
  .pack_pieces = tvw_qconv_pack_pieces,
  .pack = tvw_qconv_pack,
  .scratch = tvw_qconv_scratch,
  .run = tvw_qconv_run,
};

const TvwOpClass tvw_op_qlinear = {
  .name = "qlinear",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = tvw_qlinear_infer,
  .prepare = qconv_prepare,
  .release = tvw_qconv_release,
  .packed_bytes = tvw_qconv_packed_bytes,
  .pack_pieces = tvw_qconv_pack_pieces,
  .pack = tvw_qconv_pack,
  .scratch = tvw_qconv_scratch,
  .run = tvw_qconv_run,
};

/* ---- FloatFunctional add and add_relu ---------------------------------- */

static gboolean
qadd_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwArray *a = &call->in[0];

  if (!tvw_qnn_check_input (call, 0, error) || !tvw_qnn_check_input (call, 1, error))
    return FALSE;
  if (!tvw_array_same_shape (a, &call->in[1]))
    {
      char as[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "cannot add %s and %s", tvw_array_format_shape (a, as),
                        tvw_array_format_shape (&call->in[1], bs));
      return FALSE;
    }
  tvw_array_init (&call->out[0], TVW_ELEM_U8, a->rank, a->shape);
  set_qoutput (call, &call->out[0]);
  return TRUE;
}

static void
qadd_range (gpointer data,
            gsize    begin,
            gsize    end,
            int      thread)
{
  const TvwOpCall *call = data;
  const TvwQAddParams *p = call->params;
  const QOut *q = call->prepared;
  const TvwArray *a = &call->in[0], *b = &call->in[1];

  tvw_kernel_qadd ((const guint8 *) a->data + begin, (float) a->scale, a->zero_point,
                   (const guint8 *) b->data + begin, (float) b->scale, b->zero_point,
                   (guint8 *) call->out[0].data + begin, end - begin, (float) q->scale,
                   q->zero_point, p->relu);
}

static void
qadd_run (TvwOpCall *call)
{
  run_elementwise (call, qadd_range);
}

const TvwOpClass tvw_op_qadd = {
  .name = "qadd",
  .flags = TVW_OP_CHANNELS_LAST_ALL,
  .infer = qadd_infer,
  .prepare = qout_prepare,
  .release = prepared_release,
  .run = qadd_run,
};

/* ---- FloatFunctional cat ------------------------------------------------ */

/* torch.ops.quantized.cat (qxs, dim=1, scale, zero_point): an input
 * quantized like the output is copied; any other is requantised as
 * PyTorch's qcat does it, x·s + (−z·s) in one fused multiply-add, then
 * times 1/scale, rounded half to even, plus the zero point. */
static gboolean
qcat_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwArray *in0 = &call->in[0];
  gint64 shape[4];

  if (call->n_in < 1)
    {
      tvw_op_set_invalid (call, error, "nothing to concatenate");
      return FALSE;
    }
  memcpy (shape, in0->shape, sizeof shape);
  shape[1] = 0;
  for (int i = 0; i < call->n_in; i++)
    {
      const TvwArray *x = &call->in[i];

      if (!tvw_op_check_rank (call, i, 4, 4, error) || !tvw_qnn_check_input (call, i, error))
        return FALSE;
      if (x->shape[0] != in0->shape[0] || x->shape[2] != in0->shape[2] ||
          x->shape[3] != in0->shape[3])
        {
          char as[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

          tvw_op_set_error (call, error, "input %d has shape %s, which does not match input 0's "
                            "%s outside dim 1", i, tvw_array_format_shape (x, bs),
                            tvw_array_format_shape (in0, as));
          return FALSE;
        }
      shape[1] += x->shape[1];
    }
  tvw_array_init (&call->out[0], TVW_ELEM_U8, 4, shape);
  set_qoutput (call, &call->out[0]);
  return TRUE;
}

typedef struct
{
  const TvwOpCall *call;
  const guint8    *lut;         /* [n_in][256]: each input's byte requantised */
} QCatJob;

/* Rows are the N·H·W pixels; each input's C_i channels of a pixel go to
 * its slab of the output's, through the input's table. */
static void
qcat_range (gpointer data,
            gsize    begin,
            gsize    end,
            int      thread)
{
  const QCatJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwArray *y = &call->out[0];
  const gint64 h = y->shape[2], w = y->shape[3];

  for (gsize row = begin; row < end; row++)
    {
      const gint64 n = (gint64) row / (h * w), i = (gint64) row / w % h, j = (gint64) row % w;
      guint8 *out = (guint8 *) y->data + n * y->stride[0] + i * y->stride[2] + j * y->stride[3];

      for (int k = 0; k < call->n_in; k++)
        {
          const TvwArray *x = &call->in[k];
          const guint8 *src = (const guint8 *) x->data + n * x->stride[0] + i * x->stride[2] +
                              j * x->stride[3];
          const guint8 *lut = job->lut + k * 256;
          const gint64 c = x->shape[1];

          for (gint64 ch = 0; ch < c; ch++)
            out[ch * y->stride[1]] = lut[src[ch * x->stride[1]]];
          out += c * y->stride[1];
        }
    }
}

static void
qcat_run (TvwOpCall *call)
{
  const QOut *q = call->prepared;
  const TvwArray *y = &call->out[0];
  const gint64 rows = y->shape[0] * y->shape[2] * y->shape[3];
  const float inv = 1.f / (float) q->scale;
  g_autofree guint8 *lut = g_new (guint8, (gsize) call->n_in * 256);
  QCatJob job = { call, lut };

  /* An input byte has 256 values: its requantisation is a table. */
  for (int k = 0; k < call->n_in; k++)
    {
      const TvwArray *x = &call->in[k];
      const float s = (float) x->scale, sz = -(float) x->zero_point * s;
      const gboolean same = x->scale == q->scale && x->zero_point == q->zero_point;

      for (int v = 0; v < 256; v++)
        lut[k * 256 + v] = same ? (guint8) v
                                : tvw_quantize_u8 (fmaf ((float) v, s, sz), inv, q->zero_point);
    }
  tvw_parallel_range ((gsize) rows, rows * y->shape[1] < 65536 ? 1 : call->n_threads,
                      qcat_range, &job);
}

const TvwOpClass tvw_op_qcat = {
  .name = "qcat",
  .flags = TVW_OP_CHANNELS_LAST_ALL,
  .infer = qcat_infer,
  .prepare = qout_prepare,
  .release = prepared_release,
  .run = qcat_run,
};

/* ---- max and adaptive average pooling (the input's quantization) ------ */

static gboolean
qpool_infer (TvwOpCall  *call,
             GError    **error)
{
  const TvwPool2dParams *p = call->params;
  const TvwArray *x = &call->in[0];
  TvwArray *y = &call->out[0];
  gint64 shape[4] = { x->shape[0], x->shape[1], 1, 1 };

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_qnn_check_input (call, 0, error))
    return FALSE;
  if (x->shape[2] <= 0 || x->shape[3] <= 0)
    {
      tvw_op_set_error (call, error, "an empty map cannot be pooled");
      return FALSE;
    }
  if (call->cls != &tvw_op_qadaptive_avg_pool2d)
    {
      shape[2] = tvw_pool_out (x->shape[2], p->kernel, p->stride, p->padding, p->ceil_mode);
      shape[3] = tvw_pool_out (x->shape[3], p->kernel, p->stride, p->padding, p->ceil_mode);
      if (shape[2] <= 0 || shape[3] <= 0)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "The input is too small for this architecture: a pooling layer gets a %"
                       G_GINT64_FORMAT "×%" G_GINT64_FORMAT " map and would produce an empty one",
                       x->shape[2], x->shape[3]);
          return FALSE;
        }
    }
  tvw_array_init (y, TVW_ELEM_U8, 4, shape);
  y->quantized = TRUE;
  y->qaxis = -1;
  y->scale = x->scale;
  y->zero_point = x->zero_point;
  return TRUE;
}

typedef struct
{
  const TvwOpCall *call;
  int              h, w, c, oh, ow;
} QPoolJob;

static void
qmax_rows (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const QPoolJob *job = data;
  const TvwPool2dParams *p = job->call->params;
  const guint8 *x = job->call->in[0].data;
  guint8 *y = job->call->out[0].data;

  for (gsize row = begin; row < end; row++)
    {
      const int oy = (int) (row % job->oh);
      const gsize b = row / job->oh;

      for (int ox = 0; ox < job->ow; ox++)
        {
          guint8 *yp = y + ((b * job->oh + oy) * job->ow + ox) * job->c;

          memset (yp, 0, job->c);
          for (int ky = 0; ky < p->kernel; ky++)
            for (int kx = 0; kx < p->kernel; kx++)
              {
                const int iy = oy * p->stride - p->padding + ky;
                const int ix = ox * p->stride - p->padding + kx;
                const guint8 *xp;

                if (iy < 0 || iy >= job->h || ix < 0 || ix >= job->w)
                  continue;
                xp = x + ((b * job->h + iy) * job->w + ix) * job->c;
                for (int c = 0; c < job->c; c++)
                  yp[c] = MAX (yp[c], xp[c]);
              }
        }
    }
}

/* PyTorch's quantized avg_pool2d (count_include_pad): the int32 sum of
 * (x − zx) over the window's input elements times 1/kernel², rounded to
 * nearest even, plus zx. */
static void
qavg_rows (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const QPoolJob *job = data;
  const TvwPool2dParams *p = job->call->params;
  const TvwArray *x = &job->call->in[0];
  guint8 *y = job->call->out[0].data;
  const float mult = 1.f / (float) (p->kernel * p->kernel);
  g_autofree gint32 *acc = g_new (gint32, job->c);

  for (gsize row = begin; row < end; row++)
    {
      const int oy = (int) (row % job->oh);
      const gsize b = row / job->oh;

      for (int ox = 0; ox < job->ow; ox++)
        {
          guint8 *yp = y + ((b * job->oh + oy) * job->ow + ox) * job->c;
          int count = 0;

          memset (acc, 0, job->c * sizeof *acc);
          for (int ky = 0; ky < p->kernel; ky++)
            for (int kx = 0; kx < p->kernel; kx++)
              {
                const int iy = oy * p->stride - p->padding + ky;
                const int ix = ox * p->stride - p->padding + kx;
                const guint8 *xp;

                if (iy < 0 || iy >= job->h || ix < 0 || ix >= job->w)
                  continue;
                xp = (const guint8 *) x->data + ((b * job->h + iy) * job->w + ix) * job->c;
                for (int c = 0; c < job->c; c++)
                  acc[c] += xp[c];
                count++;
              }
          for (int c = 0; c < job->c; c++)
            yp[c] = (guint8) CLAMP ((int) nearbyintf ((float) (acc[c] - x->zero_point * count) *
                                                      mult) + x->zero_point, 0, 255);
        }
    }
}

/* PyTorch's quantized adaptive average pool to 1×1: the int32 sum of
 * (x − zx) times 1/size, rounded to nearest even, plus zx. */
static void
qavg_images (gpointer data,
             gsize    begin,
             gsize    end,
             int      thread)
{
  const QPoolJob *job = data;
  const TvwArray *x = &job->call->in[0];
  guint8 *y = job->call->out[0].data;
  const int size = job->h * job->w;
  const float mult = 1.f / (float) size;

  for (gsize b = begin; b < end; b++)
    for (int c = 0; c < job->c; c++)
      {
        const guint8 *xp = (const guint8 *) x->data + b * size * job->c + c;
        gint32 acc = -x->zero_point * size;

        for (int i = 0; i < size; i++)
          acc += xp[(gsize) i * job->c];
        y[b * job->c + c] = (guint8) CLAMP ((int) nearbyintf ((float) acc * mult) + x->zero_point,
                                            0, 255);
      }
}

static void
qpool_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  QPoolJob job = {
    call, (int) x->shape[2], (int) x->shape[3], (int) x->shape[1],
    (int) y->shape[2], (int) y->shape[3],
  };

  if (call->cls == &tvw_op_qmax_pool2d)
    tvw_parallel_range ((gsize) (x->shape[0] * job.oh), call->n_threads, qmax_rows, &job);
  else if (call->cls == &tvw_op_qavg_pool2d)
    tvw_parallel_range ((gsize) (x->shape[0] * job.oh), call->n_threads, qavg_rows, &job);
  else
    tvw_parallel_range ((gsize) x->shape[0], 1, qavg_images, &job);
}

const TvwOpClass tvw_op_qmax_pool2d = {
  .name = "qmax_pool2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = qpool_infer,
  .run = qpool_run,
};

const TvwOpClass tvw_op_qavg_pool2d = {
  .name = "qavg_pool2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = qpool_infer,
  .run = qpool_run,
};

const TvwOpClass tvw_op_qadaptive_avg_pool2d = {
  .name = "qadaptive_avg_pool2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = qpool_infer,
  .run = qpool_run,
};

/* ---- constructors ------------------------------------------------------ */

static void
qout_weights (TvwWeightSpec *w,
              int            rank)
{
  w[0] = (TvwWeightSpec) { "scale", rank, { 1 }, TVW_WEIGHT_BUFFER | TVW_WEIGHT_INIT_ONES };
  w[1] = (TvwWeightSpec) { "zero_point", rank, { 1 }, TVW_WEIGHT_BUFFER };
}

TvwVal
tvw_net_quantize_stub (TvwNet     *net,
                       TvwVal      x,
                       const char *name)
{
  const int unused = 0;
  TvwWeightSpec weights[2];
  TvwNodeSpec spec = {
    .cls = &tvw_op_quantize_stub, .name = name,
    .params = &unused, .params_size = sizeof unused,
    .n_in = 1, .in = &x,
    .n_weights = 2, .weights = weights,
    .n_out = 1,
  };

  /* torch.ao.quantization.QuantStub's Quantize keeps them as [1]. */
  qout_weights (weights, 1);
  return tvw_net_add_node (net, &spec, NULL);
}

/* A quantized Conv2d's or Linear's weights (rank 4 or 2). */
static void
qconv_weights (TvwWeightSpec          *weights,
               const TvwQConvOpParams *params,
               int                     weight_rank)
{
  const TvwConvSpec *s = &params->spec;

  weights[W_WEIGHT] = (TvwWeightSpec) {
    "weight", weight_rank,
    { params->cout, params->cin / MAX (s->groups, 1), s->kernel_h, s->kernel_w },
    TVW_WEIGHT_QUANTIZED
  };
  weights[W_SCALES] = (TvwWeightSpec) {
    "weight.q_scales", 1, { params->cout }, TVW_WEIGHT_BUFFER | TVW_WEIGHT_INIT_ONES
  };
  weights[W_ZERO_POINTS] = (TvwWeightSpec) {
    "weight.q_zero_points", 1, { params->cout }, TVW_WEIGHT_BUFFER
  };
  weights[W_BIAS] = (TvwWeightSpec) { "bias", 1, { params->cout }, TVW_WEIGHT_OPTIONAL };
  qout_weights (weights + W_OUT_SCALE, 0);
}

static TvwVal
qconv_node (TvwNet                 *net,
            const TvwOpClass       *cls,
            TvwVal                  x,
            const char             *name,
            const TvwQConvOpParams *params,
            int                     weight_rank)
{
  const TvwConvSpec *s = &params->spec;
  TvwWeightSpec weights[N_QCONV_WEIGHTS];
  TvwNodeSpec spec = {
    .cls = cls, .name = name,
    .params = params, .params_size = sizeof *params,
    .n_in = 1, .in = &x,
    .n_weights = N_QCONV_WEIGHTS, .weights = weights,
    .n_out = 1,
  };

  qconv_weights (weights, params, weight_rank);
  /* Model code, not user data, decides these. */
  g_return_val_if_fail (s->groups > 0, -1);
  g_return_val_if_fail (params->cin % s->groups == 0 && params->cout % s->groups == 0, -1);

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_qconv2d (TvwNet            *net,
                 TvwVal             x,
                 const char        *name,
                 int                out_channels,
                 const TvwConvSpec *spec,
                 gboolean           relu)
{
  const TvwQConvOpParams params = {
    .spec = *spec, .cin = tvw_net_channels (net, x), .cout = out_channels, .relu = relu,
  };

  return qconv_node (net, &tvw_op_qconv2d, x, name, &params, 4);
}

TvwVal
tvw_net_qlinear (TvwNet     *net,
                 TvwVal      x,
                 const char *name,
                 int         out_features,
                 gboolean    relu)
{
  const TvwQConvOpParams params = {
    .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, TRUE },
    .cin = tvw_net_channels (net, x), .cout = out_features, .relu = relu,
  };

  return qconv_node (net, &tvw_op_qlinear, x, name, &params, 2);
}

void
tvw_net_declare_qconv (TvwNet     *net,
                       const char *name,
                       int         in_channels,
                       int         out_channels,
                       int         kernel,
                       gboolean    counted)
{
  const TvwQConvOpParams params = {
    .spec = { MAX (kernel, 1), MAX (kernel, 1), 1, 1, 0, 0, 1, 1, 1, TRUE },
    .cin = in_channels, .cout = out_channels,
  };
  TvwWeightSpec weights[N_QCONV_WEIGHTS];

  qconv_weights (weights, &params, kernel > 0 ? 4 : 2);
  if (!counted)
    for (int i = 0; i < N_QCONV_WEIGHTS; i++)
      weights[i].flags |= TVW_WEIGHT_BUFFER;
  tvw_net_declare_weights (net, name, N_QCONV_WEIGHTS, weights);
}

TvwVal
tvw_net_qadd (TvwNet     *net,
              TvwVal      a,
              TvwVal      b,
              const char *name,
              gboolean    relu)
{
  const TvwQAddParams params = { relu };
  const TvwVal in[2] = { a, b };
  TvwWeightSpec weights[2];
  TvwNodeSpec spec = {
    .cls = &tvw_op_qadd, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = 2, .in = in,
    .n_weights = 2, .weights = weights,
    .n_out = 1,
  };

  qout_weights (weights, 0);
  return tvw_net_add_node (net, &spec, NULL);
}

/* A pooling node of @cls with @params. */
static TvwVal
qpool_node (TvwNet                *net,
            const TvwOpClass      *cls,
            TvwVal                 x,
            const TvwPool2dParams *params)
{
  TvwNodeSpec spec = {
    .cls = cls,
    .params = params, .params_size = sizeof *params,
    .n_in = 1, .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_qmax_pool2d (TvwNet  *net,
                     TvwVal   x,
                     int      kernel,
                     int      stride,
                     int      padding,
                     gboolean ceil_mode)
{
  const TvwPool2dParams params = {
    .kernel = kernel, .stride = stride, .padding = padding, .ceil_mode = ceil_mode,
  };

  return qpool_node (net, &tvw_op_qmax_pool2d, x, &params);
}

TvwVal
tvw_net_qavg_pool2d (TvwNet *net,
                     TvwVal  x,
                     int     kernel,
                     int     stride,
                     int     padding)
{
  const TvwPool2dParams params = {
    .kernel = kernel, .stride = stride, .padding = padding, .count_include_pad = TRUE,
  };

  return qpool_node (net, &tvw_op_qavg_pool2d, x, &params);
}

TvwVal
tvw_net_qadaptive_avg_pool2d (TvwNet *net,
                              TvwVal  x)
{
  const TvwPool2dParams params = { .out_h = 1, .out_w = 1 };

  return qpool_node (net, &tvw_op_qadaptive_avg_pool2d, x, &params);
}

TvwVal
tvw_net_qcat (TvwNet       *net,
              int           n_in,
              const TvwVal *inputs,
              const char   *name)
{
  const TvwDimParams params = { 1 };
  TvwWeightSpec weights[2];
  TvwNodeSpec spec = {
    .cls = &tvw_op_qcat, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = n_in, .in = inputs,
    .n_weights = 2, .weights = weights,
    .n_out = 1,
  };

  qout_weights (weights, 0);
  return tvw_net_add_node (net, &spec, NULL);
}
