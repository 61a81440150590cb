/* tvw-op-conv.c — 2-D convolution and linear layers on the GEMM kernels
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both are a GEMM of an im2col (or the input itself) by weights packed at
 * load: a linear layer is a 1×1 convolution over rows.  A BatchNorm after
 * a convolution is folded into it by the passes (its scale into the
 * packed weights, its shift into the bias), and the epilogue adds the bias,
 * a residual and applies an activation.  Convolutions run channels-last.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-gemm-private.h"
#include "tvw-kernels-private.h"
#include "tvw-kernels-grouped-private.h"
#include "tvw-kernels-winograd-private.h"
#include "tvw-ops-private.h"

/* What prepare makes: the folded per-channel scale and bias, and the
 * layout chosen for the packed weights. */
typedef struct
{
  double   *scale;           /* [cout], applied to the weights when packing */
  float    *bias;            /* [cout] */
  gboolean  depthwise, panels;
  int       winograd;        /* 0, or the tile of the Winograd weights */
  int       piece_panels;    /* GEMM panels per pack piece */
} ConvPrepared;

static const TvwConvOpParams *
conv_params (const TvwOpCall *call)
{
  return call->params;
}

static int
conv_out_size (gint64   size,
               int      kernel,
               int      stride,
               int      pad,
               int      dilation)
{
  gint64 num = size + 2 * pad - (gint64) dilation * (kernel - 1) - 1;

  return num < 0 ? 0 : (int) (num / stride + 1);
}

/* A residual (input 1, fused by the passes) has the output's shape. */
static gboolean
check_residual (TvwOpCall  *call,
                GError    **error)
{
  if (conv_params (call)->residual && !tvw_array_same_shape (&call->in[1], &call->out[0]))
    {
      g_autofree char *want = tvw_array_shape_string (&call->out[0]);
      g_autofree char *have = tvw_array_shape_string (&call->in[1]);

      tvw_op_set_error (call, error, "the residual has shape %s, the output %s", have, want);
      return FALSE;
    }
  return TRUE;
}

static gboolean
conv_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwConvOpParams *p = conv_params (call);
  const TvwConvSpec *s = &p->spec;
  const TvwArray *x = &call->in[0];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (x->shape[1] != p->cin)
    {
      g_autofree char *have = tvw_array_shape_string (x);

      tvw_op_set_error (call, error, "expects %d input channels, got a tensor of shape %s",
                        p->cin, have);
      return FALSE;
    }

  shape[0] = x->shape[0];
  shape[1] = p->cout;
  shape[2] = conv_out_size (x->shape[2], s->kernel_h, s->stride_h, s->pad_h, s->dilation_h);
  shape[3] = conv_out_size (x->shape[3], s->kernel_w, s->stride_w, s->pad_w, s->dilation_w);
  if (shape[2] <= 0 || shape[3] <= 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The input is too small for this architecture: %s gets a %" G_GINT64_FORMAT
                   "×%" G_GINT64_FORMAT " map and would produce an empty one",
                   call->name != NULL ? call->name : "a convolution", x->shape[2], x->shape[3]);
      return FALSE;
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return check_residual (call, error);
}

static gboolean
linear_infer (TvwOpCall  *call,
              GError    **error)
{
  const TvwConvOpParams *p = conv_params (call);
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (x->shape[x->rank - 1] != p->cin)
    {
      g_autofree char *have = tvw_array_shape_string (x);

      tvw_op_set_error (call, error, "expects %d input features, got a tensor of shape %s",
                        p->cin, have);
      return FALSE;
    }

  call->out[0] = *x;
  call->out[0].shape[x->rank - 1] = p->cout;
  return check_residual (call, error);
}

/* The GEMM's view of the call: rows of the output matrix are N·OH·OW
 * (convolution) or all leading dimensions (linear). */
static void
conv_kernel_params (const TvwOpCall *call,
                    TvwConvParams   *kp)
{
  const TvwConvOpParams *p = conv_params (call);
  const ConvPrepared *prep = call->prepared;
  const TvwConvSpec *s = &p->spec;
  const TvwArray *x = &call->in[0], *y = &call->out[0];

  *kp = (TvwConvParams) {
    .cin = p->cin, .cout = p->cout,
    .kh = s->kernel_h, .kw = s->kernel_w,
    .sh = s->stride_h, .sw = s->stride_w,
    .ph = s->pad_h, .pw = s->pad_w,
    .dh = s->dilation_h, .dw = s->dilation_w,
    .groups = s->groups,
    .act = p->act,
  };
  if (call->cls == &tvw_op_linear)
    {
      kp->n = (int) (tvw_array_numel (x) / MAX (p->cin, 1));
      kp->h = kp->w = kp->oh = kp->ow = 1;
    }
  else
    {
      kp->n = (int) x->shape[0];
      kp->h = (int) x->shape[2];
      kp->w = (int) x->shape[3];
      kp->oh = (int) y->shape[2];
      kp->ow = (int) y->shape[3];
      kp->out_pitch = (int) tvw_array_channels_last_pitch (y);
    }
  if (prep != NULL)
    {
      kp->depthwise = prep->depthwise;
      kp->winograd = prep->winograd;
      kp->panels = prep->panels;
      kp->bias = prep->bias;
    }
  kp->weight = call->packed;
}

static void
conv_release (TvwOpCall *call)
{
  ConvPrepared *prep = call->prepared;

  if (prep == NULL)
    return;
  g_free (prep->scale);
  g_free (prep->bias);
  g_clear_pointer (&call->prepared, g_free);
}

/* Folds the layer scale and the BatchNorm after the convolution (when
 * there are) into a per-channel factor of the weights and the bias, and
 * picks the kernel. */
static gboolean
conv_prepare (TvwOpCall  *call,
              GError    **error)
{
  const TvwConvOpParams *p = conv_params (call);
  const TvwConvSpec *s = &p->spec;
  ConvPrepared *prep = g_new0 (ConvPrepared, 1);
  const float *bias = s->bias ? call->weights[1].data : NULL;
  const float *layer_scale = p->layer_scale ? call->weights[s->bias ? 2 : 1].data : NULL;
  const int bn = (s->bias ? 2 : 1) + (p->layer_scale ? 1 : 0);
  const int groups = s->groups;
  const int cout_g = p->cout / groups;
  gsize panel_floats;

  prep->scale = g_new (double, p->cout);
  prep->bias = g_new (float, p->cout);
  for (int o = 0; o < p->cout; o++)
    {
      double b = bias != NULL ? bias[o] : 0.0;

      prep->scale[o] = 1.0;
      if (layer_scale != NULL)
        {
          prep->scale[o] = layer_scale[o];
          b *= layer_scale[o];
        }
      if (p->batch_norm)
        {
          const float *gamma = call->weights[bn].data, *beta = call->weights[bn + 1].data;
          const float *mean = call->weights[bn + 2].data, *var = call->weights[bn + 3].data;
          double f = gamma[o] / sqrt ((double) var[o] + p->bn_eps);

          prep->scale[o] *= f;
          b = (b - mean[o]) * f + beta[o];
        }
      prep->bias[o] = (float) b;
    }

  prep->depthwise = groups > 1 && groups == p->cin && groups == p->cout;
  /* Winograd and its tile for the sizes the model was built for (the
   * shapes the op was last inferred with). */
  if (!prep->depthwise && call->cls == &tvw_op_conv2d)
    {
      TvwConvParams kp;

      conv_kernel_params (call, &kp);
      prep->winograd = tvw_winograd_choose (&kp);
    }
  /* The GEMM's B in NR-column panels when the kernel reads it so. */
  prep->panels = !prep->depthwise && !prep->winograd &&
    (groups == 1 || cout_g >= TVW_GEMM_NR);

  /* Pack pieces of about 256 KiB (Winograd's are 16/9 of the original,
   * near enough). */
  panel_floats = (gsize) TVW_GEMM_NR * s->kernel_h * s->kernel_w * p->cin / groups;
  prep->piece_panels = MAX (1, (int) ((64 * 1024) / MAX (panel_floats, 1)));

  call->prepared = prep;
  return TRUE;
}

static gsize
conv_packed_bytes (const TvwOpCall *call)
{
  const TvwConvOpParams *p = conv_params (call);
  const ConvPrepared *prep = call->prepared;
  const int groups = p->spec.groups;
  const gsize k = (gsize) p->spec.kernel_h * p->spec.kernel_w * (p->cin / groups);
  gsize floats;

  if (prep->winograd)
    floats = tvw_winograd_packed_floats (p->cin, p->cout, prep->winograd);
  else if (prep->panels)
    floats = tvw_gemm_packed_floats ((int) k, p->cout / groups) * groups;
  else
    floats = (gsize) p->cout * k;

  return floats * sizeof (float);
}

static int
conv_n_panels (const TvwOpCall *call)
{
  const TvwConvOpParams *p = conv_params (call);
  const ConvPrepared *prep = call->prepared;
  const int cout_g = p->cout / p->spec.groups;

  if (!prep->panels && !prep->winograd)
    return 1;
  return p->spec.groups * ((cout_g + TVW_GEMM_NR - 1) / TVW_GEMM_NR);
}

static int
conv_pack_pieces (const TvwOpCall *call)
{
  const ConvPrepared *prep = call->prepared;

  return (conv_n_panels (call) + prep->piece_panels - 1) / prep->piece_panels;
}

/* Straight from PyTorch's [oc][ci][ky][kx] into the panels' rows
 * [(ky·kw + kx)·cin_g + ci][NR], written in order; the NR source rows are
 * read side by side.  Padding columns read a real row times 0. */
static void
pack_panels (const TvwOpCall *call,
             int              begin,
             int              end)
{
  const TvwConvOpParams *p = conv_params (call);
  const ConvPrepared *prep = call->prepared;
  const float *w = call->weights[0].data;
  const int groups = p->spec.groups;
  const int cin_g = p->cin / groups;
  const int cout_g = p->cout / groups;
  const int taps = p->spec.kernel_h * p->spec.kernel_w;
  const gsize k = (gsize) taps * cin_g;
  const gsize group_floats = tvw_gemm_packed_floats ((int) k, cout_g);
  const int n_panels = (cout_g + TVW_GEMM_NR - 1) / TVW_GEMM_NR;

  for (int gp = begin; gp < end; gp++)
    {
      const int g = gp / n_panels, panel = gp % n_panels;
      float *dst = (float *) call->packed + (gsize) g * group_floats + (gsize) panel * TVW_GEMM_NR * k;
      const float *src[TVW_GEMM_NR];
      double s[TVW_GEMM_NR];

      for (int j = 0; j < TVW_GEMM_NR; j++)
        {
          const int o = MIN (panel * TVW_GEMM_NR + j, cout_g - 1);

          src[j] = w + (gsize) (g * cout_g + o) * k;
          s[j] = panel * TVW_GEMM_NR + j < cout_g ? prep->scale[g * cout_g + o] : 0.0;
        }

      for (int t = 0; t < taps; t++)
        {
          int ci = 0;

          /* 1×1 (most of a ResNet's weights): the rows are contiguous,
           * transpose them eight columns at a time. */
          if (taps == 1)
            for (; ci + 8 <= cin_g; ci += 8)
              {
                tvw_gemm_transpose_panel_rows (src, s, ci, dst);
                dst += 8 * TVW_GEMM_NR;
              }

          for (; ci < cin_g; ci++)
            {
              const gsize from = (gsize) ci * taps + t;

              for (int j = 0; j < TVW_GEMM_NR; j++)
                dst[j] = (float) ((double) src[j][from] * s[j]);
              dst += TVW_GEMM_NR;
            }
        }
    }
}

static void
conv_pack (const TvwOpCall *call,
           int              begin,
           int              end)
{
  const TvwConvOpParams *p = conv_params (call);
  const ConvPrepared *prep = call->prepared;
  const double *scale = prep->scale;
  const float *w = call->weights[0].data;
  float *packed = call->packed;
  const int groups = p->spec.groups;
  const int cin_g = p->cin / groups;
  const int cout_g = p->cout / groups;
  const int taps = p->spec.kernel_h * p->spec.kernel_w;
  const gsize k = (gsize) taps * cin_g;
  const int panels_begin = begin * prep->piece_panels;
  const int panels_end = MIN (conv_n_panels (call), end * prep->piece_panels);

  if (prep->depthwise)
    {
      /* [ky·kw + kx][c]: the channel loop is the contiguous one. */
      for (int c = 0; c < p->cout; c++)
        for (int t = 0; t < taps; t++)
          packed[(gsize) t * p->cout + c] = (float) (w[(gsize) c * taps + t] * scale[c]);
    }
  else if (prep->winograd)
    tvw_winograd_pack (w, scale, p->cin, p->cout, prep->winograd, panels_begin, panels_end, packed);
  else if (prep->panels)
    pack_panels (call, panels_begin, panels_end);
  else
    {
      for (int oc = 0; oc < p->cout; oc++)
        {
          const int g = oc / cout_g, o = oc % cout_g;
          const float *src = w + (gsize) oc * k;

          for (int ci = 0; ci < cin_g; ci++)
            for (int t = 0; t < taps; t++)
              packed[(gsize) g * k * cout_g + ((gsize) t * cin_g + ci) * cout_g + o] =
                (float) ((double) src[ci * taps + t] * scale[oc]);
        }
    }
}

static gsize
conv_scratch (const TvwOpCall *call)
{
  TvwConvParams kp;

  conv_kernel_params (call, &kp);
  if (tvw_kernel_grouped_supports (&kp))
    return 0;
  return tvw_conv_scratch_floats (&kp, call->n_threads) * sizeof (float);
}

static gboolean
conv_writes_pitched (const TvwOpCall *call)
{
  TvwConvParams kp;

  if (conv_params (call)->residual || call->prepared == NULL)
    return FALSE;
  conv_kernel_params (call, &kp);
  return tvw_conv_writes_pitched (&kp) && !tvw_kernel_grouped_supports (&kp);
}

static void
conv_run (TvwOpCall *call)
{
  const TvwConvOpParams *p = conv_params (call);
  const float *residual = p->residual ? call->in[1].data : NULL;
  TvwConvParams kp;

  conv_kernel_params (call, &kp);

  /* Depthwise and narrow grouped convolutions: direct kernels. */
  if (tvw_kernel_grouped_supports (&kp))
    tvw_kernel_grouped_conv2d (&kp, call->in[0].data, residual, call->out[0].data,
                               call->n_threads);
  else
    tvw_kernel_conv2d (&kp, call->in[0].data, residual, call->out[0].data,
                       (float *) call->scratch, call->scratch_bytes / sizeof (float),
                       call->n_threads);
}

const TvwOpClass tvw_op_conv2d = {
  .name = "conv2d",
  .flags = TVW_OP_CHANNELS_LAST_ALL,
  .infer = conv_infer,
  .writes_pitched = conv_writes_pitched,
  .prepare = conv_prepare,
  .release = conv_release,
  .packed_bytes = conv_packed_bytes,
  .pack_pieces = conv_pack_pieces,
  .pack = conv_pack,
  .scratch = conv_scratch,
  .run = conv_run,
};

const TvwOpClass tvw_op_linear = {
  .name = "linear",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = linear_infer,
  .prepare = conv_prepare,
  .release = conv_release,
  .packed_bytes = conv_packed_bytes,
  .pack_pieces = conv_pack_pieces,
  .pack = conv_pack,
  .scratch = conv_scratch,
  .run = conv_run,
};

/* Constructors */

TvwVal
tvw_net_conv2d_full (TvwNet            *net,
                     TvwVal             x,
                     const char        *name,
                     int                out_channels,
                     const TvwConvSpec *spec)
{
  int cin = tvw_net_channels (net, x);
  TvwConvOpParams params = {
    .spec = *spec, .cin = cin, .cout = out_channels, .act = TVW_ACT_NONE,
  };
  TvwWeightSpec weights[2] = {
    { "weight", 4, { out_channels, cin / MAX (spec->groups, 1), spec->kernel_h, spec->kernel_w } },
    { "bias", 1, { out_channels } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_conv2d, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = spec->bias ? 2 : 1, .weights = weights,
    .n_out = 1,
  };

  /* Model code, not user data, decides these. */
  g_return_val_if_fail (spec->groups > 0, -1);
  g_return_val_if_fail (cin % spec->groups == 0 && out_channels % spec->groups == 0, -1);

  return tvw_net_add_node (net, &node, NULL);
}

TvwVal
tvw_net_conv2d (TvwNet     *net,
                TvwVal      x,
                const char *name,
                int         out_channels,
                int         kernel,
                int         stride,
                int         padding,
                int         dilation,
                int         groups,
                gboolean    bias)
{
  TvwConvSpec spec = {
    kernel, kernel, stride, stride, padding, padding, dilation, dilation, groups, bias
  };

  return tvw_net_conv2d_full (net, x, name, out_channels, &spec);
}

TvwVal
tvw_net_conv2d_channel_linear (TvwNet     *net,
                               TvwVal      x,
                               const char *module,
                               const char *linear,
                               int         out_features,
                               gboolean    bias,
                               const char *layer_scale)
{
  int cin = tvw_net_channels (net, x);
  TvwConvOpParams params = {
    .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, bias },
    .cin = cin, .cout = out_features, .act = TVW_ACT_NONE,
    .layer_scale = layer_scale != NULL,
  };
  g_autofree char *weight = g_strconcat (linear, ".weight", NULL);
  g_autofree char *bias_name = g_strconcat (linear, ".bias", NULL);
  TvwWeightSpec weights[3] = {
    { weight, 2, { out_features, cin } },
    { bias_name, 1, { out_features } },
    { layer_scale, 3, { out_features, 1, 1 } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_conv2d, .name = module,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = 1, .weights = weights,
    .n_out = 1,
  };

  /* Weights in the order prepare reads them: weight, bias, layer scale. */
  if (bias)
    node.n_weights++;
  else
    weights[1] = weights[2];
  if (layer_scale != NULL)
    node.n_weights++;

  return tvw_net_add_node (net, &node, NULL);
}

TvwVal
tvw_net_linear (TvwNet     *net,
                TvwVal      x,
                const char *name,
                int         out_features,
                gboolean    bias)
{
  const TvwArray *a = tvw_net_array (net, x);
  int in = a != NULL && a->rank > 0 ? (int) a->shape[a->rank - 1] : 0;
  TvwConvOpParams params = {
    .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, bias },
    .cin = in, .cout = out_features, .act = TVW_ACT_NONE,
  };
  TvwWeightSpec weights[2] = {
    { "weight", 2, { out_features, in } },
    { "bias", 1, { out_features } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_linear, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = bias ? 2 : 1, .weights = weights,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}
