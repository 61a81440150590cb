/* tvw-mobilenet.c — MobileNet V2 and V3 (large, small), as torchvision
 * builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/mobilenetv2.py and mobilenetv3.py: inverted residual
 * blocks (1×1 expansion, depthwise k×k, [squeeze-excitation with a
 * hard-sigmoid gate in V3,] linear 1×1 projection), a 1×1 head, average
 * pooling and the classifier.  Dropout is an identity at inference.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-architectures-private.h"
#include "tvw-backbones-private.h"
#include "tvw-blocks-private.h"

/* MobileNet V2 */

#define V2_BN_EPS 1e-5

/* InvertedResidual (V2): N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
inverted_residual_v2 (TvwNet     *net,
                      TvwVal      x,
                      const char *prefix,
                      int         out_channels,
                      int         stride,
                      int         expand_ratio)
{
  int in_channels = tvw_net_channels (net, x);
  int hidden = (int) rint ((double) in_channels * expand_ratio);
  int layer = 0;
  TvwVal out = x;
  g_autofree char *expand = g_strdup_printf ("%s.conv.0", prefix);
  g_autofree char *dw = NULL;
  g_autofree char *project = NULL;
  g_autofree char *project_bn = NULL;

  if (expand_ratio != 1)
    {
      out = tvw_blocks_conv_norm_act (net, out, expand, V2_BN_EPS, hidden, 1, 1, 1, 1,
                                      TVW_ACT_RELU6);
      layer++;
    }

  dw = g_strdup_printf ("%s.conv.%d", prefix, layer);
  project = g_strdup_printf (".conv.%d", layer + 1);
  project_bn = g_strdup_printf (".conv.%d", layer + 2);

  out = tvw_blocks_conv_norm_act (net, out, dw, V2_BN_EPS, hidden, 3, stride, 1, hidden,
                                  TVW_ACT_RELU6);
  /* The projection is a bare Conv2d and BatchNorm2d, not a
   * Conv2dNormActivation. */
  out = tvw_blocks_conv_bn (net, out, prefix, project, project_bn, V2_BN_EPS, out_channels,
                            1, 1, 1, 1, TVW_ACT_NONE);

  if (stride == 1 && in_channels == out_channels)
    out = tvw_net_add (net, out, x);

  return out;
}

static void
build_mobilenet_v2 (TvwNet *net,
                    guint   num_classes)
{
  /* t (expansion), c (channels), n (blocks), s (stride of the first) */
  static const int setting[][4] = {
    { 1, 16,  1, 1 },
    { 6, 24,  2, 2 },
    { 6, 32,  3, 2 },
    { 6, 64,  4, 2 },
    { 6, 96,  3, 1 },
    { 6, 160, 3, 2 },
    { 6, 320, 1, 1 },
  };
  const double width_mult = 1.0;
  int last_channel = tvw_blocks_make_divisible (1280 * MAX (1.0, width_mult), 8);
  int index = 1;
  TvwVal x = tvw_net_input (net, 3);

  /* features.0: N×3×H×W → N×32×H/2×W/2 */
  x = tvw_blocks_conv_norm_act (net, x, "features.0", V2_BN_EPS,
                                tvw_blocks_make_divisible (32 * width_mult, 8),
                                3, 2, 1, 1, TVW_ACT_RELU6);

  /* features.1 … features.17 */
  for (gsize i = 0; i < G_N_ELEMENTS (setting); i++)
    for (int b = 0; b < setting[i][2]; b++)
      {
        g_autofree char *prefix = g_strdup_printf ("features.%d", index++);

        x = inverted_residual_v2 (net, x, prefix,
                                  tvw_blocks_make_divisible (setting[i][1] * width_mult, 8),
                                  b == 0 ? setting[i][3] : 1, setting[i][0]);
      }

  /* features.18: N×320×h×w → N×1280×h×w */
  {
    g_autofree char *head = g_strdup_printf ("features.%d", index);

    x = tvw_blocks_conv_norm_act (net, x, head, V2_BN_EPS, last_channel, 1, 1, 1, 1,
                                  TVW_ACT_RELU6);
  }

  /* N×1280×h×w → N×num_classes (classifier.0 is the dropout) */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "classifier.1", num_classes, TRUE);
  tvw_net_set_output (net, x);
}

/* MobileNet V3 */

#define V3_BN_EPS 1e-3

typedef struct
{
  int      input_channels;
  int      kernel;
  int      expanded_channels;
  int      out_channels;
  gboolean use_se;
  gboolean use_hs;         /* hardswish, else ReLU */
  int      stride;
  int      dilation;
} InvertedResidualConfig;

/* InvertedResidual (V3): N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
inverted_residual_v3 (TvwNet                       *net,
                      TvwVal                        x,
                      const char                   *prefix,
                      const InvertedResidualConfig *cnf,
                      double                        eps)
{
  TvwActivation act = cnf->use_hs ? TVW_ACT_HARDSWISH : TVW_ACT_RELU;
  int stride = cnf->dilation > 1 ? 1 : cnf->stride;
  int layer = 0;
  TvwVal out = x;
  g_autofree char *expand = g_strdup_printf ("%s.block.0", prefix);
  g_autofree char *dw = NULL;
  g_autofree char *project = NULL;

  if (cnf->expanded_channels != cnf->input_channels)
    {
      out = tvw_blocks_conv_norm_act (net, out, expand, eps, cnf->expanded_channels,
                                      1, 1, 1, 1, act);
      layer++;
    }

  dw = g_strdup_printf ("%s.block.%d", prefix, layer++);
  out = tvw_blocks_conv_norm_act (net, out, dw, eps, cnf->expanded_channels,
                                  cnf->kernel, stride, cnf->dilation, cnf->expanded_channels, act);

  if (cnf->use_se)
    {
      g_autofree char *se = g_strdup_printf ("%s.block.%d", prefix, layer++);

      /* SqueezeExcitation with ReLU and a hard-sigmoid gate, in one engine
       * node. */
      out = tvw_net_squeeze_excitation (net, out, se,
                                        tvw_blocks_make_divisible (cnf->expanded_channels / 4, 8),
                                        TVW_ACT_RELU, TVW_ACT_HARDSIGMOID);
    }

  project = g_strdup_printf ("%s.block.%d", prefix, layer);
  out = tvw_blocks_conv_norm_act (net, out, project, eps, cnf->out_channels, 1, 1, 1, 1,
                                  TVW_ACT_NONE);

  if (cnf->stride == 1 && cnf->input_channels == cnf->out_channels)
    out = tvw_net_add (net, out, x);

  return out;
}

/* features.0 … features.(n_blocks + 1), the modules named “@base.i”; with
 * @dilated, the last three blocks at dilation 2 (their stride 1), as
 * _mobilenet_v3_conf (dilated=True).  @features (nullable) receives each
 * module's output.  N×3×H×W → N×6·last_in×H/32×W/32 (/16 dilated) */
static TvwVal
features_v3 (TvwNet                       *net,
             TvwVal                        x,
             const char                   *base,
             const InvertedResidualConfig *setting,
             gsize                         n_blocks,
             gboolean                      dilated,
             double                        eps,
             TvwVal                       *features)
{
  int last_in = setting[n_blocks - 1].out_channels;
  g_autofree char *first = g_strdup_printf ("%s.0", base);

  /* features.0: N×3×H×W → N×16×H/2×W/2 */
  x = tvw_blocks_conv_norm_act (net, x, first, eps, setting[0].input_channels,
                                3, 2, 1, 1, TVW_ACT_HARDSWISH);
  if (features != NULL)
    features[0] = x;

  /* features.1 … features.n_blocks */
  for (gsize i = 0; i < n_blocks; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("%s.%" G_GSIZE_FORMAT, base, i + 1);
      InvertedResidualConfig cnf = setting[i];

      if (dilated && i + 3 >= n_blocks)
        cnf.dilation = 2;
      x = inverted_residual_v3 (net, x, prefix, &cnf, eps);
      if (features != NULL)
        features[i + 1] = x;
    }

  /* The 1×1 head: N×last_in×h×w → N×6·last_in×h×w */
  {
    g_autofree char *head = g_strdup_printf ("%s.%" G_GSIZE_FORMAT, base, n_blocks + 1);

    x = tvw_blocks_conv_norm_act (net, x, head, eps, 6 * last_in, 1, 1, 1, 1,
                                  TVW_ACT_HARDSWISH);
    if (features != NULL)
      features[n_blocks + 1] = x;
  }

  return x;
}

static void
build_mobilenet_v3 (TvwNet                       *net,
                    const InvertedResidualConfig *setting,
                    gsize                         n_blocks,
                    int                           last_channel,
                    guint                         num_classes)
{
  TvwVal x = features_v3 (net, tvw_net_input (net, 3), "features", setting, n_blocks, FALSE, V3_BN_EPS,
                          NULL);

  /* N×6·last_in×h×w → N×num_classes (classifier.2 is the dropout) */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "classifier.0", last_channel, TRUE);
  x = tvw_net_activation (net, x, TVW_ACT_HARDSWISH);
  x = tvw_net_linear (net, x, "classifier.3", num_classes, TRUE);
  tvw_net_set_output (net, x);
}

/* _mobilenet_v3_conf with width 1, no reduced tail, no dilation (the
 * classification builders' defaults). */
static const InvertedResidualConfig v3_large[] = {
  /* in  k  exp  out  SE     HS     s  d */
  { 16,  3, 16,  16,  FALSE, FALSE, 1, 1 },
  { 16,  3, 64,  24,  FALSE, FALSE, 2, 1 },
  { 24,  3, 72,  24,  FALSE, FALSE, 1, 1 },
  { 24,  5, 72,  40,  TRUE,  FALSE, 2, 1 },
  { 40,  5, 120, 40,  TRUE,  FALSE, 1, 1 },
  { 40,  5, 120, 40,  TRUE,  FALSE, 1, 1 },
  { 40,  3, 240, 80,  FALSE, TRUE,  2, 1 },
  { 80,  3, 200, 80,  FALSE, TRUE,  1, 1 },
  { 80,  3, 184, 80,  FALSE, TRUE,  1, 1 },
  { 80,  3, 184, 80,  FALSE, TRUE,  1, 1 },
  { 80,  3, 480, 112, TRUE,  TRUE,  1, 1 },
  { 112, 3, 672, 112, TRUE,  TRUE,  1, 1 },
  { 112, 5, 672, 160, TRUE,  TRUE,  2, 1 },
  { 160, 5, 960, 160, TRUE,  TRUE,  1, 1 },
  { 160, 5, 960, 160, TRUE,  TRUE,  1, 1 },
};

static const InvertedResidualConfig v3_small[] = {
  /* in  k  exp  out  SE     HS     s  d */
  { 16,  3, 16,  16,  TRUE,  FALSE, 2, 1 },
  { 16,  3, 72,  24,  FALSE, FALSE, 2, 1 },
  { 24,  3, 88,  24,  FALSE, FALSE, 1, 1 },
  { 24,  5, 96,  40,  TRUE,  TRUE,  2, 1 },
  { 40,  5, 240, 40,  TRUE,  TRUE,  1, 1 },
  { 40,  5, 240, 40,  TRUE,  TRUE,  1, 1 },
  { 40,  5, 120, 48,  TRUE,  TRUE,  1, 1 },
  { 48,  5, 144, 48,  TRUE,  TRUE,  1, 1 },
  { 48,  5, 288, 96,  TRUE,  TRUE,  2, 1 },
  { 96,  5, 576, 96,  TRUE,  TRUE,  1, 1 },
  { 96,  5, 576, 96,  TRUE,  TRUE,  1, 1 },
};

static gboolean
build (TvwNet                *net,
       const TvwArchitecture *arch,
       const TvwBuildConfig  *config,
       GError               **error)
{
  const guint num_classes = config->num_classes;

  if (g_str_equal (arch->name, "mobilenet_v2"))
    build_mobilenet_v2 (net, num_classes);
  else if (g_str_equal (arch->name, "mobilenet_v3_large"))
    build_mobilenet_v3 (net, v3_large, G_N_ELEMENTS (v3_large), 1280, num_classes);
  else
    build_mobilenet_v3 (net, v3_small, G_N_ELEMENTS (v3_small), 1024, num_classes);

  return tvw_net_check (net, error);
}

/* Every convolution is padded (k - 1) / 2: a 1×1 input stays 1×1. */
const TvwArchitecture tvw_mobilenet_architectures[] = {
  { "mobilenet_v2",       1000, 1, build },
  { "mobilenet_v3_large", 1000, 1, build },
  { "mobilenet_v3_small", 1000, 1, build },
  { NULL }
};

TvwVal
tvw_mobilenet_v3_large_features (TvwNet     *net,
                                 TvwVal      x,
                                 const char *base,
                                 gboolean    dilated,
                                 TvwVal      features[TVW_MOBILENET_V3_LARGE_N_FEATURES])
{
  return tvw_mobilenet_v3_large_features_full (net, x, base, dilated, FALSE, V3_BN_EPS, features);
}

TvwVal
tvw_mobilenet_v3_large_features_full (TvwNet     *net,
                                      TvwVal      x,
                                      const char *base,
                                      gboolean    dilated,
                                      gboolean    reduced_tail,
                                      double      eps,
                                      TvwVal      features[TVW_MOBILENET_V3_LARGE_N_FEATURES])
{
  InvertedResidualConfig setting[G_N_ELEMENTS (v3_large)];
  const gsize n = G_N_ELEMENTS (v3_large);

  G_STATIC_ASSERT (G_N_ELEMENTS (v3_large) + 2 == TVW_MOBILENET_V3_LARGE_N_FEATURES);

  /* _mobilenet_v3_conf (reduced_tail=True): the last three blocks at half
   * width. */
  memcpy (setting, v3_large, sizeof setting);
  if (reduced_tail)
    {
      setting[n - 3].out_channels /= 2;
      for (gsize i = n - 2; i < n; i++)
        {
          setting[i].input_channels /= 2;
          setting[i].expanded_channels /= 2;
          setting[i].out_channels /= 2;
        }
    }

  return features_v3 (net, x, base, setting, n, dilated, eps, features);
}
