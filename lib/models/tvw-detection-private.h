/* tvw-detection-private.h — what torchvision's detection models share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * models/detection/: GeneralizedRCNNTransform (normalise, resize, pad),
 * BackboneWithFPN over ResNet or MobileNetV3-Large, the
 * FeaturePyramidNetwork with its extra blocks, the head outputs' reshape,
 * and the tail of every postprocess (batched NMS, detections_per_img, the
 * boxes back in the input image's pixels, the named outputs).  The box
 * arithmetic itself is in lib/engine/ops/tvw-op-boxes.c.
 *
 * The graph contract: one input “images”, 1×3×H×W float32 in [0, 1] (a
 * batch is cut to its image 0), named outputs “boxes” K×4, “labels” K
 * (i64), “scores” K, every size-dependent quantity computed from the
 * shapes at run time.
 */

#pragma once

#include <glib.h>

#include "tvw-architectures-private.h"
#include "tvw-engine-private.h"
#include "tvw-ops-private.h"

G_BEGIN_DECLS

/* GeneralizedRCNNTransform's arguments. */
typedef struct
{
  double min_size, max_size;        /* the resize rule, unless @fixed_h > 0 */
  int    fixed_h, fixed_w;          /* SSD's fixed_size (torchvision gives (w, h)) */
  double image_mean[3], image_std[3];
  int    size_divisible;            /* 32; SSD 1 */
} TvwDetectionTransform;

/* torchvision's defaults (ImageNet mean and std, size_divisible 32), with
 * min_size and max_size from @config's options (“min_size”, “max_size”)
 * or @min_size and @max_size. */
void     tvw_detection_transform_init (TvwDetectionTransform *t,
                                       const TvwBuildConfig  *config,
                                       double                 min_size,
                                       double                 max_size);

/* The images a detection graph works on. */
typedef struct
{
  TvwVal original;                  /* image 0 of the input, 1×3×H×W */
  TvwVal resized;                   /* normalised and resized (image_sizes) */
  TvwVal batch;                     /* padded to size_divisible: the backbone's input */
} TvwDetectionImages;

/* Declares the input “images” and applies @t to its image 0. */
void     tvw_detection_images      (TvwNet                      *net,
                                    const TvwDetectionTransform *t,
                                    TvwDetectionImages          *images);

#define TVW_FPN_MAX_LEVELS 8

typedef enum
{
  TVW_FPN_EXTRA_NONE,
  TVW_FPN_EXTRA_MAX_POOL,           /* LastLevelMaxPool: “pool” */
  TVW_FPN_EXTRA_P6P7,               /* LastLevelP6P7: “p6”, “p7” */
} TvwFpnExtra;

typedef struct
{
  int         out_channels;         /* 256 */
  gboolean    batch_norm;           /* norm_layer=BatchNorm2d (Faster R-CNN v2) */
  TvwFpnExtra extra;
  /* LastLevelP6P7 (in_channels, out_channels): in_channels == out_channels
   * (use_P5) reads P5, otherwise C5 (the last backbone output). */
  gboolean    p6p7_use_p5;
} TvwFpnConfig;

/* FeaturePyramidNetwork “@prefix” (“backbone.fpn”) on the @n_in backbone
 * outputs @x (finest first): inner_blocks.i, layer_blocks.i, the top-down
 * path with nearest upsampling to each lateral's size, then the extra
 * blocks.  @out receives the levels, finest first; returns their number
 * (n_in, + 1 or + 2 extra). */
int      tvw_detection_fpn         (TvwNet             *net,
                                    const char         *prefix,
                                    int                 n_in,
                                    const TvwVal       *x,
                                    const TvwFpnConfig *cfg,
                                    TvwVal             *out);

/* BackboneWithFPN (_resnet_fpn_extractor) over ResNet @resnet
 * (“resnet50”): body “backbone.body.*” (conv1 … layer4), the layers of
 * @returned_layers (bit 0: layer1 … bit 3: layer4; torchvision's
 * returned_layers [1, 2, 3, 4] is 0xf, RetinaNet's [2, 3, 4] 0xe) into
 * the FPN “backbone.fpn.*”, the body's BatchNorms at @bn_eps (1e-5; 0
 * for the weights torchvision loads with overwrite_eps (model, 0.0):
 * tvw_detection_resnet_bn_eps ()).  Returns the number of levels in
 * @out. */
int      tvw_detection_resnet_fpn  (TvwNet             *net,
                                    TvwVal              x,
                                    const char         *resnet,
                                    guint               returned_layers,
                                    double              bn_eps,
                                    const TvwFpnConfig *fpn,
                                    TvwVal             *out);
/* FrozenBatchNorm2d's eps: 0 with a weights entry when the builder calls
 * overwrite_eps (model, 0.0) for it (@overwritten: the v1 COCO weights of
 * RetinaNet, Faster, Mask and Keypoint R-CNN), else 1e-5. */
double   tvw_detection_resnet_bn_eps (const TvwBuildConfig *config,
                                      gboolean              overwritten);

/* The stages _mobilenet_extractor finds in mobilenet_v3_large's features
 * (the first module, each strided block, the last module). */
#define TVW_MOBILENET_V3_LARGE_N_STAGES 6
/* Index of stage i among the features (0, 2, 4, 7, 13, 16). */
int      tvw_detection_mobilenet_v3_stage (int stage);

/* BackboneWithFPN (_mobilenet_extractor (fpn=True)) over
 * mobilenet_v3_large (BatchNorm eps 1e-5, torchvision passing its own
 * norm_layer): body “backbone.body.i”, the stages of @returned_stages
 * (bit i: stage i; torchvision's default [num_stages - 2, num_stages - 1]
 * is 0x30) into the FPN “backbone.fpn.*”.  Returns the number of levels
 * in @out. */
int      tvw_detection_mobilenet_v3_fpn (TvwNet             *net,
                                         TvwVal              x,
                                         guint               returned_stages,
                                         const TvwFpnConfig *fpn,
                                         TvwVal             *out);

/* A head's N×(A·C)×H×W map as torchvision's view (N, A, C, H, W),
 * permute (0, 3, 4, 1, 2), reshape (N, H·W·A, C), for N = 1: (H·W·A)×C. */
TvwVal   tvw_detection_head_rows   (TvwNet             *net,
                                    TvwVal              x,
                                    int                 columns);

/* The end of RetinaNet's, FCOS's and SSD's postprocess_detections and of
 * RoIHeads': batched_nms (@boxes K×4 in the resized image, @scores K,
 * @labels K i64, @nms_thresh), keep[:@detections_per_img], then
 * transform.postprocess (boxes to the input image's pixels) and the
 * outputs “boxes”, “labels”, “scores”.  @kept (nullable) receives the
 * kept indices into the K candidates (for masks and keypoints). */
void     tvw_detection_finish      (TvwNet                   *net,
                                    const TvwDetectionImages *images,
                                    TvwVal                    boxes,
                                    TvwVal                    scores,
                                    TvwVal                    labels,
                                    double                    nms_thresh,
                                    gint64                    detections_per_img,
                                    TvwVal                   *kept);

/* Options every detection builder reads, torchvision's names; the
 * families add their own. */
#define TVW_DETECTION_TRANSFORM_OPTIONS "min_size", "max_size", "weights_backbone", \
  "trainable_backbone_layers"

G_END_DECLS
