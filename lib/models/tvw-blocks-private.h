/* tvw-blocks-private.h — building blocks that several model families share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-engine-private.h"

G_BEGIN_DECLS

/* torchvision/models/_utils.py's _make_divisible: rounds @v to a multiple
 * of @divisor, never more than 10% down. */
int     tvw_blocks_make_divisible  (double         v,
                                    int            divisor);

/* A bias-free Conv2d named “@prefix@conv”, padded (@kernel - 1) / 2 ·
 * @dilation (odd kernels keep the size at stride 1), then a BatchNorm2d
 * named “@prefix@bn” with @eps, then @act (TVW_ACT_NONE for none):
 * N×C×H×W → N×@out_channels×H/@stride×W/@stride */
TvwVal  tvw_blocks_conv_bn         (TvwNet        *net,
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
                                    TvwActivation  act);

/* torchvision.ops.Conv2dNormActivation with a BatchNorm2d: the
 * convolution is “@prefix.0”, the BatchNorm “@prefix.1”; otherwise
 * tvw_blocks_conv_bn(). */
TvwVal  tvw_blocks_conv_norm_act   (TvwNet        *net,
                                    TvwVal         x,
                                    const char    *prefix,
                                    double         eps,
                                    int            out_channels,
                                    int            kernel,
                                    int            stride,
                                    int            dilation,
                                    int            groups,
                                    TvwActivation  act);

/* torchvision's BasicConv2d (GoogLeNet, Inception v3): a bias-free
 * Conv2d “@prefix.conv” (@kernel_h×@kernel_w, padded @pad_h, @pad_w), a
 * BatchNorm2d “@prefix.bn” with eps 0.001 and a ReLU:
 * N×C×H×W → N×@out_channels×H'×W' */
TvwVal  tvw_blocks_basic_conv2d    (TvwNet        *net,
                                    TvwVal         x,
                                    const char    *prefix,
                                    int            out_channels,
                                    int            kernel_h,
                                    int            kernel_w,
                                    int            stride,
                                    int            pad_h,
                                    int            pad_w);

/* Declares the parameters of a BasicConv2d (@in_channels →
 * @out_channels, @kernel×@kernel) that the graph does not run: the
 * auxiliary heads of GoogLeNet and Inception v3, which a checkpoint
 * carries and inference never uses.  Unless @counted, they are left out of
 * the parameter count (googlenet (weights=…) drops the heads after
 * loading them). */
void    tvw_blocks_declare_basic_conv2d (TvwNet     *net,
                                         const char *prefix,
                                         int         in_channels,
                                         int         out_channels,
                                         int         kernel,
                                         gboolean    counted);

/* The same for an nn.Linear “@prefix” with a bias. */
void    tvw_blocks_declare_linear  (TvwNet        *net,
                                    const char    *prefix,
                                    int            in_features,
                                    int            out_features,
                                    gboolean       counted);

G_END_DECLS
