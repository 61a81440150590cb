/* tvw-regnet.c — RegNet X and Y, as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/regnet.py: a 3×3 stride-2 stem, four stages of
 * residual bottleneck blocks (1×1, grouped 3×3 [+ squeeze-excitation in Y],
 * 1×1) whose widths, depths and group widths are generated from four
 * numbers (BlockParams.from_init_params), average pooling and a linear
 * classifier.
 */

#include "config.h"

#include <math.h>

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"

#define BN_EPS 1e-5
#define MAX_STAGES 8

typedef struct
{
  int    depth;
  int    w_0;
  double w_a;
  double w_m;
  int    group_width;
  double se_ratio;     /* 0: RegNet X */
} RegNetConfig;

typedef struct
{
  int n_stages;
  int depths[MAX_STAGES];
  int widths[MAX_STAGES];
  int group_widths[MAX_STAGES];
} RegNetStages;

/* BlockParams.from_init_params, with bottleneck multiplier 1.  The widths
 * are computed in float32 like torchvision's tensors, and torch.round()
 * rounds half to even, like rintf() in the default rounding mode: some
 * widths land exactly on a half (regnet_x_1_6gf). */
static void
regnet_stages (const RegNetConfig *cfg,
               RegNetStages       *st)
{
  const int quant = 8;
  const float w_0 = (float) cfg->w_0;
  const float w_a = (float) cfg->w_a;
  const float w_m = (float) cfg->w_m;
  const float log_w_m = (float) log (cfg->w_m);
  int block_widths[64];

  g_assert (cfg->depth <= (int) G_N_ELEMENTS (block_widths));

  for (int i = 0; i < cfg->depth; i++)
    {
      float width_cont = (float) i * w_a + w_0;
      float capacity = rintf (logf (width_cont / w_0) / log_w_m);
      float width = rintf (w_0 * powf (w_m, capacity) / (float) quant) * (float) quant;

      block_widths[i] = (int) width;
    }

  /* A stage is a run of blocks of one width. */
  st->n_stages = 0;
  for (int i = 0; i < cfg->depth; i++)
    {
      if (i == 0 || block_widths[i] != block_widths[i - 1])
        {
          g_assert (st->n_stages < MAX_STAGES);
          st->widths[st->n_stages] = block_widths[i];
          st->depths[st->n_stages] = 0;
          st->n_stages++;
        }
      st->depths[st->n_stages - 1]++;
    }

  /* _adjust_widths_groups_compatibilty: group widths no wider than the
   * stage, stage widths a multiple of the group width. */
  for (int s = 0; s < st->n_stages; s++)
    {
      st->group_widths[s] = MIN (cfg->group_width, st->widths[s]);
      st->widths[s] = tvw_blocks_make_divisible (st->widths[s], st->group_widths[s]);
    }
}

/* ResBottleneckBlock: N×width_in×H×W → N×width_out×H/stride×W/stride */
static TvwVal
res_bottleneck_block (TvwNet             *net,
                      TvwVal              x,
                      const RegNetConfig *cfg,
                      const char         *prefix,
                      int                 width_out,
                      int                 stride,
                      int                 group_width)
{
  int width_in = tvw_net_channels (net, x);
  TvwVal shortcut = x;
  TvwVal f;
  g_autofree char *a = g_strconcat (prefix, ".f.a", NULL);
  g_autofree char *b = g_strconcat (prefix, ".f.b", NULL);
  g_autofree char *c = g_strconcat (prefix, ".f.c", NULL);

  /* The projection runs first (as in torchvision), so that the last
   * convolution of f can add it in its epilogue. */
  if (width_in != width_out || stride != 1)
    {
      g_autofree char *proj = g_strconcat (prefix, ".proj", NULL);

      shortcut = tvw_blocks_conv_norm_act (net, x, proj, BN_EPS, width_out, 1, stride, 1, 1,
                                           TVW_ACT_NONE);
    }

  /* BottleneckTransform, bottleneck multiplier 1: w_b = width_out. */
  f = tvw_blocks_conv_norm_act (net, x, a, BN_EPS, width_out, 1, 1, 1, 1, TVW_ACT_RELU);
  f = tvw_blocks_conv_norm_act (net, f, b, BN_EPS, width_out, 3, stride, 1,
                                width_out / group_width, TVW_ACT_RELU);
  if (cfg->se_ratio > 0)
    {
      g_autofree char *se = g_strconcat (prefix, ".f.se", NULL);

      /* SqueezeExcitation with ReLU and a sigmoid gate, in one engine node. */
      f = tvw_net_squeeze_excitation (net, f, se, (int) rint (cfg->se_ratio * width_in),
                                      TVW_ACT_RELU, TVW_ACT_SIGMOID);
    }
  f = tvw_blocks_conv_norm_act (net, f, c, BN_EPS, width_out, 1, 1, 1, 1, TVW_ACT_NONE);

  f = tvw_net_add (net, f, shortcut);
  return tvw_net_activation (net, f, TVW_ACT_RELU);
}

static gboolean
build_regnet (TvwNet                *net,
              const TvwArchitecture *arch,
              const TvwBuildConfig  *config,
              GError               **error)
{
  const RegNetConfig *cfg = arch->config;
  const guint num_classes = config->num_classes;
  RegNetStages st;
  TvwVal x = tvw_net_input (net, 3);

  regnet_stages (cfg, &st);

  /* SimpleStemIN: N×3×H×W → N×32×H/2×W/2 */
  x = tvw_blocks_conv_norm_act (net, x, "stem", BN_EPS, 32, 3, 2, 1, 1, TVW_ACT_RELU);

  /* trunk_output: each stage halves the map. */
  for (int s = 0; s < st.n_stages; s++)
    for (int i = 0; i < st.depths[s]; i++)
      {
        g_autofree char *prefix = g_strdup_printf ("trunk_output.block%d.block%d-%d", s + 1, s + 1, i);

        x = res_bottleneck_block (net, x, cfg, prefix, st.widths[s], i == 0 ? 2 : 1,
                                  st.group_widths[s]);
      }

  /* N×C×h×w → N×num_classes */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "fc", num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* depth, w_0, w_a, w_m, group width, SE ratio */
static const RegNetConfig regnet_y_400mf = { 16, 48,  27.89,  2.09, 8,   0.25 };
static const RegNetConfig regnet_y_800mf = { 14, 56,  38.84,  2.4,  16,  0.25 };
static const RegNetConfig regnet_y_1_6gf = { 27, 48,  20.71,  2.65, 24,  0.25 };
static const RegNetConfig regnet_y_3_2gf = { 21, 80,  42.63,  2.66, 24,  0.25 };
static const RegNetConfig regnet_y_8gf =   { 17, 192, 76.82,  2.19, 56,  0.25 };
static const RegNetConfig regnet_y_16gf =  { 18, 200, 106.23, 2.48, 112, 0.25 };
static const RegNetConfig regnet_y_32gf =  { 20, 232, 115.89, 2.53, 232, 0.25 };
static const RegNetConfig regnet_y_128gf = { 27, 456, 160.83, 2.52, 264, 0.25 };
static const RegNetConfig regnet_x_400mf = { 22, 24,  24.48,  2.54, 16,  0 };
static const RegNetConfig regnet_x_800mf = { 16, 56,  35.73,  2.28, 16,  0 };
static const RegNetConfig regnet_x_1_6gf = { 18, 80,  34.01,  2.25, 24,  0 };
static const RegNetConfig regnet_x_3_2gf = { 25, 88,  26.31,  2.25, 48,  0 };
static const RegNetConfig regnet_x_8gf =   { 23, 80,  49.56,  2.88, 120, 0 };
static const RegNetConfig regnet_x_16gf =  { 22, 216, 55.59,  2.1,  128, 0 };
static const RegNetConfig regnet_x_32gf =  { 23, 320, 69.86,  2.0,  168, 0 };

/* Every convolution is padded (k - 1) / 2: a 1×1 input stays 1×1. */
const TvwArchitecture tvw_regnet_architectures[] = {
  { "regnet_y_400mf", 1000, 1, build_regnet, &regnet_y_400mf },
  { "regnet_y_800mf", 1000, 1, build_regnet, &regnet_y_800mf },
  { "regnet_y_1_6gf", 1000, 1, build_regnet, &regnet_y_1_6gf },
  { "regnet_y_3_2gf", 1000, 1, build_regnet, &regnet_y_3_2gf },
  { "regnet_y_8gf",   1000, 1, build_regnet, &regnet_y_8gf },
  { "regnet_y_16gf",  1000, 1, build_regnet, &regnet_y_16gf },
  { "regnet_y_32gf",  1000, 1, build_regnet, &regnet_y_32gf },
  { "regnet_y_128gf", 1000, 1, build_regnet, &regnet_y_128gf },
  { "regnet_x_400mf", 1000, 1, build_regnet, &regnet_x_400mf },
  { "regnet_x_800mf", 1000, 1, build_regnet, &regnet_x_800mf },
  { "regnet_x_1_6gf", 1000, 1, build_regnet, &regnet_x_1_6gf },
  { "regnet_x_3_2gf", 1000, 1, build_regnet, &regnet_x_3_2gf },
  { "regnet_x_8gf",   1000, 1, build_regnet, &regnet_x_8gf },
  { "regnet_x_16gf",  1000, 1, build_regnet, &regnet_x_16gf },
  { "regnet_x_32gf",  1000, 1, build_regnet, &regnet_x_32gf },
  { NULL }
};
