/* tvw-squeezenet.c — SqueezeNet 1.0 and 1.1, as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/squeezenet.py: a stem convolution, Fire modules (a
 * 1×1 squeeze, then 1×1 and 3×3 expansions concatenated) between
 * ceil-mode max pools, and a classifier that is a 1×1 convolution, a ReLU
 * and an average pool.  Dropout is an identity at inference.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-ops-private.h"

/* A Conv2d with bias named “@prefix@conv” and its ReLU. */
static TvwVal
conv_relu (TvwNet     *net,
           TvwVal      x,
           const char *prefix,
           const char *conv,
           int         out_channels,
           int         kernel,
           int         stride,
           int         padding)
{
  g_autofree char *name = g_strconcat (prefix, conv, NULL);

  x = tvw_net_conv2d (net, x, name, out_channels, kernel, stride, padding, 1, 1, TRUE);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

/* Fire: N×in×H×W → N×(@expand1x1 + @expand3x3)×H×W */
static TvwVal
fire (TvwNet     *net,
      TvwVal      x,
      const char *prefix,
      int         squeeze,
      int         expand1x1,
      int         expand3x3)
{
  TvwVal expanded[2];

  x = conv_relu (net, x, prefix, "squeeze", squeeze, 1, 1, 0);
  expanded[0] = conv_relu (net, x, prefix, "expand1x1", expand1x1, 1, 1, 0);
  expanded[1] = conv_relu (net, x, prefix, "expand3x3", expand3x3, 3, 1, 1);
  return tvw_net_concat (net, 2, expanded, 1);
}

typedef struct
{
  int stem_channels;
  int stem_kernel;
  /* features.3 on: a Fire's squeeze channels (its expansions have four
   * times as many each), or 0 for a max pool; ended by -1. */
  int layers[11];
} SqueezeNetConfig;

static gboolean
build_squeezenet (TvwNet                *net,
                  const TvwArchitecture *arch,
                  const TvwBuildConfig  *config,
                  GError               **error)
{
  const SqueezeNetConfig *cfg = arch->config;
  TvwVal x = tvw_net_input (net, 3);
  int index = 3;

  /* features.0–2: N×3×H×W → N×stem×h×w */
  x = conv_relu (net, x, "features.", "0", cfg->stem_channels, cfg->stem_kernel, 2, 0);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, TRUE);

  /* features.3 on: N×stem×h×w → N×512×h'×w' */
  for (const int *s = cfg->layers; *s >= 0; s++, index++)
    {
      g_autofree char *prefix = g_strdup_printf ("features.%d.", index);

      if (*s == 0)
        x = tvw_net_max_pool2d (net, x, 3, 2, 0, TRUE);
      else
        x = fire (net, x, prefix, *s, 4 * *s, 4 * *s);
    }

  /* N×512×h'×w' → N×num_classes (classifier.0 is the dropout) */
  x = conv_relu (net, x, "classifier.", "1", config->num_classes, 1, 1, 0);
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const SqueezeNetConfig squeezenet1_0 = {
  96, 7, { 16, 16, 32, 0, 32, 48, 48, 64, 0, 64, -1 }
};
static const SqueezeNetConfig squeezenet1_1 = {
  64, 3, { 16, 16, 0, 32, 32, 0, 48, 48, 64, 64, -1 }
};

static const char * const squeezenet_options[] = { "dropout", NULL };

/* The stem and three ceil-mode pools: 1.0 needs 21×21, 1.1 17×17. */
const TvwArchitecture tvw_squeezenet_architectures[] = {
  { "squeezenet1_0", 1000, 21, build_squeezenet, &squeezenet1_0, squeezenet_options },
  { "squeezenet1_1", 1000, 17, build_squeezenet, &squeezenet1_1, squeezenet_options },
  { NULL }
};
