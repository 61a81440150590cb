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

G_END_DECLS
