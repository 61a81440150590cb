/* tvw-backbones-private.h — classification trunks other families reuse
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision's segmentation (and detection) models take a classifier's
 * convolutional part as their backbone, some with dilated last stages.
 */

#pragma once

#include <glib.h>

#include "tvw-engine-private.h"

G_BEGIN_DECLS

/* ResNet @name's conv1 … layer4 on @x, parameters named “@prefix conv1…”
 * (“backbone.” for IntermediateLayerGetter), with torchvision's
 * replace_stride_with_dilation for layers 2–4 (nullable: none); @layers
 * receives the outputs of layer1 … layer4. */
void    tvw_resnet_features             (TvwNet         *net,
                                         TvwVal          x,
                                         const char     *name,
                                         const char     *prefix,
                                         const gboolean  replace_stride_with_dilation[3],
                                         TvwVal          layers[4]);

/* The same with the BatchNorms' @eps (the detection models' COCO_V1
 * weights run their FrozenBatchNorm2d at eps 0: overwrite_eps ()). */
void    tvw_resnet_features_full        (TvwNet         *net,
                                         TvwVal          x,
                                         const char     *name,
                                         const char     *prefix,
                                         const gboolean  replace_stride_with_dilation[3],
                                         double          eps,
                                         TvwVal          layers[4]);

/* MobileNetV3-Large's features: modules 0 (the stem) … 16 (the 1×1 head). */
#define TVW_MOBILENET_V3_LARGE_N_FEATURES 17

/* mobilenet_v3_large (dilated=@dilated).features on @x, module i named
 * “@base.i”; @features (nullable) receives each module's output.  Returns
 * the last one. */
TvwVal  tvw_mobilenet_v3_large_features (TvwNet         *net,
                                         TvwVal          x,
                                         const char     *base,
                                         gboolean        dilated,
                                         TvwVal          features[TVW_MOBILENET_V3_LARGE_N_FEATURES]);

/* The same with torchvision's other arguments: @reduced_tail (the last
 * three blocks at half width, SSDlite) and the BatchNorm @eps (the
 * detection models pass their own norm_layer: 1e-5, not MobileNetV3's
 * 0.001). */
TvwVal  tvw_mobilenet_v3_large_features_full (TvwNet    *net,
                                         TvwVal          x,
                                         const char     *base,
                                         gboolean        dilated,
                                         gboolean        reduced_tail,
                                         double          eps,
                                         TvwVal          features[TVW_MOBILENET_V3_LARGE_N_FEATURES]);

G_END_DECLS
