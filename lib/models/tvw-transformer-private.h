/* tvw-transformer-private.h — blocks the transformer families share (ViT,
 * Swin, MaxViT)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-engine-private.h"
#include "tvw-ops-private.h"

G_BEGIN_DECLS

/* A linear layer whose weight and bias are “@prefix.@weight” and
 * “@prefix.@bias” (nn.MultiheadAttention's in_proj_weight): … × in → … × @out */
TvwVal  tvw_transformer_linear      (TvwNet        *net,
                                     TvwVal         x,
                                     const char    *prefix,
                                     const char    *weight,
                                     const char    *bias,
                                     int            out_features,
                                     gboolean       with_bias);

/* A packed q/k/v projection N×L×3·D into three N×H×L×(D/H) views. */
void    tvw_transformer_split_heads (TvwNet        *net,
                                     TvwVal         qkv,
                                     int            heads,
                                     TvwVal        *q,
                                     TvwVal        *k,
                                     TvwVal        *v);

/* N×H×L×d (tvw_net_attention ()'s output) → N×L×H·d */
TvwVal  tvw_transformer_merge_heads (TvwNet        *net,
                                     TvwVal         x);

/* torchvision.ops.MLP with GELU and two layers named “@prefix.@first”
 * and “@prefix.@second”: … × D → … × @hidden → … × @out */
TvwVal  tvw_transformer_mlp         (TvwNet        *net,
                                     TvwVal         x,
                                     const char    *prefix,
                                     const char    *first,
                                     const char    *second,
                                     int            hidden,
                                     int            out);

G_END_DECLS
