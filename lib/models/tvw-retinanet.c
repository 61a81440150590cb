/* tvw-retinanet.c — RetinaNet (v1, v2) and FCOS, as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/detection/retinanet.py and fcos.py at inference: the
 * model's GeneralizedRCNNTransform, a ResNet-50 body whose layers 2–4 feed
 * an FPN with LastLevelP6P7 (P3–P7), one head applied to every level (four
 * 3×3 convolutions with ReLU — plain, GroupNorm (32) in RetinaNet v2 and
 * FCOS — then the class logits and the box regression; FCOS's regression
 * through a ReLU, plus a centerness map), anchors, and the postprocess:
 * per level the scores over score_thresh (sigmoid; FCOS: sqrt (sigmoid
 * (logits) · sigmoid (centerness))), the topk_candidates best, their boxes
 * decoded (BoxCoder with weights (1, 1, 1, 1); FCOS: BoxLinearCoder) and
 * clipped to the resized image; then batched NMS over the levels,
 * detections_per_img, and the boxes back in the input's pixels.
 */

#include "config.h"

#include <math.h>

#include "tvw-detection-private.h"

typedef enum
{
  HEAD_PLAIN,         /* RetinaNet: Conv2dNormActivation (norm_layer=None) */
  HEAD_GROUP_NORM,    /* RetinaNet v2: Conv2dNormActivation (GroupNorm (32)) */
  HEAD_FCOS,          /* FCOS: Conv2d, GroupNorm (32), ReLU in one Sequential */
} HeadKind;

typedef struct
{
  HeadKind kind;
  /* LastLevelP6P7 (256, 256) reads P5; v2's (2048, 256) reads C5. */
  gboolean p6p7_use_p5;
  /* The COCO_V1 weights are loaded with overwrite_eps (model, 0.0). */
  gboolean overwrite_eps;
  double   score_thresh, nms_thresh;
  gint64   detections_per_img;
} RetinaConfig;

#define CHANNELS   256
#define N_CONVS    4
#define GN_GROUPS  32
#define GN_EPS     1e-5

/* The head's four convolutions on one level, “@prefix.conv.*”. */
static TvwVal
tower (TvwNet     *net,
       TvwVal      x,
       const char *prefix,
       HeadKind    kind)
{
  for (int i = 0; i < N_CONVS; i++)
    {
      g_autofree char *conv = NULL;
      g_autofree char *norm = NULL;

      switch (kind)
        {
        case HEAD_PLAIN:
          conv = g_strdup_printf ("%s.conv.%d.0", prefix, i);
          x = tvw_net_conv2d (net, x, conv, CHANNELS, 3, 1, 1, 1, 1, TRUE);
          break;

        case HEAD_GROUP_NORM:
          conv = g_strdup_printf ("%s.conv.%d.0", prefix, i);
          norm = g_strdup_printf ("%s.conv.%d.1", prefix, i);
          x = tvw_net_conv2d (net, x, conv, CHANNELS, 3, 1, 1, 1, 1, FALSE);
          x = tvw_net_group_norm (net, x, norm, GN_GROUPS, GN_EPS, TRUE);
          break;

        case HEAD_FCOS:
        default:
          conv = g_strdup_printf ("%s.conv.%d", prefix, 3 * i);
          norm = g_strdup_printf ("%s.conv.%d", prefix, 3 * i + 1);
          x = tvw_net_conv2d (net, x, conv, CHANNELS, 3, 1, 1, 1, 1, TRUE);
          x = tvw_net_group_norm (net, x, norm, GN_GROUPS, GN_EPS, TRUE);
          break;
        }
      x = tvw_net_activation (net, x, TVW_ACT_RELU);
    }
  return x;
}

static gboolean
build (TvwNet                *net,
       const TvwArchitecture *arch,
       const TvwBuildConfig  *config,
       GError               **error)
{
  const RetinaConfig *cfg = arch->config;
  const gboolean fcos = cfg->kind == HEAD_FCOS;
  const int num_classes = (int) config->num_classes;
  const double score_thresh = tvw_build_config_get_double (config, "score_thresh",
                                                           cfg->score_thresh);
  const double nms_thresh = tvw_build_config_get_double (config, "nms_thresh", cfg->nms_thresh);
  const gint64 detections_per_img = tvw_build_config_get_int (config, "detections_per_img",
                                                              cfg->detections_per_img);
  const gint64 topk_candidates = tvw_build_config_get_int (config, "topk_candidates", 1000);
  const TvwFpnConfig fpn = {
    .out_channels = CHANNELS,
    .extra = TVW_FPN_EXTRA_P6P7,
    .p6p7_use_p5 = cfg->p6p7_use_p5,
  };
  const TvwBoxDecodeParams coder = {
    .coder = fcos ? TVW_BOX_CODER_LINEAR : TVW_BOX_CODER_DELTAS,
    .weights = { 1.0, 1.0, 1.0, 1.0 },
    .normalize_by_size = TRUE,
  };
  const TvwScoreTopkParams select = {
    .mode = fcos ? TVW_SCORE_SIGMOID_CENTERNESS : TVW_SCORE_SIGMOID,
    .threshold = score_thresh,
    .k = topk_candidates,
  };
  TvwDetectionTransform transform;
  TvwDetectionImages images;
  TvwAnchorParams anchor_params = { 0 };
  TvwVal levels[TVW_FPN_MAX_LEVELS], anchors[TVW_FPN_MAX_LEVELS];
  TvwVal boxes[TVW_FPN_MAX_LEVELS], scores[TVW_FPN_MAX_LEVELS], labels[TVW_FPN_MAX_LEVELS];
  int n_levels, n_anchors;

  if (num_classes < 1 || topk_candidates < 0 || detections_per_img < 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: num_classes %d, topk_candidates %" G_GINT64_FORMAT
                   ", detections_per_img %" G_GINT64_FORMAT, arch->name, num_classes,
                   topk_candidates, detections_per_img);
      return FALSE;
    }

  tvw_detection_transform_init (&transform, config, 800, 1333);
  tvw_detection_images (net, &transform, &images);
  n_levels = tvw_detection_resnet_fpn (net, images.batch, "resnet50", 0xe,
                                       tvw_detection_resnet_bn_eps (config, cfg->overwrite_eps),
                                       &fpn, levels);

  /* _default_anchorgen (): sizes x, int (x · 2^⅓), int (x · 2^⅔) for x in
   * 32 … 512, ratios 0.5, 1, 2; FCOS: one anchor of the level's stride. */
  for (int l = 0; l < n_levels; l++)
    {
      static const double ratios[3] = { 0.5, 1.0, 2.0 };
      const double x = (fcos ? 8 : 32) << l;
      const double sizes[3] = { x, floor (x * pow (2.0, 1.0 / 3)), floor (x * pow (2.0, 2.0 / 3)) };

      if (fcos)
        tvw_anchor_params_set_level (&anchor_params, l, 1, sizes, 1, &ratios[1]);
      else
        tvw_anchor_params_set_level (&anchor_params, l, 3, sizes, 3, ratios);
    }
  n_anchors = anchor_params.n_anchors[0];
  tvw_net_anchor_generator (net, images.batch, levels, &anchor_params, anchors);

  /* One head for every level: its parameters are declared once. */
  tvw_net_set_param_sharing (net, TRUE);
  for (int l = 0; l < n_levels; l++)
    {
      TvwVal cls, reg, ctr = -1, rows, codes;

      cls = tower (net, levels[l], "head.classification_head", cfg->kind);
      cls = tvw_net_conv2d (net, cls, "head.classification_head.cls_logits",
                            n_anchors * num_classes, 3, 1, 1, 1, 1, TRUE);
      cls = tvw_detection_head_rows (net, cls, num_classes);

      reg = tower (net, levels[l], "head.regression_head", cfg->kind);
      if (fcos)
        ctr = tvw_detection_head_rows (net, tvw_net_conv2d (net, reg,
                                                            "head.regression_head.bbox_ctrness",
                                                            n_anchors, 3, 1, 1, 1, 1, TRUE), 1);
      reg = tvw_net_conv2d (net, reg, "head.regression_head.bbox_reg", n_anchors * 4, 3, 1, 1, 1,
                            1, TRUE);
      if (fcos)
        reg = tvw_net_activation (net, reg, TVW_ACT_RELU);
      reg = tvw_detection_head_rows (net, reg, 4);

      /* postprocess_detections, per level */
      tvw_net_score_topk (net, cls, ctr, &select, &scores[l], &rows, &labels[l]);
      codes = tvw_net_index_select (net, reg, 0, rows);
      boxes[l] = tvw_net_box_decode (net, codes, tvw_net_index_select (net, anchors[l], 0, rows),
                                     images.resized, &coder);
    }
  tvw_net_set_param_sharing (net, FALSE);

  tvw_detection_finish (net, &images,
                        tvw_net_concat (net, n_levels, boxes, 0),
                        tvw_net_concat (net, n_levels, scores, 0),
                        tvw_net_concat (net, n_levels, labels, 0),
                        nms_thresh, detections_per_img, NULL);

  return tvw_net_check (net, error);
}

static const RetinaConfig retinanet_v1 = { HEAD_PLAIN, TRUE, TRUE, 0.05, 0.5, 300 };
static const RetinaConfig retinanet_v2 = { HEAD_GROUP_NORM, FALSE, FALSE, 0.05, 0.5, 300 };
static const RetinaConfig fcos = { HEAD_FCOS, TRUE, FALSE, 0.2, 0.6, 100 };

static const char * const retinanet_options[] = {
  TVW_DETECTION_TRANSFORM_OPTIONS,
  "score_thresh", "nms_thresh", "detections_per_img", "topk_candidates",
  "fg_iou_thresh", "bg_iou_thresh",
  NULL
};

static const char * const fcos_options[] = {
  TVW_DETECTION_TRANSFORM_OPTIONS,
  "score_thresh", "nms_thresh", "detections_per_img", "topk_candidates",
  "center_sampling_radius",
  NULL
};

const TvwArchitecture tvw_retinanet_architectures[] = {
  { "retinanet_resnet50_fpn",    91, 1, build, &retinanet_v1, retinanet_options },
  { "retinanet_resnet50_fpn_v2", 91, 1, build, &retinanet_v2, retinanet_options },
  { "fcos_resnet50_fpn",         91, 1, build, &fcos, fcos_options },
  { NULL }
};
