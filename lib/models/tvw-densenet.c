/* tvw-densenet.c — DenseNet 121/161/169/201, as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/densenet.py: a 7×7 stem and a max pool, four dense
 * blocks — each layer reads the concatenation of the block's input and
 * every earlier layer's output (BatchNorm, ReLU, 1×1 bottleneck
 * convolution, BatchNorm, ReLU, 3×3 convolution adding growth_rate
 * channels) — with transitions between them (BatchNorm, ReLU, 1×1
 * convolution halving the channels, 2×2 average pool), a last BatchNorm,
 * ReLU, average pool and the classifier.  Dropout (drop_rate) is an
 * identity at inference.
 *
 * The block's concatenations all share one buffer: the engine's planner
 * lets each layer write its output straight into its slice of the block's
 * last concatenation, and the earlier concatenations, whose inputs are
 * then already side by side, become views of it.
 */

#include "config.h"

#include <string.h>

#include "tvw-architectures-private.h"
#include "tvw-ops-private.h"
#include "tvw-blocks-private.h"

#define BN_EPS 1e-5
#define BN_SIZE 4
#define N_BLOCKS 4

typedef struct
{
  int growth_rate;
  int block_config[N_BLOCKS];
  int num_init_features;
} DenseNetConfig;

/* A BatchNorm “@prefix@bn” then a ReLU; BatchNorm before a convolution
 * cannot be folded into it. */
static TvwVal
bn_relu (TvwNet     *net,
         TvwVal      x,
         const char *prefix,
         const char *bn)
{
  g_autofree char *name = g_strconcat (prefix, bn, NULL);

  x = tvw_net_batch_norm (net, x, name, BN_EPS);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

/* _DenseLayer: the concatenation of @features[0..@n_features) →
 * N×growth_rate×H×W */
static TvwVal
dense_layer (TvwNet       *net,
             const TvwVal *features,
             int           n_features,
             const char   *prefix,
             int           growth_rate)
{
  g_autofree char *conv1 = g_strconcat (prefix, "conv1", NULL);
  g_autofree char *conv2 = g_strconcat (prefix, "conv2", NULL);
  TvwVal x;

  x = n_features > 1 ? tvw_net_concat (net, n_features, features, 1) : features[0];
  x = bn_relu (net, x, prefix, "norm1");
  x = tvw_net_conv2d (net, x, conv1, BN_SIZE * growth_rate, 1, 1, 0, 1, 1, FALSE);
  /* norm2 folds into conv1, relu2 into its epilogue. */
  x = bn_relu (net, x, prefix, "norm2");
  return tvw_net_conv2d (net, x, conv2, growth_rate, 3, 1, 1, 1, 1, FALSE);
}

/* _DenseBlock: N×C×H×W → N×(C + @n_layers·growth_rate)×H×W */
static TvwVal
dense_block (TvwNet     *net,
             TvwVal      x,
             int         block,
             int         n_layers,
             int         growth_rate)
{
  g_autofree TvwVal *features = g_new (TvwVal, n_layers + 1);

  features[0] = x;
  for (int i = 0; i < n_layers; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("features.denseblock%d.denselayer%d.",
                                                 block + 1, i + 1);

      features[i + 1] = dense_layer (net, features, i + 1, prefix, growth_rate);
    }

  return tvw_net_concat (net, n_layers + 1, features, 1);
}

/* _Transition: N×C×H×W → N×C/2×H/2×W/2 */
static TvwVal
transition (TvwNet *net,
            TvwVal  x,
            int     block)
{
  g_autofree char *prefix = g_strdup_printf ("features.transition%d.", block + 1);
  g_autofree char *conv = g_strconcat (prefix, "conv", NULL);
  int out_channels = tvw_net_channels (net, x) / 2;

  x = bn_relu (net, x, prefix, "norm");
  /* A bias-free 1×1 convolution and a 2×2 average pool are both linear
   * per pixel and commute: pooling first does a quarter of the
   * convolution's work for the same result (up to rounding). */
  x = tvw_net_avg_pool2d (net, x, 2, 2, 0, FALSE, TRUE);
  return tvw_net_conv2d (net, x, conv, out_channels, 1, 1, 0, 1, 1, FALSE);
}

static gboolean
build_densenet (TvwNet                *net,
                const TvwArchitecture *arch,
                const TvwBuildConfig  *config,
                GError               **error)
{
  const DenseNetConfig *cfg = arch->config;
  TvwVal x = tvw_net_input (net, 3);

  /* features.conv0 … pool0: N×3×H×W → N×init×H/4×W/4 */
  x = tvw_blocks_conv_bn (net, x, "features.", "conv0", "norm0", BN_EPS,
                          cfg->num_init_features, 7, 2, 1, 1, TVW_ACT_RELU);
  x = tvw_net_max_pool2d (net, x, 3, 2, 1, FALSE);

  for (int b = 0; b < N_BLOCKS; b++)
    {
      x = dense_block (net, x, b, cfg->block_config[b], cfg->growth_rate);
      if (b != N_BLOCKS - 1)
        x = transition (net, x, b);
    }

  /* norm5, F.relu, pooling: N×C×h×w → N×num_classes */
  x = bn_relu (net, x, "features.", "norm5");
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "classifier", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* torchvision's checkpoints of DenseNet predate the dense layers' current
 * names: their “norm.1”, “conv.1”, “norm.2”, “conv.2” are now “norm1”,
 * “conv1”, “norm2”, “conv2” (densenet.py's _load_state_dict () renames
 * them with the same pattern). */
static char *
upgrade_key (const char *key)
{
  static const char * const modules[] = { "norm.", "relu.", "conv." };
  static const char * const suffixes[] = { "weight", "bias", "running_mean", "running_var" };
  const char *p = key;
  const char *module = NULL;

  /* …denselayer<digits>.(norm|relu|conv).[12].<suffix>, the last
   * “denselayer” of the key as the pattern's greedy “.*” finds it. */
  for (const char *at = strstr (p, "denselayer"); at != NULL; at = strstr (at + 1, "denselayer"))
    p = at;
  if (!g_str_has_prefix (p, "denselayer"))
    return NULL;
  p += strlen ("denselayer");
  if (!g_ascii_isdigit (*p))
    return NULL;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p++ != '.')
    return NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (modules); i++)
    if (g_str_has_prefix (p, modules[i]))
      module = p;
  if (module == NULL)
    return NULL;
  p += strlen ("norm.");
  if ((*p != '1' && *p != '2') || p[1] != '.')
    return NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_equal (p + 2, suffixes[i]))
      return g_strdup_printf ("%.*s%s", (int) (p - 1 - key), key, p);

  return NULL;
}

static const DenseNetConfig densenet121 = { 32, { 6, 12, 24, 16 }, 64 };
static const DenseNetConfig densenet161 = { 48, { 6, 12, 36, 24 }, 96 };
static const DenseNetConfig densenet169 = { 32, { 6, 12, 32, 32 }, 64 };
static const DenseNetConfig densenet201 = { 32, { 6, 12, 48, 32 }, 64 };

/* Keyword arguments that only matter in training. */
static const char * const densenet_options[] = { "drop_rate", "memory_efficient", NULL };

/* The stem, the max pool and three 2×2 average pools need 29×29. */
const TvwArchitecture tvw_densenet_architectures[] = {
  { "densenet121", 1000, 29, build_densenet, &densenet121, densenet_options, .upgrade_key = upgrade_key },
  { "densenet161", 1000, 29, build_densenet, &densenet161, densenet_options, .upgrade_key = upgrade_key },
  { "densenet169", 1000, 29, build_densenet, &densenet169, densenet_options, .upgrade_key = upgrade_key },
  { "densenet201", 1000, 29, build_densenet, &densenet201, densenet_options, .upgrade_key = upgrade_key },
  { NULL }
};
