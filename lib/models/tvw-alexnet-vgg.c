/* tvw-alexnet-vgg.c — AlexNet and VGG 11/13/16/19 (with and without
 * BatchNorm), as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/alexnet.py and vgg.py: a `features` Sequential of
 * convolutions, ReLUs and max pools, an adaptive average pool to a fixed
 * map (6×6, 7×7), then a `classifier` Sequential of linear layers.  The
 * ReLUs, pools and dropouts have their own indices in the Sequentials, so
 * the parameter names skip them.  Dropout is an identity at inference.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"

#define BN_EPS 1e-5

/* features.@index: a Conv2d with bias (padded @padding) and its ReLU. */
static TvwVal
conv_relu (TvwNet *net,
           TvwVal  x,
           int     index,
           int     out_channels,
           int     kernel,
           int     stride,
           int     padding)
{
  g_autofree char *name = g_strdup_printf ("features.%d", index);

  x = tvw_net_conv2d (net, x, name, out_channels, kernel, stride, padding, 1, 1, TRUE);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

/* The adaptive average pool to @pool×@pool, then the classifier: three
 * Linear layers with bias (classifier.@first, .@second, .6), ReLUs after
 * the first two; the dropouts between them are identities.
 * N×C×h×w → N×C×pool×pool → N×num_classes */
static gboolean
head (TvwNet  *net,
      TvwVal   x,
      int      pool,
      int      first,
      int      second,
      guint    num_classes,
      GError **error)
{
  const int index[3] = { first, second, 6 };

  x = tvw_net_adaptive_avg_pool2d (net, x, pool, pool);
  x = tvw_net_flatten (net, x);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("classifier.%d", index[i]);

      x = tvw_net_linear (net, x, name, i < 2 ? 4096 : (int) num_classes, TRUE);
      if (i < 2)
        x = tvw_net_activation (net, x, TVW_ACT_RELU);
    }
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static gboolean
build_alexnet (TvwNet                *net,
               const TvwArchitecture *arch,
               const TvwBuildConfig  *config,
               GError               **error)
{
  TvwVal x = tvw_net_input (net, 3);

  /* features: N×3×H×W → N×256×h×w */
  x = conv_relu (net, x, 0, 64, 11, 4, 2);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);
  x = conv_relu (net, x, 3, 192, 5, 1, 2);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);
  x = conv_relu (net, x, 6, 384, 3, 1, 1);
  x = conv_relu (net, x, 8, 256, 3, 1, 1);
  x = conv_relu (net, x, 10, 256, 3, 1, 1);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);

  /* classifier.0, .3 are the dropouts */
  return head (net, x, 6, 1, 4, config->num_classes, error);
}

/* torchvision's cfgs: output channels of each 3×3 convolution, 0 for a
 * 2×2 max pool; ended by -1. */
typedef struct
{
  gboolean batch_norm;
  int      layers[22];
} VggConfig;

static gboolean
build_vgg (TvwNet                *net,
           const TvwArchitecture *arch,
           const TvwBuildConfig  *config,
           GError               **error)
{
  const VggConfig *cfg = arch->config;
  TvwVal x = tvw_net_input (net, 3);
  int index = 0;

  /* features (make_layers): N×3×H×W → N×512×H/32×W/32 */
  for (const int *c = cfg->layers; *c >= 0; c++)
    {
      g_autofree char *conv = NULL;

      if (*c == 0)
        {
          x = tvw_net_max_pool2d (net, x, 2, 2, 0, FALSE);
          index++;
          continue;
        }

      conv = g_strdup_printf ("features.%d", index++);
      x = tvw_net_conv2d (net, x, conv, *c, 3, 1, 1, 1, 1, TRUE);
      if (cfg->batch_norm)
        {
          g_autofree char *bn = g_strdup_printf ("features.%d", index++);

          x = tvw_net_batch_norm (net, x, bn, BN_EPS);
        }
      x = tvw_net_activation (net, x, TVW_ACT_RELU);
      index++;
    }

  /* classifier.2, .5 are the dropouts */
  return head (net, x, 7, 0, 3, config->num_classes, error);
}

#define VGG_A 64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0, -1
#define VGG_B 64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0, -1
#define VGG_D 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0, -1
#define VGG_E 64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, \
              512, 512, 512, 512, 0, -1

static const VggConfig vgg11 =    { FALSE, { VGG_A } };
static const VggConfig vgg11_bn = { TRUE,  { VGG_A } };
static const VggConfig vgg13 =    { FALSE, { VGG_B } };
static const VggConfig vgg13_bn = { TRUE,  { VGG_B } };
static const VggConfig vgg16 =    { FALSE, { VGG_D } };
static const VggConfig vgg16_bn = { TRUE,  { VGG_D } };
static const VggConfig vgg19 =    { FALSE, { VGG_E } };
static const VggConfig vgg19_bn = { TRUE,  { VGG_E } };

/* Keyword arguments of AlexNet and VGG that only matter in training. */
static const char * const vgg_options[] = { "dropout", "init_weights", NULL };
static const char * const alexnet_options[] = { "dropout", NULL };

/* AlexNet's first convolution and three pools need 63×63; VGG's five
 * pools need 32×32. */
const TvwArchitecture tvw_alexnet_vgg_architectures[] = {
  { "alexnet",  1000, 63, build_alexnet, NULL,      alexnet_options },
  { "vgg11",    1000, 32, build_vgg,     &vgg11,    vgg_options },
  { "vgg11_bn", 1000, 32, build_vgg,     &vgg11_bn, vgg_options },
  { "vgg13",    1000, 32, build_vgg,     &vgg13,    vgg_options },
  { "vgg13_bn", 1000, 32, build_vgg,     &vgg13_bn, vgg_options },
  { "vgg16",    1000, 32, build_vgg,     &vgg16,    vgg_options },
  { "vgg16_bn", 1000, 32, build_vgg,     &vgg16_bn, vgg_options },
  { "vgg19",    1000, 32, build_vgg,     &vgg19,    vgg_options },
  { "vgg19_bn", 1000, 32, build_vgg,     &vgg19_bn, vgg_options },
  { NULL }
};
