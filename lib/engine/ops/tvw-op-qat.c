/* tvw-op-qat.c — quantization-aware-training modules, converted on load
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision's quantized MobileNet V3 checkpoint is a QAT state_dict:
 * torchvision prepares the model with prepare_qat, loads it, then runs
 * torch.ao.quantization.convert.  These ops hold the QAT module's keys
 * (float weights, BatchNorm, FakeQuantize observers) and do convert's
 * work in prepare, as PyTorch 1.13 does it:
 *
 *   - ConvBn2d / ConvBnReLU2d: fuse_conv_bn_weights (w · (γ · rsqrt (var
 *     + eps)), (b − mean) · rsqrt (var + eps) · γ + β) in float32;
 *   - the weight FakeQuantize is called once on the folded weight: with
 *     its observer enabled, the moving-average observer takes it in
 *     (min += 0.01 · (min (w) − min), or min (w) when still infinite);
 *   - qparams come from the observers' min_val / max_val (not from the
 *     FakeQuantize's scale buffer): symmetric qint8 weights, scale =
 *     max (|min|, max) / 127.5, at least eps; affine quint8 outputs,
 *     scale = (max⁺ − min⁻) / 255, at least eps, zero point
 *     −round (min⁻ / scale); an observer that saw nothing gives 1 and 0;
 *   - weights are quantized per tensor (the qnnpack QAT qconfig) as
 *     quantize_per_tensor does: round (w · (1 / scale)).
 *
 * The converted convolution or linear is tvw-op-qnn.c's.  The elementwise
 * modules (QuantStub, Hardswish, FloatFunctional add and mul, and the
 * Hardsigmoid whose output PyTorch fixes at 1/256) run as PyTorch's
 * quantized CPU kernels do: inputs dequantized as x · s + (−z · s) in one
 * fused multiply-add, outputs quantized with 1/scale, ties to even.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-engine-threads-private.h"
#include "tvw-kernels-qconv-private.h"
#include "tvw-op-qnn-private.h"
#include "tvw-ops-private.h"

/* MovingAverageMinMaxObserver's default averaging constant (not saved). */
#define AVERAGING_CONSTANT 0.01f

/* A FakeQuantize's keys under “@prefix.”. */
enum
{
  FQ_FAKE_QUANT_ENABLED,
  FQ_OBSERVER_ENABLED,
  FQ_SCALE,
  FQ_ZERO_POINT,
  FQ_EPS,
  FQ_MIN_VAL,
  FQ_MAX_VAL,
  N_FQ
};

static const char * const fq_suffixes[N_FQ] = {
  "fake_quant_enabled", "observer_enabled", "scale", "zero_point",
  "activation_post_process.eps", "activation_post_process.min_val",
  "activation_post_process.max_val",
};

/* Fills @w[0 … N_FQ) for the FakeQuantize “@prefix” (suffixes owned by
 * @names, which the caller frees with g_strfreev ()). */
static void
fake_quantize_weights (TvwWeightSpec  *w,
                       const char     *prefix,
                       char          **names)
{
  for (int i = 0; i < N_FQ; i++)
    {
      const gboolean scalar = i == FQ_MIN_VAL || i == FQ_MAX_VAL;
      guint flags = TVW_WEIGHT_BUFFER;

      names[i] = g_strconcat (prefix, ".", fq_suffixes[i], NULL);
      /* Flags and the zero point, an integer torch recomputes. */
      if (i == FQ_FAKE_QUANT_ENABLED || i == FQ_ZERO_POINT)
        flags |= TVW_WEIGHT_INT;
      /* An untrained net gets scales of 1 rather than 0. */
      if (i == FQ_EPS || i == FQ_SCALE)
        flags |= TVW_WEIGHT_INIT_ONES;
      w[i] = (TvwWeightSpec) { names[i], scalar ? 0 : 1, { 1 }, flags };
    }
}

static gboolean
observer_seen (float min_val,
               float max_val)
{
  return !(isinf (min_val) && min_val > 0 && isinf (max_val) && max_val < 0);
}

/* calculate_qparams () of an affine quint8 observer (0 … 255). */
static gboolean
activation_qparams (const TvwOpCall  *call,
                    const TvwArray   *fq,
                    double           *scale,
                    int              *zero_point,
                    GError          **error)
{
  const float eps = *(const float *) fq[FQ_EPS].data;
  const float min_val = *(const float *) fq[FQ_MIN_VAL].data;
  const float max_val = *(const float *) fq[FQ_MAX_VAL].data;
  float min_neg, max_pos, s, zp;

  if (!observer_seen (min_val, max_val))
    {
      *scale = 1.0;
      *zero_point = 0;
      return TRUE;
    }
  if (!(min_val <= max_val) || !isfinite (min_val) || !isfinite (max_val) || !(eps > 0))
    {
      tvw_op_set_invalid (call, error, "observer range [%g, %g] (eps %g) is not a range",
                          min_val, max_val, eps);
      return FALSE;
    }
  min_neg = MIN (min_val, 0.f);
  max_pos = MAX (max_val, 0.f);
  s = MAX ((max_pos - min_neg) / 255.f, eps);
  zp = CLAMP (0.f - nearbyintf (min_neg / s), 0.f, 255.f);
  if (!isfinite (s))
    {
      tvw_op_set_invalid (call, error, "observer range [%g, %g] gives no scale", min_val,
                          max_val);
      return FALSE;
    }
  *scale = s;
  *zero_point = (int) zp;
  return TRUE;
}

/* ---- ConvBn2d, ConvBnReLU2d, ConvReLU2d, Conv2d and Linear ------------- */

/* Weights: the module's, its FakeQuantizes, then bias and BatchNorm when
 * it has them. */
enum { QW_WEIGHT, QW_WEIGHT_FQ, QW_ACT_FQ = QW_WEIGHT_FQ + N_FQ, QW_REST = QW_ACT_FQ + N_FQ };
enum { BN_WEIGHT, BN_BIAS, BN_MEAN, BN_VAR, BN_TRACKED, N_BN };

static int
bn_index (const TvwQatConvParams *p)
{
  return QW_REST + (p->bias ? 1 : 0);
}

/* fuse_conv_bn_weights () into @w ([cout, k]) and @bias ([cout]). */
static void
fold_batch_norm (const TvwOpCall *call,
                 float           *w,
                 float           *bias,
                 gsize            k)
{
  const TvwQatConvParams *p = call->params;
  const TvwArray *bn = &call->weights[bn_index (p)];
  const float *gamma = bn[BN_WEIGHT].data, *beta = bn[BN_BIAS].data;
  const float *mean = bn[BN_MEAN].data, *var = bn[BN_VAR].data;
  const float eps = (float) p->bn_eps;

  for (int c = 0; c < p->q.cout; c++)
    {
      /* torch.rsqrt is 1 / sqrt in float32, as are the products. */
      const float rsqrt = 1.f / sqrtf (var[c] + eps);
      const float factor = gamma[c] * rsqrt;
      volatile float t;

      for (gsize i = 0; i < k; i++)
        w[c * k + i] *= factor;
      /* ((b − mean) · rsqrt) · γ + β, each rounded (no fused multiply-add). */
      t = (bias[c] - mean[c]) * rsqrt;
      t = t * gamma[c];
      bias[c] = t + beta[c];
    }
}

/* The weight FakeQuantize's forward on @w (its observer only), then its
 * symmetric per-tensor qint8 scale. */
static gboolean
weight_scale (const TvwOpCall  *call,
              const float      *w,
              gsize             n,
              float            *scale,
              GError          **error)
{
  const TvwArray *fq = &call->weights[QW_WEIGHT_FQ];
  const float eps = *(const float *) fq[FQ_EPS].data;
  float min_val = *(const float *) fq[FQ_MIN_VAL].data;
  float max_val = *(const float *) fq[FQ_MAX_VAL].data;
  float max_abs;

  if (*(const float *) fq[FQ_OBSERVER_ENABLED].data == 1.f && n > 0)
    {
      float lo = w[0], hi = w[0];
      volatile float t;

      for (gsize i = 1; i < n; i++)
        {
          lo = MIN (lo, w[i]);
          hi = MAX (hi, w[i]);
        }
      t = AVERAGING_CONSTANT * (lo - min_val);
      min_val = isinf (min_val) ? lo : min_val + t;
      t = AVERAGING_CONSTANT * (hi - max_val);
      max_val = isinf (max_val) ? hi : max_val + t;
    }

  if (!observer_seen (min_val, max_val))
    {
      *scale = 1.f;
      return TRUE;
    }
  max_abs = MAX (-MIN (min_val, 0.f), MAX (max_val, 0.f));
  *scale = MAX (max_abs / 127.5f, eps);
  if (!(min_val <= max_val) || !isfinite (*scale) || !(*scale > 0))
    {
      tvw_op_set_invalid (call, error, "weight observer range [%g, %g] (eps %g) gives no scale",
                          min_val, max_val, eps);
      return FALSE;
    }
  return TRUE;
}

static gboolean
qat_conv_prepare (TvwOpCall  *call,
                  GError    **error)
{
  const TvwQatConvParams *p = call->params;
  const TvwConvSpec *s = &p->q.spec;
  const int cout = p->q.cout;
  const gsize k = (gsize) (p->q.cin / s->groups) * s->kernel_h * s->kernel_w;
  const gsize n = k * cout;
  g_autofree float *w = g_memdup2 (call->weights[QW_WEIGHT].data, n * sizeof (float));
  g_autofree float *bias = g_new0 (float, cout);
  g_autofree float *scales = g_new (float, cout);
  g_autofree float *zero_points = g_new0 (float, cout);
  float scale, inv;
  double out_scale;
  int out_zero_point;

  if (p->bias)
    memcpy (bias, call->weights[QW_REST].data, cout * sizeof (float));
  if (p->bn)
    fold_batch_norm (call, w, bias, k);

  if (!weight_scale (call, w, n, &scale, error) ||
      !activation_qparams (call, &call->weights[QW_ACT_FQ], &out_scale, &out_zero_point, error))
    return FALSE;

  inv = 1.f / scale;
  for (gsize i = 0; i < n; i++)
    w[i] = CLAMP (nearbyintf (w[i] * inv), -128.f, 127.f);
  for (int c = 0; c < cout; c++)
    scales[c] = scale;

  return tvw_qconv_prepare_converted (call, g_steal_pointer (&w), scales, zero_points, bias,
                                      out_scale, out_zero_point, error);
}

const TvwOpClass tvw_op_qat_conv2d = {
  .name = "qat_conv2d",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = tvw_qconv_infer,
  .prepare = qat_conv_prepare,
  .release = tvw_qconv_release,
  .packed_bytes = tvw_qconv_packed_bytes,
  .pack_pieces = tvw_qconv_pack_pieces,
  .pack = tvw_qconv_pack,
  .scratch = tvw_qconv_scratch,
  .run = tvw_qconv_run,
};

const TvwOpClass tvw_op_qat_linear = {
  .name = "qat_linear",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = tvw_qlinear_infer,
  .prepare = qat_conv_prepare,
  .release = tvw_qconv_release,
  .packed_bytes = tvw_qconv_packed_bytes,
  .pack_pieces = tvw_qconv_pack_pieces,
  .pack = tvw_qconv_pack,
  .scratch = tvw_qconv_scratch,
  .run = tvw_qconv_run,
};

/* ---- QuantStub, Hardswish, Hardsigmoid, FloatFunctional add / mul ------ */

typedef struct
{
  double scale;
  int    zero_point;
} QatOut;

static gboolean
qat_eltwise_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwQatEltwiseParams *p = call->params;
  const TvwArray *x = &call->in[p->kind == TVW_QAT_MUL ? 1 : 0];
  const QatOut *q = call->prepared;
  TvwArray *y = &call->out[0];

  if (p->kind == TVW_QAT_QUANTIZE)
    {
      if (!tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
        return FALSE;
    }
  else
    for (int i = 0; i < call->n_in; i++)
      if (!tvw_qnn_check_input (call, i, error))
        return FALSE;

  if (p->kind == TVW_QAT_ADD && !tvw_array_same_shape (&call->in[0], &call->in[1]))
    {
      char as[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "cannot add %s and %s",
                        tvw_array_format_shape (&call->in[0], as),
                        tvw_array_format_shape (&call->in[1], bs));
      return FALSE;
    }
  if (p->kind == TVW_QAT_MUL)
    {
      const TvwArray *s = &call->in[0];

      /* SqueezeExcitation's N×C×1×1 scale times its N×C×H×W input. */
      if (s->rank != 4 || x->rank != 4 || s->shape[0] != x->shape[0] ||
          s->shape[1] != x->shape[1] || s->shape[2] != 1 || s->shape[3] != 1)
        {
          char as[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

          tvw_op_set_error (call, error, "cannot multiply %s by a per-channel %s",
                            tvw_array_format_shape (x, bs), tvw_array_format_shape (s, as));
          return FALSE;
        }
    }

  tvw_array_init (y, TVW_ELEM_U8, x->rank, x->shape);
  y->quantized = TRUE;
  y->qaxis = -1;
  if (p->kind == TVW_QAT_HARDSIGMOID)
    {
      /* quantized hardsigmoid's fixed output: 1/2⁸, zero point 0. */
      y->scale = 0.00390625;
      y->zero_point = 0;
    }
  else
    {
      y->scale = q != NULL ? q->scale : 1.0;
      y->zero_point = q != NULL ? q->zero_point : 0;
    }
  return TRUE;
}

static gboolean
qat_eltwise_prepare (TvwOpCall  *call,
                     GError    **error)
{
  g_autofree QatOut *q = g_new0 (QatOut, 1);

  if (call->n_weights == N_FQ &&
      !activation_qparams (call, call->weights, &q->scale, &q->zero_point, error))
    return FALSE;
  call->prepared = g_steal_pointer (&q);
  return TRUE;
}

static void
qat_eltwise_release (TvwOpCall *call)
{
  g_clear_pointer (&call->prepared, g_free);
}

typedef struct
{
  const TvwOpCall *call;
  guint8           lut[256];    /* unary ops: every input byte's output */
  float            multiplier;  /* mul */
} QatJob;

/* PyTorch's vectorised dequantisation: x · s + (−z · s), one rounding. */
static inline float
dequantize (int   q,
            float scale,
            float scale_neg_zp)
{
  return fmaf ((float) q, scale, scale_neg_zp);
}

static void
qat_eltwise_range (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const QatJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwQatEltwiseParams *p = call->params;
  const TvwArray *y = &call->out[0];
  guint8 *out = y->data;

  switch (p->kind)
    {
    case TVW_QAT_QUANTIZE:
      {
        const float *x = call->in[0].data;
        const float inv = 1.f / (float) y->scale;

        for (gsize i = begin; i < end; i++)
          out[i] = tvw_quantize_u8 (x[i], inv, y->zero_point);
      }
      break;

    case TVW_QAT_HARDSWISH:
    case TVW_QAT_HARDSIGMOID:
      {
        const guint8 *x = call->in[0].data;

        for (gsize i = begin; i < end; i++)
          out[i] = job->lut[x[i]];
      }
      break;

    case TVW_QAT_ADD:
      {
        const TvwArray *a = &call->in[0], *b = &call->in[1];

        tvw_kernel_qadd ((const guint8 *) a->data + begin, (float) a->scale, a->zero_point,
                         (const guint8 *) b->data + begin, (float) b->scale, b->zero_point,
                         out + begin, end - begin, (float) y->scale, y->zero_point, FALSE);
      }
      break;

    case TVW_QAT_MUL:
      {
        /* Both channels-last: the scale is [N, C], the map [N·H·W, C];
         * the range is over the map's pixels. */
        const TvwArray *s = &call->in[0], *x = &call->in[1];
        const gint64 c = x->shape[1], hw = x->shape[2] * x->shape[3];
        const float zo = (float) y->zero_point;

        for (gsize pixel = begin; pixel < end; pixel++)
          {
            const guint8 *sp = (const guint8 *) s->data + (gint64) pixel / hw * c;
            const guint8 *xp = (const guint8 *) x->data + pixel * c;
            guint8 *op = out + pixel * c;

            for (gint64 ch = 0; ch < c; ch++)
              {
                const gint32 prod = ((gint32) sp[ch] - s->zero_point) *
                                    ((gint32) xp[ch] - x->zero_point);
                const float q = nearbyintf ((float) prod * job->multiplier) + zo;

                op[ch] = (guint8) CLAMP (q, 0.f, 255.f);
              }
          }
      }
      break;
    }
}

static void
qat_eltwise_run (TvwOpCall *call)
{
  const TvwQatEltwiseParams *p = call->params;
  const TvwArray *x = &call->in[0];
  TvwArray *y = &call->out[0];
  const gint64 n = tvw_array_numel (y);
  QatJob job = { call };

  /* The output's quantization as prepared (an eager call infers first). */
  if (call->prepared != NULL && p->kind != TVW_QAT_HARDSIGMOID)
    {
      const QatOut *q = call->prepared;

      y->scale = q->scale;
      y->zero_point = q->zero_point;
    }

  if (p->kind == TVW_QAT_HARDSWISH || p->kind == TVW_QAT_HARDSIGMOID)
    {
      const float s = (float) x->scale, szp = s * -(float) x->zero_point;
      /* qhardswish's 1 / output scale is taken in double. */
      const float inv = (float) (1.0 / y->scale);

      for (int v = 0; v < 256; v++)
        {
          const float dx = dequantize (v, s, szp);
          const float h = MIN (MAX (dx + 3.f, 0.f), 6.f);
          const float r = p->kind == TVW_QAT_HARDSWISH ? dx * h / 6.f : h / 6.f;

          job.lut[v] = tvw_quantize_u8 (r, inv, y->zero_point);
        }
    }
  else if (p->kind == TVW_QAT_MUL)
    {
      const gint64 pixels = n / y->shape[1];

      job.multiplier = (float) call->in[0].scale * (float) call->in[1].scale *
                       (1.f / (float) y->scale);
      tvw_parallel_range ((gsize) pixels, n < 65536 ? 1 : call->n_threads, qat_eltwise_range,
                          &job);
      return;
    }

  tvw_parallel_range ((gsize) n, n < 65536 ? 1 : call->n_threads, qat_eltwise_range, &job);
}

const TvwOpClass tvw_op_qat_eltwise = {
  .name = "qat_eltwise",
  .flags = TVW_OP_CHANNELS_LAST_ALL,
  .infer = qat_eltwise_infer,
  .prepare = qat_eltwise_prepare,
  .release = qat_eltwise_release,
  .run = qat_eltwise_run,
};

/* ---- constructors ------------------------------------------------------ */

static TvwVal
qat_conv_node (TvwNet                 *net,
               const TvwOpClass       *cls,
               TvwVal                  x,
               const char             *name,
               const TvwQatConvParams *params,
               int                     weight_rank)
{
  const TvwConvSpec *s = &params->q.spec;
  g_auto (GStrv) names = g_new0 (char *, 2 * N_FQ + 1);
  TvwWeightSpec weights[QW_REST + 1 + N_BN];
  int n = QW_REST;
  TvwNodeSpec spec = {
    .cls = cls, .name = name,
    .params = params, .params_size = sizeof *params,
    .n_in = 1, .in = &x,
    .weights = weights,
    .n_out = 1,
  };

  /* Model code, not user data, decides these. */
  g_return_val_if_fail (s->groups > 0, -1);
  g_return_val_if_fail (params->q.cin % s->groups == 0 && params->q.cout % s->groups == 0, -1);

  weights[QW_WEIGHT] = (TvwWeightSpec) {
    "weight", weight_rank,
    { params->q.cout, params->q.cin / s->groups, s->kernel_h, s->kernel_w }, 0
  };
  fake_quantize_weights (weights + QW_WEIGHT_FQ, "weight_fake_quant", names);
  fake_quantize_weights (weights + QW_ACT_FQ, "activation_post_process", names + N_FQ);
  if (params->bias)
    weights[n++] = (TvwWeightSpec) { "bias", 1, { params->q.cout }, 0 };
  if (params->bn)
    {
      const gint64 c = params->q.cout;

      weights[n++] = (TvwWeightSpec) { "bn.weight", 1, { c }, TVW_WEIGHT_INIT_ONES };
      weights[n++] = (TvwWeightSpec) { "bn.bias", 1, { c }, 0 };
      weights[n++] = (TvwWeightSpec) { "bn.running_mean", 1, { c }, TVW_WEIGHT_BUFFER };
      weights[n++] = (TvwWeightSpec) {
        "bn.running_var", 1, { c }, TVW_WEIGHT_BUFFER | TVW_WEIGHT_INIT_ONES
      };
      weights[n++] = (TvwWeightSpec) {
        "bn.num_batches_tracked", 0, { 0 }, TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT
      };
    }
  spec.n_weights = n;
  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_qat_conv2d (TvwNet            *net,
                    TvwVal             x,
                    const char        *name,
                    int                out_channels,
                    const TvwConvSpec *spec,
                    gboolean           batch_norm,
                    double             bn_eps,
                    gboolean           bias,
                    gboolean           relu)
{
  const TvwQatConvParams params = {
    .q = { .spec = *spec, .cin = tvw_net_channels (net, x), .cout = out_channels, .relu = relu },
    .bn = batch_norm, .bn_eps = bn_eps, .bias = bias,
  };

  return qat_conv_node (net, &tvw_op_qat_conv2d, x, name, &params, 4);
}

TvwVal
tvw_net_qat_linear (TvwNet     *net,
                    TvwVal      x,
                    const char *name,
                    int         out_features)
{
  const TvwQatConvParams params = {
    .q = {
      .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, TRUE },
      .cin = tvw_net_channels (net, x), .cout = out_features,
    },
    .bias = TRUE,
  };

  return qat_conv_node (net, &tvw_op_qat_linear, x, name, &params, 2);
}

TvwVal
tvw_net_qat_eltwise (TvwNet          *net,
                     TvwQatEltwiseKind kind,
                     TvwVal           a,
                     TvwVal           b,
                     const char      *name)
{
  const TvwQatEltwiseParams params = { kind };
  const TvwVal in[2] = { a, b };
  g_auto (GStrv) names = g_new0 (char *, N_FQ + 1);
  TvwWeightSpec weights[N_FQ];
  TvwNodeSpec spec = {
    .cls = &tvw_op_qat_eltwise, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = kind == TVW_QAT_ADD || kind == TVW_QAT_MUL ? 2 : 1, .in = in,
    .n_weights = kind == TVW_QAT_HARDSIGMOID ? 0 : N_FQ, .weights = weights,
    .n_out = 1,
  };

  fake_quantize_weights (weights, "activation_post_process", names);
  return tvw_net_add_node (net, &spec, NULL);
}

void
tvw_net_declare_fake_quantize (TvwNet     *net,
                               const char *name)
{
  g_auto (GStrv) names = g_new0 (char *, N_FQ + 1);
  TvwWeightSpec weights[N_FQ];

  fake_quantize_weights (weights, "activation_post_process", names);
  tvw_net_declare_weights (net, name, N_FQ, weights);
}
