/* tvw-raft.c — torchvision.models.optical_flow: RAFT large and small
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two images N×3×H×W (“image1”, “image2”, H and W multiples of 8) give the
 * flow from the first to the second, N×2×H×W (“flow”): torchvision's last
 * prediction.  The feature encoder runs on each image (instance norm: the
 * same as on their concatenation), the context encoder on the first; the
 * correlation pyramid is built once; then the update block runs
 * `num_flow_updates` times (12 by default) with its parameters shared
 * between the iterations.  The flow is tracked directly instead of as
 * coords1 − coords0.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-ops-private.h"

#define RAFT_EPS 1e-5

typedef enum
{
  NORM_NONE,
  NORM_INSTANCE,
  NORM_BATCH,
} Norm;

typedef struct
{
  gboolean bottleneck;          /* BottleneckBlock, else ResidualBlock */
  int      feature_layers[5];
  Norm     feature_norm;
  int      context_layers[5];
  Norm     context_norm;
  int      radius;              /* corr_block_radius; 4 levels */
  int      corr_layers[2];      /* motion encoder; [1] = 0: one layer */
  int      flow_layers[2];
  int      motion_out;
  int      hidden;              /* recurrent_block_hidden_state_size */
  gboolean two_grus;            /* (1, 5) and (5, 1), else one 3×3 */
  int      flow_head_hidden;
  gboolean mask_predictor;
} RaftConfig;

#define CORR_LEVELS 4

/* Conv2dNormActivation (…, bias=True): “@prefix.0” the convolution,
 * “@prefix.1” the norm, then ReLU when @relu. */
static TvwVal
conv_norm (TvwNet     *net,
           TvwVal      x,
           const char *prefix,
           Norm        norm,
           int         out,
           int         kernel,
           int         stride,
           gboolean    relu)
{
  g_autofree char *conv = g_strconcat (prefix, ".0", NULL);
  g_autofree char *bn = g_strconcat (prefix, ".1", NULL);

  x = tvw_net_conv2d (net, x, conv, out, kernel, stride, (kernel - 1) / 2, 1, 1, TRUE);
  if (norm == NORM_INSTANCE)
    x = tvw_net_instance_norm (net, x, bn, RAFT_EPS, FALSE);
  else if (norm == NORM_BATCH)
    x = tvw_net_batch_norm (net, x, bn, RAFT_EPS);
  return relu ? tvw_net_activation (net, x, TVW_ACT_RELU) : x;
}

static TvwVal
encoder_block (TvwNet           *net,
               TvwVal            x,
               const RaftConfig *cfg,
               const char       *prefix,
               Norm              norm,
               int               out,
               int               stride)
{
  g_autofree char *c1 = g_strconcat (prefix, ".convnormrelu1", NULL);
  g_autofree char *c2 = g_strconcat (prefix, ".convnormrelu2", NULL);
  g_autofree char *c3 = g_strconcat (prefix, ".convnormrelu3", NULL);
  g_autofree char *ds = g_strconcat (prefix, ".downsample", NULL);
  TvwVal y;

  if (cfg->bottleneck)
    {
      y = conv_norm (net, x, c1, norm, out / 4, 1, 1, TRUE);
      y = conv_norm (net, y, c2, norm, out / 4, 3, stride, TRUE);
      y = conv_norm (net, y, c3, norm, out, 1, 1, TRUE);
    }
  else
    {
      y = conv_norm (net, x, c1, norm, out, 3, stride, TRUE);
      y = conv_norm (net, y, c2, norm, out, 3, 1, TRUE);
    }
  if (stride != 1)
    x = conv_norm (net, x, ds, norm, out, 1, stride, FALSE);

  return tvw_net_activation (net, tvw_net_add (net, y, x), TVW_ACT_RELU);
}

/* FeatureEncoder, strides (2, 1, 2, 2): N×3×H×W → N×layers[4]×H/8×W/8 */
static TvwVal
encoder (TvwNet           *net,
         TvwVal            x,
         const RaftConfig *cfg,
         const char       *prefix,
         const int        *layers,
         Norm              norm)
{
  static const int strides[3] = { 1, 2, 2 };
  g_autofree char *stem = g_strconcat (prefix, ".convnormrelu", NULL);
  g_autofree char *conv = g_strconcat (prefix, ".conv", NULL);

  x = conv_norm (net, x, stem, norm, layers[0], 7, 2, TRUE);
  for (int l = 0; l < 3; l++)
    for (int b = 0; b < 2; b++)
      {
        g_autofree char *block = g_strdup_printf ("%s.layer%d.%d", prefix, l + 1, b);

        x = encoder_block (net, x, cfg, block, norm, layers[l + 1], b == 0 ? strides[l] : 1);
      }
  return tvw_net_conv2d (net, x, conv, layers[4], 1, 1, 0, 1, 1, TRUE);
}

static TvwVal
conv_relu (TvwNet     *net,
           TvwVal      x,
           const char *name,
           int         out,
           int         kernel)
{
  g_autofree char *conv = g_strconcat (name, ".0", NULL);

  x = tvw_net_conv2d (net, x, conv, out, kernel, 1, (kernel - 1) / 2, 1, 1, TRUE);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

/* ConvGRU: h + z·(q − h), z = σ(convz [h, x]), r = σ(convr [h, x]),
 * q = tanh (convq [r·h, x]) */
static TvwVal
conv_gru (TvwNet     *net,
          TvwVal      h,
          TvwVal      x,
          const char *prefix,
          int         hidden,
          int         kh,
          int         kw)
{
  g_autofree char *nz = g_strconcat (prefix, ".convz", NULL);
  g_autofree char *nr = g_strconcat (prefix, ".convr", NULL);
  g_autofree char *nq = g_strconcat (prefix, ".convq", NULL);
  TvwConvSpec spec = {
    .kernel_h = kh, .kernel_w = kw, .stride_h = 1, .stride_w = 1,
    .pad_h = (kh - 1) / 2, .pad_w = (kw - 1) / 2, .dilation_h = 1, .dilation_w = 1,
    .groups = 1, .bias = TRUE,
  };
  TvwVal hx, z, r, q;

  hx = tvw_net_concat (net, 2, (TvwVal[]) { h, x }, 1);
  z = tvw_net_activation (net, tvw_net_conv2d_full (net, hx, nz, hidden, &spec), TVW_ACT_SIGMOID);
  r = tvw_net_activation (net, tvw_net_conv2d_full (net, hx, nr, hidden, &spec), TVW_ACT_SIGMOID);
  q = tvw_net_concat (net, 2, (TvwVal[]) { tvw_net_binary (net, TVW_BINARY_MUL, r, h), x }, 1);
  q = tvw_net_activation (net, tvw_net_conv2d_full (net, q, nq, hidden, &spec), TVW_ACT_TANH);

  /* (1 − z)·h + z·q, as torchvision writes it */
  return tvw_net_binary (net, TVW_BINARY_ADD,
                         tvw_net_binary (net, TVW_BINARY_SUB, h, tvw_net_binary (net, TVW_BINARY_MUL, z, h)),
                         tvw_net_binary (net, TVW_BINARY_MUL, z, q));
}

static gboolean
build_raft (TvwNet                *net,
            const TvwArchitecture *arch,
            const TvwBuildConfig  *config,
            GError               **error)
{
  const RaftConfig *cfg = arch->config;
  const gint64 example[4] = { 1, 3, 128, 128 };
  const int updates = (int) tvw_build_config_get_int (config, "num_flow_updates", 12);
  TvwVal image1, image2, fmap1, fmap2, context_out, parts[2], hidden, context;
  TvwVal pyramid[CORR_LEVELS], flow, up = -1;

  if (updates < 1 || updates > 1000)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "num_flow_updates must be between 1 and 1000, not %d", updates);
      return FALSE;
    }

  image1 = tvw_net_input_full (net, "image1", TVW_ELEM_F32, 4, example);
  image2 = tvw_net_input_full (net, "image2", TVW_ELEM_F32, 4, example);

  /* One feature encoder, applied to both images. */
  tvw_net_set_param_sharing (net, TRUE);
  fmap1 = encoder (net, image1, cfg, "feature_encoder", cfg->feature_layers, cfg->feature_norm);
  fmap2 = encoder (net, image2, cfg, "feature_encoder", cfg->feature_layers, cfg->feature_norm);

  pyramid[0] = tvw_net_corr_volume (net, fmap1, fmap2);
  for (int l = 1; l < CORR_LEVELS; l++)
    pyramid[l] = tvw_net_avg_pool2d (net, pyramid[l - 1], 2, 2, 0, FALSE, TRUE);

  context_out = encoder (net, image1, cfg, "context_encoder", cfg->context_layers, cfg->context_norm);
  tvw_net_split (net, context_out, 1, 2,
                 (gint64[]) { cfg->hidden, cfg->context_layers[4] - cfg->hidden }, parts);
  hidden = tvw_net_activation (net, parts[0], TVW_ACT_TANH);
  context = tvw_net_activation (net, parts[1], TVW_ACT_RELU);

  flow = tvw_net_zeros_like_flow (net, fmap1);
  for (int it = 0; it < updates; it++)
    {
      TvwVal corr, f, motion, x, delta;

      corr = tvw_net_corr_lookup (net, CORR_LEVELS, pyramid, flow, cfg->radius, 1.0);

      /* MotionEncoder */
      corr = conv_relu (net, corr, "update_block.motion_encoder.convcorr1", cfg->corr_layers[0], 1);
      if (cfg->corr_layers[1] > 0)
        corr = conv_relu (net, corr, "update_block.motion_encoder.convcorr2", cfg->corr_layers[1], 3);
      f = conv_relu (net, flow, "update_block.motion_encoder.convflow1", cfg->flow_layers[0], 7);
      f = conv_relu (net, f, "update_block.motion_encoder.convflow2", cfg->flow_layers[1], 3);
      motion = conv_relu (net, tvw_net_concat (net, 2, (TvwVal[]) { corr, f }, 1),
                          "update_block.motion_encoder.conv", cfg->motion_out - 2, 3);
      motion = tvw_net_concat (net, 2, (TvwVal[]) { motion, flow }, 1);

      /* RecurrentBlock */
      x = tvw_net_concat (net, 2, (TvwVal[]) { context, motion }, 1);
      if (cfg->two_grus)
        {
          hidden = conv_gru (net, hidden, x, "update_block.recurrent_block.convgru1", cfg->hidden, 1, 5);
          hidden = conv_gru (net, hidden, x, "update_block.recurrent_block.convgru2", cfg->hidden, 5, 1);
        }
      else
        {
          hidden = conv_gru (net, hidden, x, "update_block.recurrent_block.convgru1", cfg->hidden, 3, 3);
        }

      /* FlowHead */
      delta = tvw_net_conv2d (net, hidden, "update_block.flow_head.conv1", cfg->flow_head_hidden,
                              3, 1, 1, 1, 1, TRUE);
      delta = tvw_net_activation (net, delta, TVW_ACT_RELU);
      delta = tvw_net_conv2d (net, delta, "update_block.flow_head.conv2", 2, 3, 1, 1, 1, 1, TRUE);
      flow = tvw_net_binary (net, TVW_BINARY_ADD, flow, delta);

      /* Only the last prediction is an output: the earlier upsamplings
       * are not computed. */
      if (it == updates - 1)
        {
          TvwVal mask = -1;

          if (cfg->mask_predictor)
            {
              mask = conv_relu (net, hidden, "mask_predictor.convrelu", 256, 3);
              mask = tvw_net_conv2d (net, mask, "mask_predictor.conv", 8 * 8 * 9, 1, 1, 0, 1, 1, TRUE);
            }
          up = tvw_net_upsample_flow (net, flow, mask, 0.25);
        }
    }
  tvw_net_set_param_sharing (net, FALSE);

  tvw_net_output (net, "flow", up);
  return tvw_net_check (net, error);
}

static const RaftConfig raft_large = {
  FALSE, { 64, 64, 96, 128, 256 }, NORM_INSTANCE, { 64, 64, 96, 128, 256 }, NORM_BATCH,
  4, { 256, 192 }, { 128, 64 }, 128, 128, TRUE, 256, TRUE,
};

static const RaftConfig raft_small = {
  TRUE, { 32, 32, 64, 96, 128 }, NORM_INSTANCE, { 32, 32, 64, 96, 160 }, NORM_NONE,
  3, { 96, 0 }, { 64, 32 }, 82, 96, FALSE, 128, FALSE,
};

static const char * const raft_options[] = { "num_flow_updates", NULL };

const TvwArchitecture tvw_raft_architectures[] = {
  { "raft_large", 0, 128, build_raft, &raft_large, raft_options, .size_multiple = 8 },
  { "raft_small", 0, 128, build_raft, &raft_small, raft_options, .size_multiple = 8 },
  { NULL }
};
