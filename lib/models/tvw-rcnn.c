/* tvw-rcnn.c — Faster R-CNN (ResNet-50 FPN v1/v2, MobileNetV3-Large FPN),
 * Mask R-CNN (v1, v2) and Keypoint R-CNN, as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/detection/faster_rcnn.py, rpn.py and roi_heads.py at
 * inference, for one image: the model's GeneralizedRCNNTransform and FPN
 * backbone (tvw-detection-common.c); the RegionProposalNetwork — RPNHead
 * on every level (one 3×3 convolution with ReLU, two in v2, then the
 * objectness logits and box deltas), anchors, and filter_proposals: per
 * level the rpn_pre_nms_top_n_test best logits, their boxes decoded
 * (weights 1, 1, 1, 1) and clipped, then small boxes and low scores out,
 * NMS per level, rpn_post_nms_top_n_test kept; then RoIHeads —
 * MultiScaleRoIAlign (7×7, sampling ratio 2) over the levels '0'…'3' the
 * backbone has, TwoMLPHead (v2: four 3×3 convolutions with BatchNorm and
 * one fully connected layer), FastRCNNPredictor, and
 * postprocess_detections: softmax, boxes decoded with weights (10, 10, 5,
 * 5) and clipped, the background dropped, scores over box_score_thresh,
 * boxes at least 1e-2 wide and high, batched NMS, box_detections_per_img;
 * last the boxes back in the input image's pixels.  Mask R-CNN and
 * Keypoint R-CNN add a branch on the detections (mask_rcnn.py,
 * keypoint_rcnn.py, roi_heads.py's maskrcnn_inference and
 * heatmaps_to_keypoints, transform.py's paste_masks_in_image and
 * resize_keypoints).
 */

#include "config.h"

#include <math.h>

#include "tvw-blocks-private.h"
#include "tvw-detection-private.h"

typedef enum
{
  BACKBONE_RESNET50,
  BACKBONE_MOBILENET_V3_LARGE,
} Backbone;

typedef enum
{
  HEADS_BOXES,                /* Faster R-CNN */
  HEADS_MASKS,                /* Mask R-CNN */
  HEADS_KEYPOINTS,            /* Keypoint R-CNN */
} Heads;

typedef struct
{
  Heads    heads;
  Backbone backbone;
  gboolean v2;                /* BatchNorm FPN, two RPN convolutions, the conv box head */
  /* The COCO_V1 weights are loaded with overwrite_eps (model, 0.0). */
  gboolean overwrite_eps;
  double   min_size, max_size;
  int      rpn_pre_nms_top_n, rpn_post_nms_top_n;
  double   rpn_score_thresh;
} RcnnConfig;

#define CHANNELS            256
#define REPRESENTATION      1024
#define ROI_SIZE            7
#define MASK_ROI_SIZE       14
#define KEYPOINT_CHANNELS   512
#define ROI_SAMPLING_RATIO  2
#define BOX_HEAD_BN_EPS     1e-5
/* MultiScaleRoIAlign's featmap_names '0'…'3': never the 'pool' level. */
#define ROI_MAX_LEVELS      4

/* What the builder reads from its options. */
typedef struct
{
  int    pre_nms_top_n, post_nms_top_n;
  double rpn_nms_thresh, rpn_score_thresh;
  double box_score_thresh, box_nms_thresh;
  gint64 detections_per_img;
} RcnnOptions;

/* The RegionProposalNetwork on the FPN @levels → proposals P×4 in the
 * resized image. */
static TvwVal
region_proposals (TvwNet                   *net,
                  const RcnnConfig         *cfg,
                  const RcnnOptions        *opt,
                  const TvwDetectionImages *images,
                  int                       n_levels,
                  const TvwVal             *levels)
{
  const TvwBoxDecodeParams coder = {
    .coder = TVW_BOX_CODER_DELTAS,
    .weights = { 1.0, 1.0, 1.0, 1.0 },
  };
  /* torch.topk on the raw logits: no threshold. */
  const TvwScoreTopkParams top = {
    .mode = TVW_SCORE_IDENTITY,
    .threshold = -INFINITY,
    .k = opt->pre_nms_top_n,
  };
  const TvwRpnProposalsParams filter = {
    .n_levels = n_levels,
    .post_nms_top_n = opt->post_nms_top_n,
    .nms_thresh = opt->rpn_nms_thresh,
    .score_thresh = opt->rpn_score_thresh,
    .min_size = 1e-3,
  };
  TvwAnchorParams anchor_params = { 0 };
  TvwVal anchors[TVW_FPN_MAX_LEVELS], logits[TVW_FPN_MAX_LEVELS], boxes[TVW_FPN_MAX_LEVELS];
  int n_anchors;

  /* ResNet: _default_anchorgen (), one size per level, 32 … 512;
   * MobileNetV3: all five sizes on each of its three levels. */
  for (int l = 0; l < n_levels; l++)
    {
      static const double ratios[3] = { 0.5, 1.0, 2.0 };
      static const double all_sizes[5] = { 32, 64, 128, 256, 512 };

      if (cfg->backbone == BACKBONE_MOBILENET_V3_LARGE)
        tvw_anchor_params_set_level (&anchor_params, l, 5, all_sizes, 3, ratios);
      else
        tvw_anchor_params_set_level (&anchor_params, l, 1, &all_sizes[MIN (l, 4)], 3, ratios);
    }
  n_anchors = anchor_params.n_anchors[0];
  tvw_net_anchor_generator (net, images->batch, levels, &anchor_params, anchors);

  /* One RPNHead for every level: its parameters are declared once. */
  tvw_net_set_param_sharing (net, TRUE);
  for (int l = 0; l < n_levels; l++)
    {
      TvwVal t = levels[l], objectness, deltas, rows, labels;

      for (int i = 0; i < (cfg->v2 ? 2 : 1); i++)
        {
          g_autofree char *conv = g_strdup_printf ("rpn.head.conv.%d.0", i);

          t = tvw_net_conv2d (net, t, conv, CHANNELS, 3, 1, 1, 1, 1, TRUE);
          t = tvw_net_activation (net, t, TVW_ACT_RELU);
        }
      objectness = tvw_net_conv2d (net, t, "rpn.head.cls_logits", n_anchors, 1, 1, 0, 1, 1, TRUE);
      deltas = tvw_net_conv2d (net, t, "rpn.head.bbox_pred", 4 * n_anchors, 1, 1, 0, 1, 1, TRUE);

      /* filter_proposals: the level's best logits, their boxes decoded
       * and clipped (decoding only those gives the same boxes). */
      tvw_net_score_topk (net, tvw_detection_head_rows (net, objectness, 1), -1, &top, &logits[l],
                          &rows, &labels);
      deltas = tvw_net_index_select (net, tvw_detection_head_rows (net, deltas, 4), 0, rows);
      boxes[l] = tvw_net_box_decode (net, deltas, tvw_net_index_select (net, anchors[l], 0, rows),
                                     images->resized, &coder);
    }
  tvw_net_set_param_sharing (net, FALSE);

  return tvw_net_rpn_proposals (net, logits, boxes, &filter);
}

/* TwoMLPHead, or v2's FastRCNNConvFCHead: K×256×7×7 → K×1024 */
static TvwVal
box_head (TvwNet           *net,
          const RcnnConfig *cfg,
          TvwVal            x)
{
  if (cfg->v2)
    {
      for (int i = 0; i < 4; i++)
        {
          g_autofree char *prefix = g_strdup_printf ("roi_heads.box_head.%d", i);

          x = tvw_blocks_conv_norm_act (net, x, prefix, BOX_HEAD_BN_EPS, CHANNELS, 3, 1, 1, 1,
                                        TVW_ACT_RELU);
        }
      x = tvw_net_linear (net, tvw_net_flatten (net, x), "roi_heads.box_head.5", REPRESENTATION,
                          TRUE);
      return tvw_net_activation (net, x, TVW_ACT_RELU);
    }

  x = tvw_net_linear (net, tvw_net_flatten (net, x), "roi_heads.box_head.fc6", REPRESENTATION, TRUE);
  x = tvw_net_activation (net, x, TVW_ACT_RELU);
  x = tvw_net_linear (net, x, "roi_heads.box_head.fc7", REPRESENTATION, TRUE);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

/* nn.ConvTranspose2d “@name” with a bias, @kernel×@kernel, stride 2,
 * @padding: N×C×H×W → N×@out_channels×(2H + kernel − 2 − 2·padding)×… */
static TvwVal
conv_transpose_x2 (TvwNet     *net,
                   TvwVal      x,
                   const char *name,
                   int         out_channels,
                   int         kernel,
                   int         padding)
{
  const TvwConvNdSpec spec = {
    .rank = 2,
    .kernel = { kernel, kernel },
    .stride = { 2, 2 },
    .padding = { padding, padding },
    .dilation = { 1, 1 },
    .groups = 1,
    .bias = TRUE,
    .transposed = TRUE,
  };

  return tvw_net_conv_nd (net, x, name, out_channels, &spec);
}

/* RoIHeads' mask branch on the detections (@boxes K×4 in the resized
 * image, @labels K): MultiScaleRoIAlign 14×14, MaskRCNNHeads (four 3×3
 * convolutions with ReLU; v2 with BatchNorm), MaskRCNNPredictor (a 2×2
 * transposed convolution of stride 2, ReLU, 1×1 logits), then the label's
 * sigmoid pasted at the boxes in the input's pixels → K×1×H×W. */
static TvwVal
mask_branch (TvwNet                   *net,
             const RcnnConfig         *cfg,
             const TvwDetectionImages *images,
             int                       n_levels,
             const TvwVal             *levels,
             TvwVal                    boxes,
             TvwVal                    labels,
             int                       num_classes)
{
  TvwVal x = tvw_net_multi_scale_roi_align (net, boxes, images->resized, n_levels, levels,
                                            MASK_ROI_SIZE, ROI_SAMPLING_RATIO);

  for (int i = 0; i < 4; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("roi_heads.mask_head.%d", i);
      g_autofree char *conv = g_strdup_printf ("roi_heads.mask_head.%d.0", i);

      if (cfg->v2)
        x = tvw_blocks_conv_norm_act (net, x, prefix, BOX_HEAD_BN_EPS, CHANNELS, 3, 1, 1, 1,
                                      TVW_ACT_RELU);
      else
        x = tvw_net_activation (net, tvw_net_conv2d (net, x, conv, CHANNELS, 3, 1, 1, 1, 1, TRUE),
                                TVW_ACT_RELU);
    }
  x = conv_transpose_x2 (net, x, "roi_heads.mask_predictor.conv5_mask", CHANNELS, 2, 0);
  x = tvw_net_activation (net, x, TVW_ACT_RELU);
  x = tvw_net_conv2d (net, x, "roi_heads.mask_predictor.mask_fcn_logits", num_classes, 1, 1, 0, 1,
                      1, TRUE);
  return tvw_net_paste_masks (net, x, labels,
                              tvw_net_rescale_boxes (net, boxes, images->resized, images->original),
                              images->original);
}

/* RoIHeads' keypoint branch on the detections (@boxes K×4 in the resized
 * image): MultiScaleRoIAlign 14×14, KeypointRCNNHeads (eight 3×3
 * convolutions of 512 channels with ReLU), KeypointRCNNPredictor (a 4×4
 * transposed convolution of stride 2, then bilinear ×2), and
 * heatmaps_to_keypoints; the keypoints back in the input's pixels. */
static void
keypoint_branch (TvwNet                   *net,
                 const TvwDetectionImages *images,
                 int                       n_levels,
                 const TvwVal             *levels,
                 TvwVal                    boxes,
                 int                       num_keypoints)
{
  TvwVal x = tvw_net_multi_scale_roi_align (net, boxes, images->resized, n_levels, levels,
                                            MASK_ROI_SIZE, ROI_SAMPLING_RATIO);
  TvwVal kps[2];

  for (int i = 0; i < 8; i++)
    {
      g_autofree char *conv = g_strdup_printf ("roi_heads.keypoint_head.%d", 2 * i);

      x = tvw_net_conv2d (net, x, conv, KEYPOINT_CHANNELS, 3, 1, 1, 1, 1, TRUE);
      x = tvw_net_activation (net, x, TVW_ACT_RELU);
    }
  x = conv_transpose_x2 (net, x, "roi_heads.keypoint_predictor.kps_score_lowres", num_keypoints,
                         4, 1);
  /* F.interpolate (scale_factor=2, bilinear, recompute_scale_factor=False) */
  x = tvw_net_interpolate (net, x, 0, 0, 2.0, 2.0, TVW_RESIZE_BILINEAR, FALSE);
  tvw_net_heatmaps_to_keypoints (net, x, boxes, kps);
  tvw_net_output (net, "keypoints",
                  tvw_net_rescale_boxes (net, kps[0], images->resized, images->original));
  tvw_net_output (net, "keypoints_scores", kps[1]);
}

static gboolean
build (TvwNet                *net,
       const TvwArchitecture *arch,
       const TvwBuildConfig  *config,
       GError               **error)
{
  const RcnnConfig *cfg = arch->config;
  const int num_classes = (int) config->num_classes;
  const RcnnOptions opt = {
    .pre_nms_top_n = (int) tvw_build_config_get_int (config, "rpn_pre_nms_top_n_test",
                                                     cfg->rpn_pre_nms_top_n),
    .post_nms_top_n = (int) tvw_build_config_get_int (config, "rpn_post_nms_top_n_test",
                                                      cfg->rpn_post_nms_top_n),
    .rpn_nms_thresh = tvw_build_config_get_double (config, "rpn_nms_thresh", 0.7),
    .rpn_score_thresh = tvw_build_config_get_double (config, "rpn_score_thresh",
                                                     cfg->rpn_score_thresh),
    .box_score_thresh = tvw_build_config_get_double (config, "box_score_thresh", 0.05),
    .box_nms_thresh = tvw_build_config_get_double (config, "box_nms_thresh", 0.5),
    .detections_per_img = tvw_build_config_get_int (config, "box_detections_per_img", 100),
  };
  const TvwFpnConfig fpn = {
    .out_channels = CHANNELS,
    .batch_norm = cfg->v2,
    .extra = TVW_FPN_EXTRA_MAX_POOL,
  };
  const TvwBoxDecodeParams coder = {
    .coder = TVW_BOX_CODER_DELTAS,
    .weights = { 10.0, 10.0, 5.0, 5.0 },
  };
  const TvwRoiCandidatesParams candidates = {
    .score_thresh = opt.box_score_thresh,
    .min_size = 1e-2,
  };
  TvwDetectionTransform transform;
  TvwDetectionImages images;
  TvwVal levels[TVW_FPN_MAX_LEVELS], proposals, x, class_logits, box_regression, cand[3], kept;
  int n_levels, n_roi_levels;

  if (num_classes < 1 || opt.pre_nms_top_n < 0 || opt.post_nms_top_n < 0 ||
      opt.detections_per_img < 0 || opt.detections_per_img > G_MAXINT)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: num_classes %d, rpn_pre_nms_top_n_test %d, rpn_post_nms_top_n_test %d, "
                   "box_detections_per_img %" G_GINT64_FORMAT, arch->name, num_classes,
                   opt.pre_nms_top_n, opt.post_nms_top_n, opt.detections_per_img);
      return FALSE;
    }

  tvw_detection_transform_init (&transform, config, cfg->min_size, cfg->max_size);
  tvw_detection_images (net, &transform, &images);
  if (cfg->backbone == BACKBONE_MOBILENET_V3_LARGE)
    /* _mobilenet_extractor's default returned_layers: the last two stages. */
    n_levels = tvw_detection_mobilenet_v3_fpn (net, images.batch, 0x30, &fpn, levels);
  else
    n_levels = tvw_detection_resnet_fpn (net, images.batch, "resnet50", 0xf,
                                         tvw_detection_resnet_bn_eps (config, cfg->overwrite_eps),
                                         &fpn, levels);

  proposals = region_proposals (net, cfg, &opt, &images, n_levels, levels);

  /* RoIHeads: the levels but 'pool'. */
  n_roi_levels = MIN (n_levels - 1, ROI_MAX_LEVELS);
  x = tvw_net_multi_scale_roi_align (net, proposals, images.resized, n_roi_levels, levels, ROI_SIZE,
                                     ROI_SAMPLING_RATIO);
  x = box_head (net, cfg, x);
  class_logits = tvw_net_linear (net, x, "roi_heads.box_predictor.cls_score", num_classes, TRUE);
  box_regression = tvw_net_linear (net, x, "roi_heads.box_predictor.bbox_pred", 4 * num_classes,
                                   TRUE);

  /* postprocess_detections */
  tvw_net_roi_candidates (net, tvw_net_softmax (net, class_logits, -1, FALSE),
                          tvw_net_box_decode (net, box_regression, proposals, images.resized, &coder),
                          &candidates, cand);
  tvw_detection_finish (net, &images, cand[0], cand[1], cand[2], opt.box_nms_thresh,
                        opt.detections_per_img, &kept);
  if (cfg->heads == HEADS_MASKS)
    tvw_net_output (net, "masks",
                    mask_branch (net, cfg, &images, n_roi_levels, levels,
                                 tvw_net_index_select (net, cand[0], 0, kept),
                                 tvw_net_index_select (net, cand[2], 0, kept), num_classes));
  else if (cfg->heads == HEADS_KEYPOINTS)
    keypoint_branch (net, &images, n_roi_levels, levels,
                     tvw_net_index_select (net, cand[0], 0, kept),
                     (int) tvw_build_config_get_int (config, "num_keypoints", 17));

  return tvw_net_check (net, error);
}

static const RcnnConfig fasterrcnn_resnet50_fpn = {
  HEADS_BOXES, BACKBONE_RESNET50, FALSE, TRUE, 800, 1333, 1000, 1000, 0.0
};
static const RcnnConfig fasterrcnn_resnet50_fpn_v2 = {
  HEADS_BOXES, BACKBONE_RESNET50, TRUE, FALSE, 800, 1333, 1000, 1000, 0.0
};
static const RcnnConfig fasterrcnn_mobilenet_v3_large_fpn = {
  HEADS_BOXES, BACKBONE_MOBILENET_V3_LARGE, FALSE, FALSE, 800, 1333, 1000, 1000, 0.05
};
static const RcnnConfig fasterrcnn_mobilenet_v3_large_320_fpn = {
  HEADS_BOXES, BACKBONE_MOBILENET_V3_LARGE, FALSE, FALSE, 320, 640, 150, 150, 0.05
};
static const RcnnConfig maskrcnn_resnet50_fpn = {
  HEADS_MASKS, BACKBONE_RESNET50, FALSE, TRUE, 800, 1333, 1000, 1000, 0.0
};
static const RcnnConfig maskrcnn_resnet50_fpn_v2 = {
  HEADS_MASKS, BACKBONE_RESNET50, TRUE, FALSE, 800, 1333, 1000, 1000, 0.0
};
/* min_size (640, 672, …, 800): the last one at inference. */
static const RcnnConfig keypointrcnn_resnet50_fpn = {
  HEADS_KEYPOINTS, BACKBONE_RESNET50, FALSE, TRUE, 800, 1333, 1000, 1000, 0.0
};

/* FasterRCNN's keyword arguments; the training ones are accepted and
 * change nothing at inference. */
static const char * const options[] = {
  TVW_DETECTION_TRANSFORM_OPTIONS,
  "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test", "rpn_nms_thresh", "rpn_score_thresh",
  "box_score_thresh", "box_nms_thresh", "box_detections_per_img",
  "rpn_pre_nms_top_n_train", "rpn_post_nms_top_n_train", "rpn_fg_iou_thresh",
  "rpn_bg_iou_thresh", "rpn_batch_size_per_image", "rpn_positive_fraction",
  "box_fg_iou_thresh", "box_bg_iou_thresh", "box_batch_size_per_image",
  "box_positive_fraction",
  NULL
};

static const char * const keypoint_options[] = {
  TVW_DETECTION_TRANSFORM_OPTIONS,
  "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test", "rpn_nms_thresh", "rpn_score_thresh",
  "box_score_thresh", "box_nms_thresh", "box_detections_per_img", "num_keypoints",
  "rpn_pre_nms_top_n_train", "rpn_post_nms_top_n_train", "rpn_fg_iou_thresh",
  "rpn_bg_iou_thresh", "rpn_batch_size_per_image", "rpn_positive_fraction",
  "box_fg_iou_thresh", "box_bg_iou_thresh", "box_batch_size_per_image",
  "box_positive_fraction",
  NULL
};

const TvwArchitecture tvw_rcnn_architectures[] = {
  { "fasterrcnn_resnet50_fpn",               91, 1, build, &fasterrcnn_resnet50_fpn, options },
  { "fasterrcnn_resnet50_fpn_v2",            91, 1, build, &fasterrcnn_resnet50_fpn_v2, options },
  { "fasterrcnn_mobilenet_v3_large_fpn",     91, 1, build, &fasterrcnn_mobilenet_v3_large_fpn,
    options },
  { "fasterrcnn_mobilenet_v3_large_320_fpn", 91, 1, build, &fasterrcnn_mobilenet_v3_large_320_fpn,
    options },
  { "maskrcnn_resnet50_fpn",                 91, 1, build, &maskrcnn_resnet50_fpn, options },
  { "maskrcnn_resnet50_fpn_v2",              91, 1, build, &maskrcnn_resnet50_fpn_v2, options },
  { "keypointrcnn_resnet50_fpn",             2, 1, build, &keypointrcnn_resnet50_fpn,
    keypoint_options },
  { NULL }
};
