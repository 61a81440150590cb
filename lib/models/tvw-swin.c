/* tvw-swin.c — Swin Transformer T/S/B and Swin Transformer V2 T/S/B, as
 * torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/swin_transformer.py: a 4×4 stride-4 patch embedding
 * (channels last from there on, N×H×W×C), four stages of blocks doing
 * multi-head attention inside windows — every other block on windows
 * shifted by half a window, masked where the roll brought distant regions
 * together — with a relative position bias, each stage but the last ended
 * by a patch merging (2×2 neighbours concatenated, then a linear
 * reduction), then LayerNorm, average pooling and a linear head.  Maps
 * that are not whole windows are padded.  V2 puts the norms after the
 * attention and the MLP, uses cosine attention with a learnt logit scale,
 * computes its bias with a small MLP over log-spaced coordinates (16 ·
 * sigmoid), and normalises after the merging's reduction.
 */

#include "config.h"

#include <math.h>

#include "tvw-architectures-private.h"
#include "tvw-transformer-private.h"

typedef struct
{
  gboolean v2;
  int      embed_dim;
  int      depths[4];
  int      num_heads[4];
  int      window;
} SwinConfig;

/* The attention's [1, H, L, L] relative position bias. */
static TvwVal
position_bias (TvwNet           *net,
               const char       *attn,
               const SwinConfig *cfg,
               int               heads)
{
  const int w = cfg->window, side = 2 * w - 1;

  if (!cfg->v2)
    {
      const gint64 shape[2] = { side * side, heads };
      TvwVal table = tvw_net_parameter (net, attn, "relative_position_bias_table", 2, shape, -1, NULL);

      return tvw_net_relative_position_bias (net, attn, table, w, w, TRUE, FALSE);
    }
  else
    {
      /* cpb_mlp over relative_coords_table [1, 2w − 1, 2w − 1, 2] (a
       * buffer): → [(2w − 1)², H] */
      const gint64 shape[4] = { 1, side, side, 2 };
      const gint64 flat[2] = { side * side, heads };
      const TvwParameterParams buffer = { .buffer = TRUE };
      g_autofree char *fc1 = g_strconcat (attn, ".cpb_mlp.0", NULL);
      g_autofree char *fc2 = g_strconcat (attn, ".cpb_mlp.2", NULL);
      TvwVal t = tvw_net_parameter (net, attn, "relative_coords_table", 4, shape, -1, &buffer);

      t = tvw_net_linear (net, t, fc1, 512, TRUE);
      t = tvw_net_activation (net, t, TVW_ACT_RELU);
      t = tvw_net_linear (net, t, fc2, heads, FALSE);
      t = tvw_net_reshape (net, t, 2, flat);
      return tvw_net_relative_position_bias (net, attn, t, w, w, TRUE, TRUE);
    }
}

/* ShiftedWindowAttention (V2): N×H×W×C → N×H×W×C */
static TvwVal
window_attention (TvwNet           *net,
                  TvwVal            x,
                  const char       *attn,
                  const SwinConfig *cfg,
                  int               dim,
                  int               heads,
                  int               shift)
{
  const int w = cfg->window;
  TvwAttentionParams ap = {
    .scale = 1.0 / sqrt ((double) (dim / heads)),
    .cosine = cfg->v2,
    .max_log_scale = log (100.0),
  };
  g_autofree char *qkv_name = g_strconcat (attn, ".qkv", NULL);
  g_autofree char *proj = g_strconcat (attn, ".proj", NULL);
  TvwVal windows, qkv, q, k, v, bias[2];
  int n_bias = 0;

  /* N×H×W×C → N·windows×w²×C, padded and rolled */
  windows = tvw_net_window_partition (net, x, w, w, shift, shift);

  if (!cfg->v2)
    qkv = tvw_net_linear (net, windows, qkv_name, 3 * dim, TRUE);
  else
    {
      /* V2 zeroes the key third of the bias at every forward. */
      const gint64 shape[1] = { 3 * dim };
      const TvwParameterParams zero_k = { .zero_begin = dim, .zero_end = 2 * dim };

      qkv = tvw_net_linear (net, windows, qkv_name, 3 * dim, FALSE);
      qkv = tvw_net_add (net, qkv, tvw_net_parameter (net, qkv_name, "bias", 1, shape, -1, &zero_k));
    }
  tvw_transformer_split_heads (net, qkv, heads, &q, &k, &v);

  bias[n_bias++] = position_bias (net, attn, cfg, heads);
  if (shift > 0)
    bias[n_bias++] = tvw_net_window_mask (net, x, w, w, shift, shift);
  windows = tvw_net_attention (net, attn, q, k, v, n_bias, bias, &ap);
  windows = tvw_transformer_merge_heads (net, windows);
  windows = tvw_net_linear (net, windows, proj, dim, TRUE);

  /* back to N×H×W×C, rolled forward and cropped */
  return tvw_net_window_merge (net, windows, x, w, w, shift, shift);
}

/* SwinTransformerBlock (V2): N×H×W×C → N×H×W×C */
static TvwVal
swin_block (TvwNet           *net,
            TvwVal            x,
            const char       *prefix,
            const SwinConfig *cfg,
            int               dim,
            int               heads,
            int               shift)
{
  g_autofree char *norm1 = g_strconcat (prefix, ".norm1", NULL);
  g_autofree char *attn = g_strconcat (prefix, ".attn", NULL);
  g_autofree char *norm2 = g_strconcat (prefix, ".norm2", NULL);
  g_autofree char *mlp = g_strconcat (prefix, ".mlp", NULL);
  TvwVal y;

  if (!cfg->v2)
    {
      y = tvw_net_layer_norm (net, x, norm1, -1, dim, 1e-5, TRUE);
      x = tvw_net_add (net, x, window_attention (net, y, attn, cfg, dim, heads, shift));
      y = tvw_net_layer_norm (net, x, norm2, -1, dim, 1e-5, TRUE);
      return tvw_net_add (net, x, tvw_transformer_mlp (net, y, mlp, "0", "3", 4 * dim, dim));
    }

  y = window_attention (net, x, attn, cfg, dim, heads, shift);
  x = tvw_net_add (net, x, tvw_net_layer_norm (net, y, norm1, -1, dim, 1e-5, TRUE));
  y = tvw_transformer_mlp (net, x, mlp, "0", "3", 4 * dim, dim);
  return tvw_net_add (net, x, tvw_net_layer_norm (net, y, norm2, -1, dim, 1e-5, TRUE));
}

/* PatchMerging (V2): N×H×W×C → N×⌈H/2⌉×⌈W/2⌉×2C */
static TvwVal
patch_merging (TvwNet           *net,
               TvwVal            x,
               const char       *prefix,
               const SwinConfig *cfg,
               int               dim)
{
  g_autofree char *norm = g_strconcat (prefix, ".norm", NULL);
  g_autofree char *reduction = g_strconcat (prefix, ".reduction", NULL);

  x = tvw_net_patch_merge (net, x);
  if (!cfg->v2)
    {
      x = tvw_net_layer_norm (net, x, norm, -1, 4 * dim, 1e-5, TRUE);
      return tvw_net_linear (net, x, reduction, 2 * dim, FALSE);
    }
  x = tvw_net_linear (net, x, reduction, 2 * dim, FALSE);
  return tvw_net_layer_norm (net, x, norm, -1, 2 * dim, 1e-5, TRUE);
}

static gboolean
build_swin (TvwNet                *net,
            const TvwArchitecture *arch,
            const TvwBuildConfig  *config,
            GError               **error)
{
  const SwinConfig *cfg = arch->config;
  const int perm[4] = { 0, 2, 3, 1 };
  int dim = cfg->embed_dim;
  TvwVal x = tvw_net_input (net, 3);

  /* features.0: N×3×H×W → N×⌊H/4⌋×⌊W/4⌋×C */
  x = tvw_net_conv2d (net, x, "features.0.0", dim, 4, 4, 0, 1, 1, TRUE);
  x = tvw_net_permute (net, x, perm);
  x = tvw_net_layer_norm (net, x, "features.0.2", -1, dim, 1e-5, TRUE);

  /* features.1 … features.7: stages and patch merging */
  for (int s = 0; s < 4; s++)
    {
      for (int b = 0; b < cfg->depths[s]; b++)
        {
          g_autofree char *prefix = g_strdup_printf ("features.%d.%d", 2 * s + 1, b);

          x = swin_block (net, x, prefix, cfg, dim, cfg->num_heads[s], b % 2 ? cfg->window / 2 : 0);
        }
      if (s < 3)
        {
          g_autofree char *prefix = g_strdup_printf ("features.%d", 2 * s + 2);

          x = patch_merging (net, x, prefix, cfg, dim);
          dim *= 2;
        }
    }

  /* N×h×w×C → N×num_classes */
  x = tvw_net_layer_norm (net, x, "norm", -1, dim, 1e-5, TRUE);
  x = tvw_net_reduce (net, TVW_REDUCE_MEAN, x, (1u << 1) | (1u << 2), FALSE);
  x = tvw_net_linear (net, x, "head", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const SwinConfig swin_t = { FALSE, 96, { 2, 2, 6, 2 }, { 3, 6, 12, 24 }, 7 };
static const SwinConfig swin_s = { FALSE, 96, { 2, 2, 18, 2 }, { 3, 6, 12, 24 }, 7 };
static const SwinConfig swin_b = { FALSE, 128, { 2, 2, 18, 2 }, { 4, 8, 16, 32 }, 7 };
static const SwinConfig swin_v2_t = { TRUE, 96, { 2, 2, 6, 2 }, { 3, 6, 12, 24 }, 8 };
static const SwinConfig swin_v2_s = { TRUE, 96, { 2, 2, 18, 2 }, { 3, 6, 12, 24 }, 8 };
static const SwinConfig swin_v2_b = { TRUE, 128, { 2, 2, 18, 2 }, { 4, 8, 16, 32 }, 8 };

/* The 4×4 patch embedding needs 4 pixels; the rest pads. */
const TvwArchitecture tvw_swin_architectures[] = {
  { "swin_t",    1000, 4, build_swin, &swin_t },
  { "swin_s",    1000, 4, build_swin, &swin_s },
  { "swin_b",    1000, 4, build_swin, &swin_b },
  { "swin_v2_t", 1000, 4, build_swin, &swin_v2_t },
  { "swin_v2_s", 1000, 4, build_swin, &swin_v2_s },
  { "swin_v2_b", 1000, 4, build_swin, &swin_v2_b },
  { NULL }
};
