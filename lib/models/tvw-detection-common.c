/* tvw-detection-common.c — the transform, FPN backbones and postprocess
 * tail torchvision's detection models share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/detection/transform.py (GeneralizedRCNNTransform:
 * normalise, resize by min_size/max_size or to fixed_size, pad to
 * size_divisible), ops/feature_pyramid_network.py (FeaturePyramidNetwork,
 * LastLevelMaxPool, LastLevelP6P7) and backbone_utils.py
 * (BackboneWithFPN over ResNet and MobileNetV3-Large).
 */

#include "config.h"

#include "tvw-backbones-private.h"
#include "tvw-blocks-private.h"
#include "tvw-detection-private.h"

/* FrozenBatchNorm2d's and BatchNorm2d's eps in the detection models. */
#define DETECTION_BN_EPS 1e-5

void
tvw_detection_transform_init (TvwDetectionTransform *t,
                              const TvwBuildConfig  *config,
                              double                 min_size,
                              double                 max_size)
{
  static const double mean[3] = { 0.485, 0.456, 0.406 };
  static const double std[3] = { 0.229, 0.224, 0.225 };

  *t = (TvwDetectionTransform) {
    .min_size = tvw_build_config_get_double (config, "min_size", min_size),
    .max_size = tvw_build_config_get_double (config, "max_size", max_size),
    .size_divisible = 32,
  };
  for (int c = 0; c < 3; c++)
    {
      t->image_mean[c] = mean[c];
      t->image_std[c] = std[c];
    }
}

void
tvw_detection_images (TvwNet                      *net,
                      const TvwDetectionTransform *t,
                      TvwDetectionImages          *images)
{
  /* Any size works; this one only shapes the graph while it is built. */
  const gint64 example[4] = { 1, 3, 64, 64 };
  float scale[3], shift[3];
  TvwVal x;

  x = tvw_net_input_full (net, "images", TVW_ELEM_F32, 4, example);
  /* Images of one size are padded alike: image 0's detections do not
   * depend on the others. */
  images->original = tvw_net_slice (net, x, 0, 0, 1, 1);

  /* (image - mean) / std */
  for (int c = 0; c < 3; c++)
    {
      scale[c] = (float) (1.0 / t->image_std[c]);
      shift[c] = (float) (-t->image_mean[c] / t->image_std[c]);
    }
  x = tvw_net_channel_affine (net, images->original, 3, scale, shift);

  if (t->fixed_h > 0)
    x = tvw_net_interpolate (net, x, t->fixed_h, t->fixed_w, 0.0, 0.0, TVW_RESIZE_BILINEAR, FALSE);
  else
    x = tvw_net_interpolate_min_max (net, x, t->min_size, t->max_size);
  images->resized = x;
  images->batch = tvw_net_pad_to_multiple (net, x, t->size_divisible);
}

/* torchvision.ops.Conv2dNormActivation (activation_layer=None) “@prefix”:
 * a convolution with a bias, or without one and a BatchNorm2d. */
static TvwVal
conv_norm (TvwNet     *net,
           TvwVal      x,
           const char *prefix,
           int         out_channels,
           int         kernel,
           gboolean    batch_norm)
{
  g_autofree char *conv = NULL;

  if (batch_norm)
    return tvw_blocks_conv_norm_act (net, x, prefix, DETECTION_BN_EPS, out_channels, kernel, 1, 1,
                                     1, TVW_ACT_NONE);
  conv = g_strconcat (prefix, ".0", NULL);
  return tvw_net_conv2d (net, x, conv, out_channels, kernel, 1, (kernel - 1) / 2, 1, 1, TRUE);
}

int
tvw_detection_fpn (TvwNet             *net,
                   const char         *prefix,
                   int                 n_in,
                   const TvwVal       *x,
                   const TvwFpnConfig *cfg,
                   TvwVal             *out)
{
  const int c = cfg->out_channels;
  TvwVal last_inner = -1;
  int n = n_in;

  g_return_val_if_fail (n_in >= 1 && n_in + 2 <= TVW_FPN_MAX_LEVELS, 0);

  /* The coarsest level first, then top-down: each lateral plus the
   * coarser level's result upsampled (nearest) to the lateral's size. */
  for (int i = n_in - 1; i >= 0; i--)
    {
      g_autofree char *inner = g_strdup_printf ("%s.inner_blocks.%d", prefix, i);
      g_autofree char *layer = g_strdup_printf ("%s.layer_blocks.%d", prefix, i);
      TvwVal lateral = conv_norm (net, x[i], inner, c, 1, cfg->batch_norm);

      if (i == n_in - 1)
        last_inner = lateral;
      else
        last_inner = tvw_net_add (net, lateral,
                                  tvw_net_interpolate_like (net, last_inner, lateral,
                                                            TVW_RESIZE_NEAREST, FALSE));
      out[i] = conv_norm (net, last_inner, layer, c, 3, cfg->batch_norm);
    }

  switch (cfg->extra)
    {
    case TVW_FPN_EXTRA_MAX_POOL:
      /* F.max_pool2d (x[-1], 1, 2, 0) */
      out[n++] = tvw_net_max_pool2d (net, out[n_in - 1], 1, 2, 0, FALSE);
      break;

    case TVW_FPN_EXTRA_P6P7:
      {
        g_autofree char *p6 = g_strdup_printf ("%s.extra_blocks.p6", prefix);
        g_autofree char *p7 = g_strdup_printf ("%s.extra_blocks.p7", prefix);
        TvwVal from = cfg->p6p7_use_p5 ? out[n_in - 1] : x[n_in - 1];

        out[n] = tvw_net_conv2d (net, from, p6, c, 3, 2, 1, 1, 1, TRUE);
        out[n + 1] = tvw_net_conv2d (net, tvw_net_activation (net, out[n], TVW_ACT_RELU), p7, c,
                                     3, 2, 1, 1, 1, TRUE);
        n += 2;
      }
      break;

    case TVW_FPN_EXTRA_NONE:
    default:
      break;
    }

  return n;
}

int
tvw_detection_resnet_fpn (TvwNet             *net,
                          TvwVal              x,
                          const char         *resnet,
                          guint               returned_layers,
                          double              bn_eps,
                          const TvwFpnConfig *fpn,
                          TvwVal             *out)
{
  TvwVal layers[4], returned[4];
  int n = 0;

  tvw_resnet_features_full (net, x, resnet, "backbone.body.", NULL, bn_eps, layers);
  for (int i = 0; i < 4; i++)
    if (returned_layers & (1u << i))
      returned[n++] = layers[i];
  g_return_val_if_fail (n > 0, 0);

  return tvw_detection_fpn (net, "backbone.fpn", n, returned, fpn, out);
}

double
tvw_detection_resnet_bn_eps (const TvwBuildConfig *config,
                             gboolean              overwritten)
{
  return config->with_weights && overwritten ? 0.0 : DETECTION_BN_EPS;
}

int
tvw_detection_mobilenet_v3_stage (int stage)
{
  /* [0] + [i for i, b in enumerate (features) if b._is_cn] + [16] */
  static const int stages[TVW_MOBILENET_V3_LARGE_N_STAGES] = { 0, 2, 4, 7, 13, 16 };

  g_return_val_if_fail (stage >= 0 && stage < TVW_MOBILENET_V3_LARGE_N_STAGES, 0);
  return stages[stage];
}

int
tvw_detection_mobilenet_v3_fpn (TvwNet             *net,
                                TvwVal              x,
                                guint               returned_stages,
                                const TvwFpnConfig *fpn,
                                TvwVal             *out)
{
  TvwVal features[TVW_MOBILENET_V3_LARGE_N_FEATURES], returned[TVW_MOBILENET_V3_LARGE_N_STAGES];
  int n = 0;

  tvw_mobilenet_v3_large_features_full (net, x, "backbone.body", FALSE, FALSE, DETECTION_BN_EPS,
                                        features);
  for (int i = 0; i < TVW_MOBILENET_V3_LARGE_N_STAGES; i++)
    if (returned_stages & (1u << i))
      returned[n++] = features[tvw_detection_mobilenet_v3_stage (i)];
  g_return_val_if_fail (n > 0, 0);

  return tvw_detection_fpn (net, "backbone.fpn", n, returned, fpn, out);
}

TvwVal
tvw_detection_head_rows (TvwNet *net,
                         TvwVal  x,
                         int     columns)
{
  static const int nhwc[4] = { 0, 2, 3, 1 };
  const gint64 shape[2] = { -1, columns };

  /* (A·C) channels per pixel are A rows of C: N×H×W×(A·C) is (H·W·A)×C
   * for N = 1. */
  return tvw_net_reshape (net, tvw_net_permute (net, x, nhwc), 2, shape);
}

void
tvw_detection_finish (TvwNet                   *net,
                      const TvwDetectionImages *images,
                      TvwVal                    boxes,
                      TvwVal                    scores,
                      TvwVal                    labels,
                      double                    nms_thresh,
                      gint64                    detections_per_img,
                      TvwVal                   *kept)
{
  TvwVal keep = tvw_net_batched_nms (net, boxes, scores, labels, nms_thresh);

  /* keep[:detections_per_img] */
  keep = tvw_net_slice (net, keep, 0, 0, MAX (detections_per_img, 0), 1);
  boxes = tvw_net_index_select (net, boxes, 0, keep);
  tvw_net_output (net, "boxes",
                  tvw_net_rescale_boxes (net, boxes, images->resized, images->original));
  tvw_net_output (net, "labels", tvw_net_index_select (net, labels, 0, keep));
  tvw_net_output (net, "scores", tvw_net_index_select (net, scores, 0, keep));
  if (kept != NULL)
    *kept = keep;
}
