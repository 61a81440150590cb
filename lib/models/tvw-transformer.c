/* tvw-transformer.c — blocks the transformer families share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-transformer-private.h"

TvwVal
tvw_transformer_linear (TvwNet     *net,
                        TvwVal      x,
                        const char *prefix,
                        const char *weight,
                        const char *bias,
                        int         out_features,
                        gboolean    with_bias)
{
  const TvwArray *a = tvw_net_array (net, x);
  int in = a != NULL && a->rank > 0 ? (int) a->shape[a->rank - 1] : 0;
  TvwConvOpParams params = {
    .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, with_bias },
    .cin = in, .cout = out_features, .act = TVW_ACT_NONE,
  };
  TvwWeightSpec weights[2] = {
    { weight, 2, { out_features, in } },
    { bias, 1, { out_features } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_linear, .name = prefix,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = with_bias ? 2 : 1, .weights = weights,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}

void
tvw_transformer_split_heads (TvwNet *net,
                             TvwVal  qkv,
                             int     heads,
                             TvwVal *q,
                             TvwVal *k,
                             TvwVal *v)
{
  const TvwArray *a = tvw_net_array (net, qkv);
  const int order[5] = { 2, 0, 3, 1, 4 };
  gint64 shape[5] = { -1, 0, 3, heads, 0 };
  const gint64 ones[3] = { 1, 1, 1 };
  TvwVal parts[3] = { -1, -1, -1 };

  if (a != NULL && a->rank == 3)
    {
      shape[1] = a->shape[1];
      shape[4] = a->shape[2] / (3 * MAX (heads, 1));
    }
  /* N×L×3·D → N×L×3×H×d → 3×N×H×L×d, views (N may change, L not) */
  qkv = tvw_net_reshape (net, qkv, 5, shape);
  qkv = tvw_net_permute (net, qkv, order);
  tvw_net_split (net, qkv, 0, 3, ones, parts);
  *q = tvw_net_squeeze (net, parts[0], 0);
  *k = tvw_net_squeeze (net, parts[1], 0);
  *v = tvw_net_squeeze (net, parts[2], 0);
}

TvwVal
tvw_transformer_merge_heads (TvwNet *net,
                             TvwVal  x)
{
  x = tvw_net_transpose (net, x, 1, 2);
  return tvw_net_flatten_dims (net, x, 2, 3);
}

TvwVal
tvw_transformer_mlp (TvwNet     *net,
                     TvwVal      x,
                     const char *prefix,
                     const char *first,
                     const char *second,
                     int         hidden,
                     int         out)
{
  g_autofree char *a = g_strconcat (prefix, ".", first, NULL);
  g_autofree char *b = g_strconcat (prefix, ".", second, NULL);

  x = tvw_net_linear (net, x, a, hidden, TRUE);
  x = tvw_net_activation (net, x, TVW_ACT_GELU);
  return tvw_net_linear (net, x, b, out, TRUE);
}
