/* tvw-blocks.c — building blocks that several model families share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-blocks-private.h"

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
