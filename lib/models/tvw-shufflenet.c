/* tvw-shufflenet.c — ShuffleNet V2 (x0.5, x1.0, x1.5, x2.0), as
 * torchvision builds it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/shufflenetv2.py: a 3×3 stride-2 stem and a max pool,
 * three stages of InvertedResidual units — stride 2: both branches see
 * the whole input (branch1: 3×3 depthwise, 1×1; branch2: 1×1, 3×3
 * depthwise, 1×1); stride 1: the input's first half passes through, the
 * second goes through branch2 — each followed by a channel shuffle of two
 * groups, a 1×1 head, the spatial mean and the classifier.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"
#include "tvw-ops-private.h"

#define BN_EPS 1e-5

typedef struct
{
  int stages_out_channels[5];
} ShuffleNetConfig;

static const int stages_repeats[3] = { 4, 8, 4 };

/* InvertedResidual “@prefix”: N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
inverted_residual (TvwNet     *net,
                   TvwVal      x,
                   const char *prefix,
                   int         out_channels,
                   int         stride)
{
  int in_channels = tvw_net_channels (net, x);
  int branch_features = out_channels / 2;
  TvwVal halves[2], b2;

  if (stride > 1)
    {
      halves[0] = tvw_blocks_conv_bn (net, x, prefix, ".branch1.0", ".branch1.1", BN_EPS,
                                      in_channels, 3, stride, 1, in_channels, TVW_ACT_NONE);
      halves[0] = tvw_blocks_conv_bn (net, halves[0], prefix, ".branch1.2", ".branch1.3", BN_EPS,
                                      branch_features, 1, 1, 1, 1, TVW_ACT_RELU);
      b2 = x;
    }
  else
    {
      const gint64 sizes[2] = { in_channels / 2, in_channels - in_channels / 2 };
      TvwVal chunks[2];

      /* x.chunk (2, dim=1) */
      tvw_net_split (net, x, 1, 2, sizes, chunks);
      halves[0] = chunks[0];
      b2 = chunks[1];
    }

  b2 = tvw_blocks_conv_bn (net, b2, prefix, ".branch2.0", ".branch2.1", BN_EPS,
                           branch_features, 1, 1, 1, 1, TVW_ACT_RELU);
  b2 = tvw_blocks_conv_bn (net, b2, prefix, ".branch2.3", ".branch2.4", BN_EPS,
                           branch_features, 3, stride, 1, branch_features, TVW_ACT_NONE);
  halves[1] = tvw_blocks_conv_bn (net, b2, prefix, ".branch2.5", ".branch2.6", BN_EPS,
                                  branch_features, 1, 1, 1, 1, TVW_ACT_RELU);

  return tvw_net_channel_shuffle (net, tvw_net_concat (net, 2, halves, 1), 2);
}

static gboolean
build_shufflenet_v2 (TvwNet                *net,
                     const TvwArchitecture *arch,
                     const TvwBuildConfig  *config,
                     GError               **error)
{
  const ShuffleNetConfig *cfg = arch->config;
  const int *channels = cfg->stages_out_channels;
  TvwVal x = tvw_net_input (net, 3);

  /* conv1, maxpool: N×3×H×W → N×24×H/4×W/4 */
  x = tvw_blocks_conv_bn (net, x, "conv1", ".0", ".1", BN_EPS, channels[0], 3, 2, 1, 1,
                          TVW_ACT_RELU);
  x = tvw_net_max_pool2d (net, x, 3, 2, 1, FALSE);

  /* stage2–4: → N×channels[3]×H/32×W/32 */
  for (int s = 0; s < 3; s++)
    for (int r = 0; r < stages_repeats[s]; r++)
      {
        g_autofree char *prefix = g_strdup_printf ("stage%d.%d", s + 2, r);

        x = inverted_residual (net, x, prefix, channels[s + 1], r == 0 ? 2 : 1);
      }

  /* conv5: → N×channels[4]×h×w */
  x = tvw_blocks_conv_bn (net, x, "conv5", ".0", ".1", BN_EPS, channels[4], 1, 1, 1, 1,
                          TVW_ACT_RELU);

  /* x.mean ([2, 3]), fc */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "fc", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const ShuffleNetConfig shufflenet_v2_x0_5 = { { 24, 48, 96, 192, 1024 } };
static const ShuffleNetConfig shufflenet_v2_x1_0 = { { 24, 116, 232, 464, 1024 } };
static const ShuffleNetConfig shufflenet_v2_x1_5 = { { 24, 176, 352, 704, 1024 } };
static const ShuffleNetConfig shufflenet_v2_x2_0 = { { 24, 244, 488, 976, 2048 } };

/* Every convolution and the max pool are padded k / 2: a 1×1 input stays
 * 1×1. */
const TvwArchitecture tvw_shufflenet_architectures[] = {
  { "shufflenet_v2_x0_5", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x0_5 },
  { "shufflenet_v2_x1_0", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x1_0 },
  { "shufflenet_v2_x1_5", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x1_5 },
  { "shufflenet_v2_x2_0", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x2_0 },
  { NULL }
};
