/* tvw-mvit.c — torchvision.models.video: MViT V1 (mvit_v1_b) and V2
 * (mvit_v2_s)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/video/mvit.py: a 3×7×7 stride-2×4×4 Conv3d cuts the
 * N×3×16×224×224 clip into 8×56×56 patches of 96 channels, flattened to a
 * token sequence with a class token in front (V1 adds learnt temporal,
 * spatial and class position embeddings).  Sixteen MultiscaleBlocks
 * follow: pre-norm multi-head attention whose queries, keys and values
 * are pooled per head by depthwise Conv3ds and LayerNorms (Pool), the
 * queries' stride shrinking the map (and the skip connection by a
 * MaxPool3d) three times while the channels double; V2 adds the
 * decomposed relative position bias (_add_rel_pos), the pooled queries as
 * a residual of the attention (residual_pool) and projects the channels
 * after the attention instead of after the MLP.  A final LayerNorm and a
 * linear head on the class token.  The clip size is fixed by the
 * positional encoding and the tables; parameter names are torchvision
 * 0.14.1's state_dict keys.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-architectures-private.h"
#include "tvw-transformer-private.h"

#define MVIT_LN_EPS 1e-6
#define MVIT_BLOCKS 16
#define MVIT_FRAMES 16
#define MVIT_SIZE 224

/* MSBlockConfig, the kernels being 3×3×3 where there are any */
typedef struct
{
  int      num_heads;
  int      input_channels;
  int      output_channels;
  gboolean pool_q;             /* kernel_q given: a pool_q module */
  int      stride_q[3];
  int      stride_kv[3];
} MvitBlockConfig;

typedef struct
{
  gboolean        residual_pool;
  gboolean        rel_pos_embed;
  gboolean        proj_after_attn;
  MvitBlockConfig blocks[MVIT_BLOCKS];
} MvitConfig;

static int
prod3 (const int v[3])
{
  return v[0] * v[1] * v[2];
}

/* Pool “@prefix” (depthwise Conv3d 3×3×3 with padding 1, then LayerNorm
 * “@prefix.norm_act.0”) of [B, heads, 1 + T·H·W, d]. */
static TvwVal
attention_pool (TvwNet     *net,
                TvwVal      x,
                const char *prefix,
                const int   thw[3],
                const int   stride[3],
                int         head_dim,
                int         out_thw[3])
{
  g_autofree char *pool = g_strconcat (prefix, ".pool", NULL);
  g_autofree char *norm = g_strconcat (prefix, ".norm_act.0", NULL);
  TvwMvitPoolParams p = {
    .thw = { thw[0], thw[1], thw[2] },
    .kernel = { 3, 3, 3 }, .padding = { 1, 1, 1 },
    .stride = { stride[0], stride[1], stride[2] },
  };

  x = tvw_net_mvit_pool (net, x, pool, &p, out_thw);
  return tvw_net_layer_norm (net, x, norm, -1, head_dim, MVIT_LN_EPS, TRUE);
}

/* MultiscaleAttention “@prefix”: [B, 1 + T·H·W, C] → [B, 1 + T'·H'·W',
 * @dim]; @thw becomes the queries' T', H', W'. */
static TvwVal
multiscale_attention (TvwNet                *net,
                      TvwVal                 x,
                      const char            *prefix,
                      const MvitConfig      *cfg,
                      const MvitBlockConfig *b,
                      int                    dim,
                      const int              input_size[3],
                      int                    thw[3])
{
  const int head_dim = dim / b->num_heads;
  const TvwAttentionParams ap = { .scale = 1.0 / sqrt ((double) head_dim) };
  g_autofree char *qkv_name = g_strconcat (prefix, ".qkv", NULL);
  g_autofree char *pool_q = g_strconcat (prefix, ".pool_q", NULL);
  g_autofree char *pool_k = g_strconcat (prefix, ".pool_k", NULL);
  g_autofree char *pool_v = g_strconcat (prefix, ".pool_v", NULL);
  g_autofree char *project = g_strconcat (prefix, ".project.0", NULL);
  int k_thw[3], v_thw[3], q_thw[3] = { thw[0], thw[1], thw[2] };
  TvwVal qkv, q, k, v, bias = -1;

  /* [B, N, C] → 3 × [B, heads, N, d] */
  qkv = tvw_net_linear (net, x, qkv_name, 3 * dim, TRUE);
  tvw_transformer_split_heads (net, qkv, b->num_heads, &q, &k, &v);

  /* Every block of both variants pools its keys and values (3×3×3
   * kernels); the queries where they have a kernel. */
  k = attention_pool (net, k, pool_k, thw, b->stride_kv, head_dim, k_thw);
  v = attention_pool (net, v, pool_v, thw, b->stride_kv, head_dim, v_thw);
  if (b->pool_q)
    q = attention_pool (net, q, pool_q, thw, b->stride_q, head_dim, q_thw);

  if (cfg->rel_pos_embed)
    {
      /* The tables are sized from the sizes MViT tracks by integer
       * division, as MultiscaleAttention.__init__ does. */
      const int size = MAX (input_size[1], input_size[2]);
      const int q_size = size / b->stride_q[1], kv_size = size / b->stride_kv[1];

      bias = tvw_net_mvit_rel_pos (net, q, prefix, q_thw, k_thw,
                                   2 * MAX (q_size, kv_size) - 1, 2 * input_size[0] - 1);
    }

  x = tvw_net_attention (net, prefix, q, k, v, bias >= 0 ? 1 : 0, &bias, &ap);

  if (cfg->residual_pool)
    {
      /* _add_shortcut without the class embedding: x[:, :, 1:] += q[:, :, 1:] */
      TvwVal parts[2];

      parts[0] = tvw_net_slice (net, x, 2, 0, 1, 1);
      parts[1] = tvw_net_add (net, tvw_net_slice (net, x, 2, 1, G_MAXINT64, 1),
                              tvw_net_slice (net, q, 2, 1, G_MAXINT64, 1));
      x = tvw_net_concat (net, 2, parts, 2);
    }

  x = tvw_transformer_merge_heads (net, x);
  memcpy (thw, q_thw, sizeof q_thw);
  return tvw_net_linear (net, x, project, dim, TRUE);
}

/* MultiscaleBlock “blocks.@index”: [B, 1 + T·H·W, in] → [B, 1 +
 * T'·H'·W', out]. */
static TvwVal
multiscale_block (TvwNet           *net,
                  TvwVal            x,
                  int               index,
                  const MvitConfig *cfg,
                  const int         input_size[3],
                  int               thw[3])
{
  const MvitBlockConfig *b = &cfg->blocks[index];
  const int attn_dim = cfg->proj_after_attn ? b->output_channels : b->input_channels;
  const gboolean project = b->input_channels != b->output_channels;
  g_autofree char *p = g_strdup_printf ("blocks.%d", index);
  g_autofree char *norm1 = g_strconcat (p, ".norm1", NULL);
  g_autofree char *norm2 = g_strconcat (p, ".norm2", NULL);
  g_autofree char *attn = g_strconcat (p, ".attn", NULL);
  g_autofree char *mlp = g_strconcat (p, ".mlp", NULL);
  g_autofree char *proj = g_strconcat (p, ".project", NULL);
  g_autofree char *pool_skip = g_strconcat (p, ".pool_skip", NULL);
  const int in_thw[3] = { thw[0], thw[1], thw[2] };
  TvwVal x_norm1, x_attn, x_norm2, x_proj;

  x_norm1 = tvw_net_layer_norm (net, x, norm1, -1, b->input_channels, MVIT_LN_EPS, TRUE);
  x_attn = multiscale_attention (net, x_norm1, attn, cfg, b, attn_dim, input_size, thw);
  if (project && cfg->proj_after_attn)
    x = tvw_net_linear (net, x_norm1, proj, b->output_channels, TRUE);

  if (prod3 (b->stride_q) > 1)
    {
      /* pool_skip: MaxPool3d with a kernel one larger than each stride
       * over 1. */
      TvwMvitPoolParams skip = { .max = TRUE };
      int skip_thw[3];

      for (int i = 0; i < 3; i++)
        {
          skip.thw[i] = in_thw[i];
          skip.stride[i] = b->stride_q[i];
          skip.kernel[i] = b->stride_q[i] > 1 ? b->stride_q[i] + 1 : b->stride_q[i];
          skip.padding[i] = skip.kernel[i] / 2;
        }
      x = tvw_net_mvit_pool (net, x, pool_skip, &skip, skip_thw);
    }
  x = tvw_net_add (net, x, x_attn);

  x_norm2 = tvw_net_layer_norm (net, x, norm2, -1, attn_dim, MVIT_LN_EPS, TRUE);
  x_proj = project && !cfg->proj_after_attn
           ? tvw_net_linear (net, x_norm2, proj, b->output_channels, TRUE)
           : x;
  return tvw_net_add (net, x_proj,
                      tvw_transformer_mlp (net, x_norm2, mlp, "0", "3", 4 * attn_dim,
                                           b->output_channels));
}

static gboolean
build_mvit (TvwNet                *net,
            const TvwArchitecture *arch,
            const TvwBuildConfig  *config,
            GError               **error)
{
  const MvitConfig *cfg = arch->config;
  const gint64 example[5] = { 1, 3, MVIT_FRAMES, MVIT_SIZE, MVIT_SIZE };
  const TvwConvNdSpec patch = {
    .rank = 3, .kernel = { 3, 7, 7 }, .stride = { 2, 4, 4 }, .padding = { 1, 3, 3 },
    .dilation = { 1, 1, 1 }, .groups = 1, .bias = TRUE,
  };
  const int embed = cfg->blocks[0].input_channels;
  /* MViT's input_size: the clip's sizes divided by the patch stride */
  int input_size[3] = { MVIT_FRAMES / 2, MVIT_SIZE / 4, MVIT_SIZE / 4 };
  int thw[3] = { input_size[0], input_size[1], input_size[2] };
  TvwVal x;

  x = tvw_net_input_full (net, "input", TVW_ELEM_F32, 5, example);

  /* conv_proj: N×3×16×224×224 → N×96×8×56×56 → N×25088×96 */
  x = tvw_net_conv_nd (net, x, "conv_proj", embed, &patch);
  x = tvw_net_flatten_dims (net, x, 2, 4);
  x = tvw_net_transpose (net, x, 1, 2);

  /* pos_encoding: N×25089×96 */
  x = tvw_net_mvit_pos_encoding (net, x, "pos_encoding", embed, input_size[0],
                                 input_size[1] * input_size[2], !cfg->rel_pos_embed);

  for (int i = 0; i < MVIT_BLOCKS; i++)
    {
      const MvitBlockConfig *b = &cfg->blocks[i];

      x = multiscale_block (net, x, i, cfg, input_size, thw);
      if (b->pool_q)
        for (int j = 0; j < 3; j++)
          input_size[j] /= b->stride_q[j];
    }
  x = tvw_net_layer_norm (net, x, "norm", -1, cfg->blocks[MVIT_BLOCKS - 1].output_channels,
                          MVIT_LN_EPS, TRUE);

  /* The class token's row: N×768 → N×num_classes (head.0 is dropout) */
  x = tvw_net_slice (net, x, 1, 0, 1, 1);
  x = tvw_net_squeeze (net, x, 1);
  x = tvw_net_linear (net, x, "head.1", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

#define S1 { 1, 1, 1 }
#define S2 { 1, 2, 2 }
#define S4 { 1, 4, 4 }
#define S8 { 1, 8, 8 }

/* mvit_v1_b: queries pooled (3×3×3, stride 1×2×2) in blocks 1, 3 and 14
 * only. */
static const MvitConfig mvit_v1_b = {
  FALSE, FALSE, FALSE,
  {
    { 1, 96,  192, FALSE, S1, S8 },
    { 2, 192, 192, TRUE,  S2, S4 },
    { 2, 192, 384, FALSE, S1, S4 },
    { 4, 384, 384, TRUE,  S2, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 384, FALSE, S1, S2 },
    { 4, 384, 768, FALSE, S1, S2 },
    { 8, 768, 768, TRUE,  S2, S1 },
    { 8, 768, 768, FALSE, S1, S1 },
  },
};

/* mvit_v2_s: every block pools its queries. */
static const MvitConfig mvit_v2_s = {
  TRUE, TRUE, TRUE,
  {
    { 1, 96,  96,  TRUE, S1, S8 },
    { 2, 96,  192, TRUE, S2, S4 },
    { 2, 192, 192, TRUE, S1, S4 },
    { 4, 192, 384, TRUE, S2, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 4, 384, 384, TRUE, S1, S2 },
    { 8, 384, 768, TRUE, S2, S1 },
    { 8, 768, 768, TRUE, S1, S1 },
  },
};

/* The clip is 16×224×224 (the positional encoding and the relative
 * position tables are sized for it). */
const TvwArchitecture tvw_mvit_architectures[] = {
  { "mvit_v1_b", 400, MVIT_SIZE, build_mvit, &mvit_v1_b },
  { "mvit_v2_s", 400, MVIT_SIZE, build_mvit, &mvit_v2_s },
  { NULL }
};
