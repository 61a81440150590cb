/* tvw-convnext.c — ConvNeXt (tiny, small, base, large), as torchvision
 * builds it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/convnext.py: a 4×4 stride-4 patchify stem with a
 * LayerNorm2d, four stages of CNBlocks (7×7 depthwise convolution,
 * LayerNorm over the channels, Linear 4× wider, GELU, Linear back, times
 * the learnt layer scale, plus the input) separated by LayerNorm2d and
 * 2×2 stride-2 downsampling convolutions, then average pooling and the
 * classifier (LayerNorm2d, Flatten, Linear).  Stochastic depth is an
 * identity at inference.
 *
 * The block's Permute to N×H×W×C and back is the engine's channels-last
 * layout already: its LayerNorm is one over the channels of the map, its
 * Linear layers 1×1 convolutions (the GELU and, with the layer scale
 * folded into the weights, the residual run in their GEMM epilogues).
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-ops-private.h"

#define LN_EPS 1e-6

typedef struct
{
  int channels[4];
  int layers[4];
} ConvNeXtConfig;

/* torchvision's LayerNorm2d “@name”: N×C×H×W → N×C×H×W */
static TvwVal
layer_norm_2d (TvwNet     *net,
               TvwVal      x,
               const char *name)
{
  return tvw_net_layer_norm (net, x, name, 1, tvw_net_channels (net, x), LN_EPS, TRUE);
}

/* CNBlock “@prefix”: N×C×H×W → N×C×H×W */
static TvwVal
cn_block (TvwNet     *net,
          TvwVal      x,
          const char *prefix)
{
  int dim = tvw_net_channels (net, x);
  g_autofree char *dw = g_strconcat (prefix, ".block.0", NULL);
  g_autofree char *norm = g_strconcat (prefix, ".block.2", NULL);
  TvwVal out;

  out = tvw_net_conv2d (net, x, dw, dim, 7, 1, 3, 1, dim, TRUE);
  out = layer_norm_2d (net, out, norm);
  out = tvw_net_conv2d_channel_linear (net, out, prefix, "block.3", 4 * dim, TRUE, NULL);
  out = tvw_net_activation (net, out, TVW_ACT_GELU);
  out = tvw_net_conv2d_channel_linear (net, out, prefix, "block.5", dim, TRUE, "layer_scale");
  return tvw_net_add (net, out, x);
}

static gboolean
build_convnext (TvwNet                *net,
                const TvwArchitecture *arch,
                const TvwBuildConfig  *config,
                GError               **error)
{
  const ConvNeXtConfig *cfg = arch->config;
  int index = 1;
  TvwVal x = tvw_net_input (net, 3);

  /* features.0: N×3×H×W → N×C₀×H/4×W/4 */
  x = tvw_net_conv2d (net, x, "features.0.0", cfg->channels[0], 4, 4, 0, 1, 1, TRUE);
  x = layer_norm_2d (net, x, "features.0.1");

  for (int stage = 0; stage < 4; stage++)
    {
      for (int b = 0; b < cfg->layers[stage]; b++)
        {
          g_autofree char *prefix = g_strdup_printf ("features.%d.%d", index, b);

          x = cn_block (net, x, prefix);
        }
      index++;

      /* N×Cᵢ×h×w → N×Cᵢ₊₁×h/2×w/2 */
      if (stage < 3)
        {
          g_autofree char *norm = g_strdup_printf ("features.%d.0", index);
          g_autofree char *conv = g_strdup_printf ("features.%d.1", index);

          x = layer_norm_2d (net, x, norm);
          x = tvw_net_conv2d (net, x, conv, cfg->channels[stage + 1], 2, 2, 0, 1, 1, TRUE);
          index++;
        }
    }

  /* N×C₃×h×w → N×num_classes (classifier.1 is the Flatten) */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = layer_norm_2d (net, x, "classifier.0");
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "classifier.2", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const ConvNeXtConfig convnext_tiny =  { { 96, 192, 384, 768 },    { 3, 3, 9, 3 } };
static const ConvNeXtConfig convnext_small = { { 96, 192, 384, 768 },    { 3, 3, 27, 3 } };
static const ConvNeXtConfig convnext_base =  { { 128, 256, 512, 1024 },  { 3, 3, 27, 3 } };
static const ConvNeXtConfig convnext_large = { { 192, 384, 768, 1536 },  { 3, 3, 27, 3 } };

/* Only initialisation and training read these. */
static const char *const options[] = { "stochastic_depth_prob", "layer_scale", NULL };

/* The stem and the three downsamplings divide by 32: 32×32 gives a 1×1
 * map (torchvision's min_size). */
const TvwArchitecture tvw_convnext_architectures[] = {
  { "convnext_tiny",  1000, 32, build_convnext, &convnext_tiny, options },
  { "convnext_small", 1000, 32, build_convnext, &convnext_small, options },
  { "convnext_base",  1000, 32, build_convnext, &convnext_base, options },
  { "convnext_large", 1000, 32, build_convnext, &convnext_large, options },
  { NULL }
};
