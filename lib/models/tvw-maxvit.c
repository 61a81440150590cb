/* tvw-maxvit.c — MaxViT T, as torchvision builds it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/maxvit.py: a two-convolution stem, four blocks of
 * MaxViT layers — each an MBConv (BatchNorm first, 1×1 expansion,
 * depthwise 3×3, squeeze-excitation, 1×1 projection, with a pooled and
 * projected shortcut where it strides) followed by attention inside 7×7
 * windows and attention over a 7×7 grid spread across the whole map, each
 * with a relative position bias and an MLP — then average pooling,
 * LayerNorm, a tanh layer and the linear head.  GELU throughout.  The
 * grid is fixed at construction: inputs are 224×224 as torchvision's
 * default input_size.
 */

#include "config.h"

#include <math.h>

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"
#include "tvw-transformer-private.h"

#define INPUT_SIZE 224
#define PARTITION 7
#define HEAD_DIM 32
#define BN_EPS 1e-3

typedef struct
{
  int stem_channels;
  int block_channels[4];
  int block_layers[4];
} MaxVitConfig;

/* MBConv: N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
mbconv (TvwNet     *net,
        TvwVal      x,
        const char *prefix,
        int         in,
        int         out,
        int         stride)
{
  const int mid = out * 4, squeeze = out / 4;
  g_autofree char *pre_norm = g_strconcat (prefix, ".layers.pre_norm", NULL);
  g_autofree char *conv_a = g_strconcat (prefix, ".layers.conv_a", NULL);
  g_autofree char *conv_b = g_strconcat (prefix, ".layers.conv_b", NULL);
  g_autofree char *se = g_strconcat (prefix, ".layers.squeeze_excitation", NULL);
  g_autofree char *conv_c = g_strconcat (prefix, ".layers.conv_c", NULL);
  TvwVal res = x, y;

  if (stride != 1 || in != out)
    {
      g_autofree char *proj = g_strdup_printf ("%s.proj.%d", prefix, stride == 2 ? 1 : 0);

      if (stride == 2)
        res = tvw_net_avg_pool2d (net, res, 3, 2, 1, FALSE, TRUE);
      res = tvw_net_conv2d (net, res, proj, out, 1, 1, 0, 1, 1, TRUE);
    }

  y = tvw_net_batch_norm (net, x, pre_norm, BN_EPS);
  y = tvw_blocks_conv_norm_act (net, y, conv_a, BN_EPS, mid, 1, 1, 1, 1, TVW_ACT_GELU);
  y = tvw_blocks_conv_norm_act (net, y, conv_b, BN_EPS, mid, 3, stride, 1, mid, TVW_ACT_GELU);
  y = tvw_net_squeeze_excitation (net, y, se, squeeze, TVW_ACT_SILU, TVW_ACT_SIGMOID);
  y = tvw_net_conv2d (net, y, conv_c, out, 1, 1, 0, 1, 1, TRUE);
  return tvw_net_add (net, res, y);
}

/* torchvision's WindowPartition on a channels-last map: N×H×W×C →
 * N×(H/p·W/p)×p²×C; with @grid the two middle axes swapped (SwapAxes). */
static TvwVal
partition (TvwNet   *net,
           TvwVal    x,
           gint64    size,
           gint64    c,
           gint64    p,
           gboolean  grid)
{
  const gint64 n = size / p;
  const gint64 rows[5] = { -1, p, n, p, c };
  const gint64 windows[4] = { -1, n * n, p * p, c };
  const int order[5] = { 0, 2, 1, 3, 4 };

  /* N·H/p × p × W/p × p × C → N·H/p × W/p × p × p × C */
  x = tvw_net_reshape (net, x, 5, rows);
  x = tvw_net_permute (net, x, order);
  x = tvw_net_reshape (net, x, 4, windows);
  return grid ? tvw_net_transpose (net, x, 1, 2) : x;
}

/* WindowDepartition, the way back to N×H×W×C. */
static TvwVal
departition (TvwNet   *net,
             TvwVal    x,
             gint64    size,
             gint64    c,
             gint64    p,
             gboolean  grid)
{
  const gint64 n = size / p;
  const gint64 rows[5] = { -1, n, p, p, c };
  const gint64 map[4] = { -1, size, size, c };
  const int order[5] = { 0, 2, 1, 3, 4 };

  if (grid)
    x = tvw_net_transpose (net, x, 1, 2);
  x = tvw_net_reshape (net, x, 5, rows);
  x = tvw_net_permute (net, x, order);
  return tvw_net_reshape (net, x, 4, map);
}

/* PartitionAttentionLayer: N×H×W×C (channels last) → N×H×W×C */
static TvwVal
partition_attention (TvwNet     *net,
                     TvwVal      x,
                     const char *prefix,
                     gint64      size,
                     int         c,
                     gboolean    grid)
{
  const int heads = c / HEAD_DIM, side = 2 * PARTITION - 1;
  const gint64 p = grid ? size / PARTITION : PARTITION;
  const gint64 table_shape[2] = { side * side, heads };
  const gint64 tokens[3] = { -1, PARTITION * PARTITION, c };
  const TvwAttentionParams ap = { .scale = 1.0 / sqrt ((double) c) };
  g_autofree char *norm = g_strconcat (prefix, ".attn_layer.0", NULL);
  g_autofree char *attn = g_strconcat (prefix, ".attn_layer.1", NULL);
  g_autofree char *to_qkv = g_strconcat (prefix, ".attn_layer.1.to_qkv", NULL);
  g_autofree char *merge = g_strconcat (prefix, ".attn_layer.1.merge", NULL);
  g_autofree char *mlp_norm = g_strconcat (prefix, ".mlp_layer.0", NULL);
  g_autofree char *mlp = g_strconcat (prefix, ".mlp_layer", NULL);
  TvwVal windows, y, q, k, v, bias, table;
  gint64 shape[4];

  /* N×G×49×C, as one batch of N·G sequences of 49 */
  windows = partition (net, x, size, c, p, grid);
  shape[0] = -1;
  shape[1] = grid ? p * p : (size / p) * (size / p);
  shape[2] = PARTITION * PARTITION;
  shape[3] = c;
  x = tvw_net_reshape (net, windows, 3, tokens);

  y = tvw_net_layer_norm (net, x, norm, -1, c, 1e-5, TRUE);
  y = tvw_net_linear (net, y, to_qkv, 3 * c, TRUE);
  tvw_transformer_split_heads (net, y, heads, &q, &k, &v);
  table = tvw_net_parameter (net, attn, "relative_position_bias_table", 2, table_shape, -1, NULL);
  bias = tvw_net_relative_position_bias (net, attn, table, PARTITION, PARTITION, FALSE, FALSE);
  y = tvw_net_attention (net, attn, q, k, v, 1, &bias, &ap);
  y = tvw_transformer_merge_heads (net, y);
  y = tvw_net_linear (net, y, merge, c, TRUE);
  x = tvw_net_add (net, x, y);

  y = tvw_net_layer_norm (net, x, mlp_norm, -1, c, 1e-5, TRUE);
  y = tvw_transformer_mlp (net, y, mlp, "1", "3", 4 * c, c);
  x = tvw_net_add (net, x, y);

  x = tvw_net_reshape (net, x, 4, shape);
  return departition (net, x, size, c, p, grid);
}

static gboolean
build_maxvit (TvwNet                *net,
              const TvwArchitecture *arch,
              const TvwBuildConfig  *config,
              GError               **error)
{
  const MaxVitConfig *cfg = arch->config;
  const int to_nhwc[4] = { 0, 2, 3, 1 }, to_nchw[4] = { 0, 3, 1, 2 };
  const gint64 example[4] = { 1, 3, INPUT_SIZE, INPUT_SIZE };
  gint64 size = (INPUT_SIZE - 1) / 2 + 1;
  int in = cfg->stem_channels;
  TvwVal x = tvw_net_input_full (net, "input", TVW_ELEM_F32, 4, example);

  /* stem: N×3×224×224 → N×64×112×112 */
  x = tvw_blocks_conv_norm_act (net, x, "stem.0", BN_EPS, in, 3, 2, 1, 1, TVW_ACT_GELU);
  x = tvw_net_conv2d (net, x, "stem.1.0", in, 3, 1, 1, 1, 1, TRUE);

  for (int b = 0; b < 4; b++)
    {
      const int out = cfg->block_channels[b];

      size = (size - 1) / 2 + 1;
      for (int l = 0; l < cfg->block_layers[b]; l++)
        {
          g_autofree char *prefix = g_strdup_printf ("blocks.%d.layers.%d.layers", b, l);
          g_autofree char *mb = g_strconcat (prefix, ".MBconv", NULL);
          g_autofree char *window = g_strconcat (prefix, ".window_attention", NULL);
          g_autofree char *grid = g_strconcat (prefix, ".grid_attention", NULL);

          x = mbconv (net, x, mb, l == 0 ? in : out, out, l == 0 ? 2 : 1);
          x = tvw_net_permute (net, x, to_nhwc);
          x = partition_attention (net, x, window, size, out, FALSE);
          x = partition_attention (net, x, grid, size, out, TRUE);
          x = tvw_net_permute (net, x, to_nchw);
        }
      in = out;
    }

  /* classifier: N×512×7×7 → N×num_classes */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_layer_norm (net, x, "classifier.2", -1, in, 1e-5, TRUE);
  x = tvw_net_linear (net, x, "classifier.3", in, TRUE);
  x = tvw_net_activation (net, x, TVW_ACT_TANH);
  x = tvw_net_linear (net, x, "classifier.5", config->num_classes, FALSE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const MaxVitConfig maxvit_t = { 64, { 64, 128, 256, 512 }, { 2, 2, 5, 2 } };

/* The partitions fix the size: min_size is the only size. */
const TvwArchitecture tvw_maxvit_architectures[] = {
  { "maxvit_t", 1000, INPUT_SIZE, build_maxvit, &maxvit_t },
  { NULL }
};
