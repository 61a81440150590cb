/* tvw-blocks.c — building blocks that several model families share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-blocks-private.h"
#include "tvw-ops-private.h"

int
tvw_blocks_make_divisible (double v,
                           int    divisor)
{
  /* Python's int() truncates, like the cast. */
  int new_v = MAX (divisor, (int) (v + divisor / 2.0) / divisor * divisor);

  if (new_v < 0.9 * v)
    new_v += divisor;

  return new_v;
}

TvwVal
tvw_blocks_conv_bn (TvwNet        *net,
                    TvwVal         x,
                    const char    *prefix,
                    const char    *conv,
                    const char    *bn,
                    double         eps,
                    int            out_channels,
                    int            kernel,
                    int            stride,
                    int            dilation,
                    int            groups,
                    TvwActivation  act)
{
  g_autofree char *conv_name = g_strconcat (prefix, conv, NULL);
  g_autofree char *bn_name = g_strconcat (prefix, bn, NULL);

  x = tvw_net_conv2d (net, x, conv_name, out_channels, kernel, stride,
                      (kernel - 1) / 2 * dilation, dilation, groups, FALSE);
  x = tvw_net_batch_norm (net, x, bn_name, eps);
  return tvw_net_activation (net, x, act);
}

TvwVal
tvw_blocks_conv_norm_act (TvwNet        *net,
                          TvwVal         x,
                          const char    *prefix,
                          double         eps,
                          int            out_channels,
                          int            kernel,
                          int            stride,
                          int            dilation,
                          int            groups,
                          TvwActivation  act)
{
  return tvw_blocks_conv_bn (net, x, prefix, ".0", ".1", eps, out_channels,
                             kernel, stride, dilation, groups, act);
}

TvwVal
tvw_blocks_basic_conv2d (TvwNet     *net,
                         TvwVal      x,
                         const char *prefix,
                         int         out_channels,
                         int         kernel_h,
                         int         kernel_w,
                         int         stride,
                         int         pad_h,
                         int         pad_w)
{
  g_autofree char *conv_name = g_strconcat (prefix, ".conv", NULL);
  g_autofree char *bn_name = g_strconcat (prefix, ".bn", NULL);
  TvwConvSpec spec = {
    kernel_h, kernel_w, stride, stride, pad_h, pad_w, 1, 1, 1, FALSE
  };

  x = tvw_net_conv2d_full (net, x, conv_name, out_channels, &spec);
  x = tvw_net_batch_norm (net, x, bn_name, 1e-3);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

void
tvw_blocks_declare_basic_conv2d (TvwNet     *net,
                                 const char *prefix,
                                 int         in_channels,
                                 int         out_channels,
                                 int         kernel,
                                 gboolean    counted)
{
  g_autofree char *conv = g_strconcat (prefix, ".conv", NULL);
  g_autofree char *bn = g_strconcat (prefix, ".bn", NULL);
  const TvwWeightSpec weight = {
    "weight", 4, { out_channels, in_channels, kernel, kernel }, counted ? 0 : TVW_WEIGHT_BUFFER
  };
  TvwWeightSpec bn_weights[TVW_BATCH_NORM_N_WEIGHTS];

  tvw_batch_norm_weights (out_channels, bn_weights);
  for (int i = 0; i < TVW_BATCH_NORM_N_WEIGHTS; i++)
    bn_weights[i].flags |= counted ? 0 : TVW_WEIGHT_BUFFER;
  tvw_net_declare_weights (net, conv, 1, &weight);
  tvw_net_declare_weights (net, bn, TVW_BATCH_NORM_N_WEIGHTS, bn_weights);
}

void
tvw_blocks_declare_linear (TvwNet     *net,
                           const char *prefix,
                           int         in_features,
                           int         out_features,
                           gboolean    counted)
{
  const guint flags = counted ? 0 : TVW_WEIGHT_BUFFER;
  const TvwWeightSpec weights[2] = {
    { "weight", 2, { out_features, in_features }, flags },
    { "bias", 1, { out_features }, flags },
  };

  tvw_net_declare_weights (net, prefix, 2, weights);
}
