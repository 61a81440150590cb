/* tvw-efficientnet.c — EfficientNet B0–B7 and V2 S/M/L, as torchvision
 * builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/efficientnet.py: a 3×3 stride-2 stem, stages of MBConv
 * blocks (1×1 expansion, depthwise k×k, squeeze-excitation, 1×1
 * projection) — V2 starts with FusedMBConv blocks (k×k expansion, 1×1
 * projection) — a 1×1 head, average pooling and a linear classifier, SiLU
 * throughout.  Stochastic depth and dropout are identities at inference.
 */

#include "config.h"

#include <math.h>

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"

typedef struct
{
  gboolean fused;
  double   expand_ratio;
  int      kernel;
  int      stride;
  int      input_channels;
  int      out_channels;
  int      num_layers;
} StageConfig;

typedef struct
{
  double      width_mult;
  double      depth_mult;
  double      bn_eps;
  int         last_channel;      /* 0: four times the last stage's width */
  int         n_stages;
  StageConfig stages[8];
} EfficientNetConfig;

/* MBConv: N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
mbconv (TvwNet            *net,
        TvwVal             x,
        const char        *prefix,
        double             eps,
        const StageConfig *s,
        int                in_channels,
        int                stride)
{
  int expanded = tvw_blocks_make_divisible (in_channels * s->expand_ratio, 8);
  int layer = 0;
  TvwVal out = x;
  g_autofree char *expand = g_strconcat (prefix, ".block.0", NULL);
  g_autofree char *dw = NULL;
  g_autofree char *se = NULL;
  g_autofree char *project = NULL;

  if (expanded != in_channels)
    {
      out = tvw_blocks_conv_norm_act (net, out, expand, eps, expanded, 1, 1, 1, 1, TVW_ACT_SILU);
      layer++;
    }

  dw = g_strdup_printf ("%s.block.%d", prefix, layer);
  se = g_strdup_printf ("%s.block.%d", prefix, layer + 1);
  project = g_strdup_printf ("%s.block.%d", prefix, layer + 2);

  out = tvw_blocks_conv_norm_act (net, out, dw, eps, expanded, s->kernel, stride, 1, expanded,
                                  TVW_ACT_SILU);
  /* SqueezeExcitation with SiLU and a sigmoid gate, in one engine node. */
  out = tvw_net_squeeze_excitation (net, out, se, MAX (1, in_channels / 4),
                                    TVW_ACT_SILU, TVW_ACT_SIGMOID);
  out = tvw_blocks_conv_norm_act (net, out, project, eps, s->out_channels, 1, 1, 1, 1,
                                  TVW_ACT_NONE);

  if (stride == 1 && in_channels == s->out_channels)
    out = tvw_net_add (net, out, x);

  return out;
}

/* FusedMBConv: N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
fused_mbconv (TvwNet            *net,
              TvwVal             x,
              const char        *prefix,
              double             eps,
              const StageConfig *s,
              int                in_channels,
              int                stride)
{
  int expanded = tvw_blocks_make_divisible (in_channels * s->expand_ratio, 8);
  TvwVal out;
  g_autofree char *first = g_strconcat (prefix, ".block.0", NULL);

  if (expanded != in_channels)
    {
      g_autofree char *project = g_strconcat (prefix, ".block.1", NULL);

      out = tvw_blocks_conv_norm_act (net, x, first, eps, expanded, s->kernel, stride, 1, 1,
                                      TVW_ACT_SILU);
      out = tvw_blocks_conv_norm_act (net, out, project, eps, s->out_channels, 1, 1, 1, 1,
                                      TVW_ACT_NONE);
    }
  else
    out = tvw_blocks_conv_norm_act (net, x, first, eps, s->out_channels, s->kernel, stride, 1, 1,
                                    TVW_ACT_SILU);

  if (stride == 1 && in_channels == s->out_channels)
    out = tvw_net_add (net, out, x);

  return out;
}

static gboolean
build_efficientnet (TvwNet                *net,
                    const TvwArchitecture *arch,
                    const TvwBuildConfig  *config,
                    GError               **error)
{
  const EfficientNetConfig *cfg = arch->config;
  const guint num_classes = config->num_classes;
  StageConfig stages[G_N_ELEMENTS (cfg->stages)];
  TvwVal x = tvw_net_input (net, 3);
  int last_in, last_out;

  /* MBConvConfig scales widths and depths; FusedMBConvConfig does not (V2
   * has multipliers of 1 anyway). */
  for (int i = 0; i < cfg->n_stages; i++)
    {
      stages[i] = cfg->stages[i];
      if (!stages[i].fused)
        {
          stages[i].input_channels =
            tvw_blocks_make_divisible (stages[i].input_channels * cfg->width_mult, 8);
          stages[i].out_channels =
            tvw_blocks_make_divisible (stages[i].out_channels * cfg->width_mult, 8);
          stages[i].num_layers = (int) ceil (stages[i].num_layers * cfg->depth_mult);
        }
    }

  /* features.0: N×3×H×W → N×C×H/2×W/2 */
  x = tvw_blocks_conv_norm_act (net, x, "features.0", cfg->bn_eps, stages[0].input_channels,
                                3, 2, 1, 1, TVW_ACT_SILU);

  /* features.1 … features.n_stages */
  for (int i = 0; i < cfg->n_stages; i++)
    for (int b = 0; b < stages[i].num_layers; b++)
      {
        g_autofree char *prefix = g_strdup_printf ("features.%d.%d", i + 1, b);
        int in = b == 0 ? stages[i].input_channels : stages[i].out_channels;
        int stride = b == 0 ? stages[i].stride : 1;

        if (stages[i].fused)
          x = fused_mbconv (net, x, prefix, cfg->bn_eps, &stages[i], in, stride);
        else
          x = mbconv (net, x, prefix, cfg->bn_eps, &stages[i], in, stride);
      }

  /* The 1×1 head: N×last_in×h×w → N×last_out×h×w */
  {
    g_autofree char *head = g_strdup_printf ("features.%d", cfg->n_stages + 1);

    last_in = stages[cfg->n_stages - 1].out_channels;
    last_out = cfg->last_channel > 0 ? cfg->last_channel : 4 * last_in;
    x = tvw_blocks_conv_norm_act (net, x, head, cfg->bn_eps, last_out, 1, 1, 1, 1, TVW_ACT_SILU);
  }

  /* N×last_out×h×w → N×num_classes (classifier.0 is the dropout) */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "classifier.1", num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* Table 1 of the EfficientNet paper. */
#define V1_STAGES \
  7, { { FALSE, 1, 3, 1, 32,  16,  1 }, \
       { FALSE, 6, 3, 2, 16,  24,  2 }, \
       { FALSE, 6, 5, 2, 24,  40,  2 }, \
       { FALSE, 6, 3, 2, 40,  80,  3 }, \
       { FALSE, 6, 5, 1, 80,  112, 3 }, \
       { FALSE, 6, 5, 2, 112, 192, 4 }, \
       { FALSE, 6, 3, 1, 192, 320, 1 } }

/* width, depth, BatchNorm eps (1e-3 from B5 on), last channel */
static const EfficientNetConfig efficientnet_b0 = { 1.0, 1.0, 1e-5, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b1 = { 1.0, 1.1, 1e-5, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b2 = { 1.1, 1.2, 1e-5, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b3 = { 1.2, 1.4, 1e-5, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b4 = { 1.4, 1.8, 1e-5, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b5 = { 1.6, 2.2, 1e-3, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b6 = { 1.8, 2.6, 1e-3, 0, V1_STAGES };
static const EfficientNetConfig efficientnet_b7 = { 2.0, 3.1, 1e-3, 0, V1_STAGES };

/* Table 4 of the EfficientNetV2 paper. */
static const EfficientNetConfig efficientnet_v2_s = { 1.0, 1.0, 1e-3, 1280, 6, {
      { TRUE,  1, 3, 1, 24,  24,  2 },
      { TRUE,  4, 3, 2, 24,  48,  4 },
      { TRUE,  4, 3, 2, 48,  64,  4 },
      { FALSE, 4, 3, 2, 64,  128, 6 },
      { FALSE, 6, 3, 1, 128, 160, 9 },
      { FALSE, 6, 3, 2, 160, 256, 15 } } };
static const EfficientNetConfig efficientnet_v2_m = { 1.0, 1.0, 1e-3, 1280, 7, {
      { TRUE,  1, 3, 1, 24,  24,  3 },
      { TRUE,  4, 3, 2, 24,  48,  5 },
      { TRUE,  4, 3, 2, 48,  80,  5 },
      { FALSE, 4, 3, 2, 80,  160, 7 },
      { FALSE, 6, 3, 1, 160, 176, 14 },
      { FALSE, 6, 3, 2, 176, 304, 18 },
      { FALSE, 6, 3, 1, 304, 512, 5 } } };
static const EfficientNetConfig efficientnet_v2_l = { 1.0, 1.0, 1e-3, 1280, 7, {
      { TRUE,  1, 3, 1, 32,  32,  4 },
      { TRUE,  4, 3, 2, 32,  64,  7 },
      { TRUE,  4, 3, 2, 64,  96,  7 },
      { FALSE, 4, 3, 2, 96,  192, 10 },
      { FALSE, 6, 3, 1, 192, 224, 19 },
      { FALSE, 6, 3, 2, 224, 384, 25 },
      { FALSE, 6, 3, 1, 384, 640, 7 } } };

/* Every convolution is padded (k - 1) / 2: a 1×1 input stays 1×1.
 * torchvision's meta says 33×33 for V2, but the network itself accepts any
 * size. */
const TvwArchitecture tvw_efficientnet_architectures[] = {
  { "efficientnet_b0",   1000, 1, build_efficientnet, &efficientnet_b0 },
  { "efficientnet_b1",   1000, 1, build_efficientnet, &efficientnet_b1 },
  { "efficientnet_b2",   1000, 1, build_efficientnet, &efficientnet_b2 },
  { "efficientnet_b3",   1000, 1, build_efficientnet, &efficientnet_b3 },
  { "efficientnet_b4",   1000, 1, build_efficientnet, &efficientnet_b4 },
  { "efficientnet_b5",   1000, 1, build_efficientnet, &efficientnet_b5 },
  { "efficientnet_b6",   1000, 1, build_efficientnet, &efficientnet_b6 },
  { "efficientnet_b7",   1000, 1, build_efficientnet, &efficientnet_b7 },
  { "efficientnet_v2_s", 1000, 1, build_efficientnet, &efficientnet_v2_s },
  { "efficientnet_v2_m", 1000, 1, build_efficientnet, &efficientnet_v2_m },
  { "efficientnet_v2_l", 1000, 1, build_efficientnet, &efficientnet_v2_l },
  { NULL }
};
