/* tvw-ssd.c — SSD300 (VGG16) and SSDlite320 (MobileNetV3-Large), as
 * torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/detection/ssd.py and ssdlite.py: the transform
 * (normalise, resize to a fixed size), a backbone giving six feature maps,
 * a classification and a regression head per map, the default boxes
 * (DefaultBoxGenerator), then postprocess_detections (softmax, decoding
 * with weights (10, 10, 5, 5), clipping, per class the scores over
 * score_thresh and the best topk_candidates of them, batched NMS, the
 * best detections_per_img) and the boxes scaled back to the input image.
 *
 * The graph follows tvw-detection-private.h's contract: an image batch
 * N×3×H×W in [0, 1] in, torchvision's dict for image 0 out.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-backbones-private.h"
#include "tvw-blocks-private.h"
#include "tvw-detection-private.h"
#include "tvw-error.h"

#define N_LEVELS 6

typedef struct
{
  gboolean lite;
  int      size;                       /* fixed_size, square */
  double   image_mean[3];
  double   image_std[3];
  /* SSD's keyword arguments as the builder sets them. */
  double   score_thresh;
  double   nms_thresh;
  gint64   detections_per_img;
  gint64   topk_candidates;
  /* DefaultBoxGenerator (scales filled in by default_boxes_params ()). */
  int      n_ratios[N_LEVELS];
  double   ratios[N_LEVELS][2];
  double   scales[N_LEVELS + 1];
  double   min_ratio, max_ratio;       /* when scales[0] is 0 */
  double   steps[N_LEVELS];
} SsdConfig;

/* ---- SSD300: SSDFeatureExtractorVGG ------------------------------------- */

/* A Conv2d with bias “@prefix.@index” and its ReLU. */
static TvwVal
conv_relu (TvwNet     *net,
           TvwVal      x,
           const char *prefix,
           int         index,
           int         out_channels,
           int         kernel,
           int         stride,
           int         padding,
           int         dilation)
{
  g_autofree char *name = g_strdup_printf ("%s.%d", prefix, index);

  x = tvw_net_conv2d (net, x, name, out_channels, kernel, stride, padding, dilation, 1, TRUE);
  return tvw_net_activation (net, x, TVW_ACT_RELU);
}

/* backbone.features (VGG16's features up to conv4_3 with pool3 in ceil
 * mode) and backbone.extra: the rescaled conv4_3 and five more maps.
 * N×3×300×300 → 512×38², 1024×19², 512×10², 256×5², 256×3², 256×1² */
static void
vgg_features (TvwNet *net,
              TvwVal  x,
              TvwVal  maps[N_LEVELS])
{
  /* VGG16's cfg "D" up to conv4_3: channels, 0 for a 2×2 max pool. */
  static const int layers[] = { 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512 };
  int index = 0, pools = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      if (layers[i] == 0)
        {
          /* The third pool in ceil mode: 75 → 38, as in the paper. */
          x = tvw_net_max_pool2d (net, x, 2, 2, 0, ++pools == 3);
          index++;
          continue;
        }
      x = conv_relu (net, x, "backbone.features", index, layers[i], 3, 1, 1, 1);
      index += 2;
    }

  /* L2 normalisation and scale of conv4_3. */
  maps[0] = tvw_net_ssd_l2_norm (net, x, "backbone");

  /* extra.0: pool4, conv5_1 … conv5_3, then fc (pool5 3×3 stride 1,
   * conv6 dilated 6, conv7): N×512×38² → N×1024×19² */
  x = tvw_net_max_pool2d (net, x, 2, 2, 0, FALSE);
  for (int i = 1; i <= 5; i += 2)
    x = conv_relu (net, x, "backbone.extra.0", i, 512, 3, 1, 1, 1);
  x = tvw_net_max_pool2d (net, x, 3, 1, 1, FALSE);
  x = conv_relu (net, x, "backbone.extra.0.7", 1, 1024, 3, 1, 6, 6);
  maps[1] = x = conv_relu (net, x, "backbone.extra.0.7", 3, 1024, 1, 1, 0, 1);

  /* extra.1 … extra.4: a 1×1 reduction, then a 3×3 (strided and padded
   * in the first two) */
  for (int i = 1; i <= 4; i++)
    {
      static const int mid[4] = { 256, 128, 128, 128 }, out[4] = { 512, 256, 256, 256 };
      g_autofree char *prefix = g_strdup_printf ("backbone.extra.%d", i);

      x = conv_relu (net, x, prefix, 0, mid[i - 1], 1, 1, 0, 1);
      maps[i + 1] = x = conv_relu (net, x, prefix, 2, out[i - 1], 3, i <= 2 ? 2 : 1,
                                   i <= 2 ? 1 : 0, 1);
    }
}

/* ---- SSDlite320: SSDLiteFeatureExtractorMobileNet ----------------------- */

#define LITE_BN_EPS 1e-3

/* Conv2dNormActivation “@prefix.@index” with ReLU6. */
static TvwVal
lite_conv (TvwNet     *net,
           TvwVal      x,
           const char *prefix,
           int         index,
           int         out_channels,
           int         kernel,
           int         stride,
           int         groups)
{
  g_autofree char *name = g_strdup_printf ("%s.%d", prefix, index);

  return tvw_blocks_conv_norm_act (net, x, name, LITE_BN_EPS, out_channels, kernel, stride, 1,
                                   groups, TVW_ACT_RELU6);
}

/* backbone.features (MobileNetV3-Large with the reduced tail, cut at C4's
 * expansion) and backbone.extra (_extra_block: 1×1 to half, depthwise 3×3
 * stride 2, 1×1 out).  N×3×320×320 → 672×20², 480×10², 512×5², 256×3²,
 * 256×2², 128×1² */
static void
mobilenet_features (TvwNet *net,
                    TvwVal  x,
                    TvwVal  maps[N_LEVELS])
{
  static const int extra[4] = { 512, 256, 256, 128 };

  tvw_mobilenet_v3_large_ssdlite_features (net, x, "backbone.features", TRUE, LITE_BN_EPS, maps);
  x = maps[1];
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("backbone.extra.%d", i);
      const int mid = extra[i] / 2;

      x = lite_conv (net, x, prefix, 0, mid, 1, 1, 1);
      x = lite_conv (net, x, prefix, 1, mid, 3, 2, mid);
      maps[i + 2] = x = lite_conv (net, x, prefix, 2, extra[i], 1, 1, 1);
    }
}

/* ---- heads -------------------------------------------------------------- */

/* SSDHead / SSDLiteHead's module_list.@level of “head.@head” on @x:
 * 1×C×h×w → (h·w·anchors)×columns */
static TvwVal
head_level (TvwNet     *net,
            TvwVal      x,
            const char *head,
            int         level,
            int         anchors,
            int         columns,
            gboolean    lite)
{
  g_autofree char *prefix = g_strdup_printf ("head.%s.module_list.%d", head, level);

  if (lite)
    {
      /* _prediction_block: depthwise 3×3 with BatchNorm and ReLU6, then
       * a 1×1 convolution with bias. */
      g_autofree char *project = g_strconcat (prefix, ".1", NULL);
      const int c = tvw_net_channels (net, x);

      x = lite_conv (net, x, prefix, 0, c, 3, 1, c);
      x = tvw_net_conv2d (net, x, project, anchors * columns, 1, 1, 0, 1, 1, TRUE);
    }
  else
    x = tvw_net_conv2d (net, x, prefix, anchors * columns, 3, 1, 1, 1, 1, TRUE);

  return tvw_detection_head_rows (net, x, columns);
}

/* ---- the model ---------------------------------------------------------- */

/* The scales DefaultBoxGenerator estimates from min_ratio and max_ratio
 * when none are given (in double, as Python computes them). */
static void
default_boxes_params (const SsdConfig          *cfg,
                      TvwSsdDefaultBoxesParams *p)
{
  *p = (TvwSsdDefaultBoxesParams) { .n_levels = N_LEVELS, .clip = TRUE };
  for (int k = 0; k < N_LEVELS; k++)
    {
      p->n_ratios[k] = cfg->n_ratios[k];
      for (int r = 0; r < cfg->n_ratios[k]; r++)
        p->ratios[k][r] = cfg->ratios[k][r];
      p->steps[k] = cfg->steps[k];
      p->scales[k] = cfg->scales[0] > 0 ? cfg->scales[k] :
        cfg->min_ratio + (cfg->max_ratio - cfg->min_ratio) * k / (N_LEVELS - 1.0);
    }
  p->scales[N_LEVELS] = cfg->scales[0] > 0 ? cfg->scales[N_LEVELS] : 1.0;
}

static gboolean
build (TvwNet                *net,
       const TvwArchitecture *arch,
       const TvwBuildConfig  *config,
       GError               **error)
{
  const SsdConfig *cfg = arch->config;
  const int num_classes = (int) config->num_classes;
  const TvwScoreTopkParams select = {
    .mode = TVW_SCORE_IDENTITY,
    .threshold = tvw_build_config_get_double (config, "score_thresh", cfg->score_thresh),
    .k = tvw_build_config_get_int (config, "topk_candidates", cfg->topk_candidates),
    .per_class = TRUE,
    .first_class = 1,
  };
  const TvwBoxDecodeParams coder = { TVW_BOX_CODER_DELTAS, { 10, 10, 5, 5 } };
  const double nms_thresh = tvw_build_config_get_double (config, "nms_thresh", cfg->nms_thresh);
  const gint64 detections = tvw_build_config_get_int (config, "detections_per_img",
                                                      cfg->detections_per_img);
  TvwDetectionTransform transform;
  TvwDetectionImages images;
  TvwSsdDefaultBoxesParams anchors_params;
  TvwVal maps[N_LEVELS], cls[N_LEVELS], reg[N_LEVELS];
  TvwVal anchors, scores, boxes, values, rows, labels;

  /* weights_backbone=None, as with any weights entry: SSDlite's
   * MobileNetV3 has its reduced tail then. */
  if (!tvw_build_config_check_no_backbone_weights (config, arch, error))
    return FALSE;
  if (num_classes < 1 || select.k < 0 || detections < 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: num_classes %d, topk_candidates %" G_GINT64_FORMAT
                   " and detections_per_img %" G_GINT64_FORMAT " cannot be negative",
                   arch->name, num_classes, select.k, detections);
      return FALSE;
    }

  /* transform: normalise, resize to size × size (no padding) */
  tvw_detection_transform_init (&transform, config, cfg->size, cfg->size);
  transform.fixed_h = transform.fixed_w = cfg->size;
  transform.size_divisible = 1;
  for (int c = 0; c < 3; c++)
    {
      transform.image_mean[c] = cfg->image_mean[c];
      transform.image_std[c] = cfg->image_std[c];
    }
  tvw_detection_images (net, &transform, &images);

  if (cfg->lite)
    mobilenet_features (net, images.batch, maps);
  else
    vgg_features (net, images.batch, maps);

  /* head: A×4 box codes and A×num_classes logits over all maps */
  for (int k = 0; k < N_LEVELS; k++)
    {
      const int a = 2 + 2 * cfg->n_ratios[k];

      reg[k] = head_level (net, maps[k], "regression_head", k, a, 4, cfg->lite);
      cls[k] = head_level (net, maps[k], "classification_head", k, a, num_classes, cfg->lite);
    }

  /* anchor_generator: A×4 in the transformed image's pixels */
  default_boxes_params (cfg, &anchors_params);
  anchors = tvw_net_ssd_default_boxes (net, images.batch, maps, &anchors_params);

  /* postprocess_detections: softmax, decode and clip, per class the best
   * scores over the threshold, then NMS and the rescale */
  scores = tvw_net_softmax (net, tvw_net_concat (net, N_LEVELS, cls, 0), -1, FALSE);
  boxes = tvw_net_box_decode (net, tvw_net_concat (net, N_LEVELS, reg, 0), anchors,
                              images.resized, &coder);
  tvw_net_score_topk (net, scores, -1, &select, &values, &rows, &labels);
  boxes = tvw_net_index_select (net, boxes, 0, rows);
  tvw_detection_finish (net, &images, boxes, values, labels, nms_thresh, detections, NULL);

  return tvw_net_check (net, error);
}

static const SsdConfig ssd300 = {
  .lite = FALSE,
  .size = 300,
  .image_mean = { 0.48235, 0.45882, 0.40784 },
  .image_std = { 1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0 },
  .score_thresh = 0.01,
  .nms_thresh = 0.45,
  .detections_per_img = 200,
  .topk_candidates = 400,
  .n_ratios = { 1, 2, 2, 2, 1, 1 },
  .ratios = { { 2 }, { 2, 3 }, { 2, 3 }, { 2, 3 }, { 2 }, { 2 } },
  .scales = { 0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05 },
  .steps = { 8, 16, 32, 64, 100, 300 },
};

static const SsdConfig ssdlite320 = {
  .lite = TRUE,
  .size = 320,
  .image_mean = { 0.5, 0.5, 0.5 },
  .image_std = { 0.5, 0.5, 0.5 },
  .score_thresh = 0.001,
  .nms_thresh = 0.55,
  .detections_per_img = 300,
  .topk_candidates = 300,
  .n_ratios = { 2, 2, 2, 2, 2, 2 },
  .ratios = { { 2, 3 }, { 2, 3 }, { 2, 3 }, { 2, 3 }, { 2, 3 }, { 2, 3 } },
  .min_ratio = 0.2,
  .max_ratio = 0.95,
};

/* SSD's keyword arguments; those of training (iou_thresh,
 * positive_fraction, trainable_backbone_layers) change nothing here. */
static const char * const options[] = {
  "weights_backbone", "trainable_backbone_layers", "score_thresh", "nms_thresh",
  "detections_per_img", "topk_candidates", "iou_thresh", "positive_fraction", NULL
};

/* Any image size: the transform resizes to 300×300 or 320×320. */
const TvwArchitecture tvw_ssd_architectures[] = {
  { "ssd300_vgg16",                  91, 1, build, &ssd300,     options },
  { "ssdlite320_mobilenet_v3_large", 91, 1, build, &ssdlite320, options },
  { NULL }
};
