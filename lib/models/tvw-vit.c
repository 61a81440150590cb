/* tvw-vit.c — Vision Transformer B/16, B/32, L/16, L/32, H/14, as
 * torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/vision_transformer.py: a patch_size × patch_size
 * stride-patch_size convolution cuts the image into patches, a class token
 * goes in front, a learnt position embedding is added, then pre-norm
 * encoder blocks (LayerNorm, multi-head self-attention, LayerNorm, MLP with
 * GELU, each with a residual), a final LayerNorm and a linear head on the
 * class token.  The image size is fixed by the position embedding: it
 * comes from the weights entry (min_size), the image_size option, or a bare
 * checkpoint's encoder.pos_embedding.
 */

#include "config.h"

#include <math.h>

#include "tvw-architectures-private.h"
#include "tvw-error.h"
#include "tvw-transformer-private.h"

typedef struct
{
  int patch_size;
  int num_layers;
  int num_heads;
  int hidden_dim;
  int mlp_dim;
} VitConfig;

/* nn.MultiheadAttention (batch_first) as self-attention, with its packed
 * in_proj_weight / in_proj_bias: N×L×D → N×L×D */
static TvwVal
self_attention (TvwNet     *net,
                TvwVal      x,
                const char *prefix,
                int         dim,
                int         heads)
{
  const TvwAttentionParams ap = { .scale = 1.0 / sqrt ((double) (dim / heads)) };
  g_autofree char *out_proj = g_strconcat (prefix, ".out_proj", NULL);
  TvwVal qkv, q, k, v;

  qkv = tvw_transformer_linear (net, x, prefix, "in_proj_weight", "in_proj_bias", 3 * dim, TRUE);
  tvw_transformer_split_heads (net, qkv, heads, &q, &k, &v);
  x = tvw_net_attention (net, prefix, q, k, v, 0, NULL, &ap);
  x = tvw_transformer_merge_heads (net, x);
  return tvw_net_linear (net, x, out_proj, dim, TRUE);
}

/* EncoderBlock: N×L×D → N×L×D */
static TvwVal
encoder_block (TvwNet          *net,
               TvwVal           x,
               const char      *prefix,
               const VitConfig *cfg)
{
  g_autofree char *ln_1 = g_strconcat (prefix, ".ln_1", NULL);
  g_autofree char *attn = g_strconcat (prefix, ".self_attention", NULL);
  g_autofree char *ln_2 = g_strconcat (prefix, ".ln_2", NULL);
  g_autofree char *mlp = g_strconcat (prefix, ".mlp", NULL);
  TvwVal y;

  y = tvw_net_layer_norm (net, x, ln_1, -1, cfg->hidden_dim, 1e-6, TRUE);
  y = self_attention (net, y, attn, cfg->hidden_dim, cfg->num_heads);
  x = tvw_net_add (net, x, y);

  y = tvw_net_layer_norm (net, x, ln_2, -1, cfg->hidden_dim, 1e-6, TRUE);
  y = tvw_transformer_mlp (net, y, mlp, "0", "3", cfg->mlp_dim, cfg->hidden_dim);
  return tvw_net_add (net, x, y);
}

static gboolean
build_vit (TvwNet                *net,
           const TvwArchitecture *arch,
           const TvwBuildConfig  *config,
           GError               **error)
{
  const VitConfig *cfg = arch->config;
  const gint64 image_size = tvw_build_config_get_int (config, "image_size", 224);
  const int d = cfg->hidden_dim;
  gint64 example[4] = { 1, 3, image_size, image_size };
  gint64 grid, seq, shape[3];
  TvwParameterParams need = { 0 };
  TvwVal input, x, cls, parts[2];

  if (image_size < cfg->patch_size || image_size % cfg->patch_size != 0 || image_size > 8192)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "image_size %" G_GINT64_FORMAT " is not a multiple of the patch size %d",
                   image_size, cfg->patch_size);
      return FALSE;
    }
  grid = image_size / cfg->patch_size;
  seq = grid * grid + 1;

  input = tvw_net_input_full (net, "input", TVW_ELEM_F32, 4, example);

  /* conv_proj: N×3×S×S → N×D×g×g → N×g²×D */
  x = tvw_net_conv2d (net, input, "conv_proj", d, cfg->patch_size, cfg->patch_size, 0, 1, 1, TRUE);
  x = tvw_net_flatten_dims (net, x, 2, 3);
  x = tvw_net_transpose (net, x, 1, 2);

  /* The class token in front (torchvision asserts the image size; so does
   * the token's node): N×(g² + 1)×D */
  need.need_h = need.need_w = image_size;
  shape[0] = shape[1] = 1;
  shape[2] = d;
  cls = tvw_net_parameter (net, "class_token", NULL, 3, shape, input, &need);
  parts[0] = cls;
  parts[1] = x;
  x = tvw_net_concat (net, 2, parts, 1);

  /* encoder */
  shape[1] = seq;
  x = tvw_net_add (net, x, tvw_net_parameter (net, "encoder", "pos_embedding", 3, shape, -1, NULL));
  for (int i = 0; i < cfg->num_layers; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("encoder.layers.encoder_layer_%d", i);

      x = encoder_block (net, x, prefix, cfg);
    }
  x = tvw_net_layer_norm (net, x, "encoder.ln", -1, d, 1e-6, TRUE);

  /* The class token's row: N×D → N×num_classes */
  x = tvw_net_slice (net, x, 1, 0, 1, 1);
  x = tvw_net_squeeze (net, x, 1);
  x = tvw_net_linear (net, x, "heads.head", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* encoder.pos_embedding is [1, (S / patch)² + 1, D]: the net is built
 * again when the checkpoint's has another length than the net's. */
static gboolean
vit_checkpoint_options (const TvwArchitecture *arch,
                        TvwCheckpoint         *ckpt,
                        TvwNet                *net,
                        GVariantDict          *options)
{
  const VitConfig *cfg = arch->config;
  const TvwCkptTensor *t = tvw_checkpoint_lookup (ckpt, "encoder.pos_embedding");
  gint64 grid;

  if (t == NULL || t->n_dims != 3 || g_variant_dict_contains (options, "image_size") ||
      t->shape[1] < 2 || t->shape[1] > 1 + 1024 * 1024)
    return FALSE;
  grid = (gint64) llround (sqrt ((double) (t->shape[1] - 1)));
  if (grid * grid != t->shape[1] - 1)
    return FALSE;

  for (guint i = 0; i < tvw_net_get_n_params (net); i++)
    {
      const gint64 *shape;
      guint n_dims;
      gboolean optional, is_float;
      const char *name = tvw_net_get_param_info (net, i, &n_dims, &shape, &optional, &is_float);

      if (g_strcmp0 (name, "encoder.pos_embedding") == 0 && n_dims == 3 && shape[1] == t->shape[1])
        return FALSE;
    }
  g_variant_dict_insert (options, "image_size", "x", grid * cfg->patch_size);
  return TRUE;
}

static const VitConfig vit_b_16 = { 16, 12, 12, 768, 3072 };
static const VitConfig vit_b_32 = { 32, 12, 12, 768, 3072 };
static const VitConfig vit_l_16 = { 16, 24, 16, 1024, 4096 };
static const VitConfig vit_l_32 = { 32, 24, 16, 1024, 4096 };
static const VitConfig vit_h_14 = { 14, 32, 16, 1280, 5120 };

static const char * const vit_options[] = { "image_size", NULL };

const TvwArchitecture tvw_vit_architectures[] = {
  { "vit_b_16", 1000, 16, build_vit, &vit_b_16, vit_options, vit_checkpoint_options },
  { "vit_b_32", 1000, 32, build_vit, &vit_b_32, vit_options, vit_checkpoint_options },
  { "vit_l_16", 1000, 16, build_vit, &vit_l_16, vit_options, vit_checkpoint_options },
  { "vit_l_32", 1000, 32, build_vit, &vit_l_32, vit_options, vit_checkpoint_options },
  { "vit_h_14", 1000, 14, build_vit, &vit_h_14, vit_options, vit_checkpoint_options },
  { NULL }
};
