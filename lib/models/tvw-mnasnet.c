/* tvw-mnasnet.c — MNASNet (B1: 0.5, 0.75, 1.0, 1.3), as torchvision
 * builds it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/mnasnet.py (version 2 of its state_dict, the one
 * every current checkpoint has): a stem of a 3×3 convolution, a 3×3
 * depthwise and a 1×1 projection, six stacks of inverted residuals
 * (1×1 expansion, k×k depthwise, linear 1×1 projection), a 1×1 head to
 * 1280 channels, the spatial mean and the classifier.  Every layer lives
 * in one nn.Sequential “layers”; dropout is an identity at inference.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"

#define BN_EPS 1e-5

typedef struct
{
  double alpha;
} MNASNetConfig;

/* _InvertedResidual “@prefix”: N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
inverted_residual (TvwNet     *net,
                   TvwVal      x,
                   const char *prefix,
                   int         out_channels,
                   int         kernel,
                   int         stride,
                   int         expansion)
{
  int in_channels = tvw_net_channels (net, x);
  int mid = in_channels * expansion;
  TvwVal out;

  out = tvw_blocks_conv_bn (net, x, prefix, ".layers.0", ".layers.1", BN_EPS, mid,
                            1, 1, 1, 1, TVW_ACT_RELU);
  out = tvw_blocks_conv_bn (net, out, prefix, ".layers.3", ".layers.4", BN_EPS, mid,
                            kernel, stride, 1, mid, TVW_ACT_RELU);
  out = tvw_blocks_conv_bn (net, out, prefix, ".layers.6", ".layers.7", BN_EPS, out_channels,
                            1, 1, 1, 1, TVW_ACT_NONE);

  if (in_channels == out_channels && stride == 1)
    out = tvw_net_add (net, out, x);
  return out;
}

static gboolean
build_mnasnet (TvwNet                *net,
               const TvwArchitecture *arch,
               const TvwBuildConfig  *config,
               GError               **error)
{
  const MNASNetConfig *cfg = arch->config;
  static const int base_depths[8] = { 32, 16, 24, 40, 80, 96, 192, 320 };
  /* _stack (): kernel, stride, expansion, repeats; in → out is
   * depths[i + 1] → depths[i + 2]. */
  static const int stacks[6][4] = {
    { 3, 2, 3, 3 },
    { 5, 2, 3, 3 },
    { 5, 2, 6, 3 },
    { 3, 1, 6, 2 },
    { 5, 2, 6, 4 },
    { 3, 1, 6, 1 },
  };
  int depths[8];
  TvwVal x = tvw_net_input (net, 3);

  /* _get_depths (): _round_to_multiple_of (depth · alpha, 8), which is
   * _make_divisible with its 0.9 bias. */
  for (int i = 0; i < 8; i++)
    depths[i] = tvw_blocks_make_divisible (base_depths[i] * cfg->alpha, 8);

  /* Checkpoints saved before torchvision's MNASNet version 2 (the first
   * mnasnet0_5 weights) have a stem of fixed width, 32 → 16, whatever
   * alpha is (torchvision's _load_from_state_dict patches it in). */
  if (tvw_build_config_get_int (config, "checkpoint_version", 2) == 1)
    {
      depths[0] = 32;
      depths[1] = 16;
    }

  /* layers.0–7: N×3×H×W → N×depths[1]×H/2×W/2 */
  x = tvw_blocks_conv_bn (net, x, "layers.", "0", "1", BN_EPS, depths[0], 3, 2, 1, 1,
                          TVW_ACT_RELU);
  x = tvw_blocks_conv_bn (net, x, "layers.", "3", "4", BN_EPS, depths[0], 3, 1, 1, depths[0],
                          TVW_ACT_RELU);
  x = tvw_blocks_conv_bn (net, x, "layers.", "6", "7", BN_EPS, depths[1], 1, 1, 1, 1,
                          TVW_ACT_NONE);

  /* layers.8–13: → N×depths[7]×H/32×W/32 */
  for (int s = 0; s < 6; s++)
    for (int r = 0; r < stacks[s][3]; r++)
      {
        g_autofree char *prefix = g_strdup_printf ("layers.%d.%d", 8 + s, r);

        x = inverted_residual (net, x, prefix, depths[s + 2], stacks[s][0],
                               r == 0 ? stacks[s][1] : 1, stacks[s][2]);
      }

  /* layers.14–16: → N×1280×h×w */
  x = tvw_blocks_conv_bn (net, x, "layers.", "14", "15", BN_EPS, 1280, 1, 1, 1, 1,
                          TVW_ACT_RELU);

  /* x.mean ([2, 3]), classifier.1 (classifier.0 is the dropout) */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "classifier.1", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* A checkpoint whose stem starts with 32 channels where alpha gives
 * another width is a version 1 checkpoint: the net is built again with its
 * stem. */
static gboolean
mnasnet_checkpoint_options (const TvwArchitecture *arch,
                            TvwCheckpoint         *ckpt,
                            TvwNet                *net,
                            GVariantDict          *options)
{
  const MNASNetConfig *cfg = arch->config;
  const TvwCkptTensor *t = tvw_checkpoint_lookup (ckpt, "layers.0.weight");

  if (t == NULL || t->n_dims != 4 || t->shape[0] != 32 ||
      tvw_blocks_make_divisible (32 * cfg->alpha, 8) == 32 ||
      g_variant_dict_contains (options, "checkpoint_version"))
    return FALSE;

  g_variant_dict_insert (options, "checkpoint_version", "x", (gint64) 1);
  return TRUE;
}

static const char * const mnasnet_options[] = { "checkpoint_version", NULL };

static const MNASNetConfig mnasnet0_5 =  { 0.5 };
static const MNASNetConfig mnasnet0_75 = { 0.75 };
static const MNASNetConfig mnasnet1_0 =  { 1.0 };
static const MNASNetConfig mnasnet1_3 =  { 1.3 };

/* Every convolution is padded k / 2: a 1×1 input stays 1×1. */
const TvwArchitecture tvw_mnasnet_architectures[] = {
  { "mnasnet0_5",  1000, 1, build_mnasnet, &mnasnet0_5,  mnasnet_options, mnasnet_checkpoint_options },
  { "mnasnet0_75", 1000, 1, build_mnasnet, &mnasnet0_75, mnasnet_options, mnasnet_checkpoint_options },
  { "mnasnet1_0",  1000, 1, build_mnasnet, &mnasnet1_0,  mnasnet_options, mnasnet_checkpoint_options },
  { "mnasnet1_3",  1000, 1, build_mnasnet, &mnasnet1_3,  mnasnet_options, mnasnet_checkpoint_options },
  { NULL }
};
