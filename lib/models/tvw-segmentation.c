/* tvw-segmentation.c — FCN, DeepLabV3 and LR-ASPP, as torchvision builds
 * them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/segmentation/: a classifier's trunk as the backbone
 * (IntermediateLayerGetter: its modules keep their names under
 * “backbone.”), ResNets with layers 3 and 4 dilated (output stride 8),
 * MobileNetV3-Large with its last stage dilated (output stride 16), a head
 * (“classifier.”), optionally an FCNHead on an earlier stage
 * (“aux_classifier.”), and each output upsampled bilinearly
 * (align_corners=False) to the input's size.  Outputs are named like the
 * OrderedDict torchvision returns: “out”, then “aux”.  Dropout is an
 * identity at inference.
 */

#include "config.h"

#include "tvw-error.h"
#include "tvw-architectures-private.h"
#include "tvw-backbones-private.h"
#include "tvw-blocks-private.h"
#include "tvw-ops-private.h"

/* nn.BatchNorm2d's default, in every head. */
#define BN_EPS 1e-5

typedef enum
{
  HEAD_FCN,
  HEAD_DEEPLABV3,
  HEAD_LRASPP,
} SegHead;

typedef struct
{
  SegHead     head;
  const char *backbone;     /* a ResNet, or mobilenet_v3_large */
} SegConfig;

/* F.interpolate (x, size=like.shape[-2:], mode="bilinear",
 * align_corners=False) */
static TvwVal
upsample_like (TvwNet *net,
               TvwVal  x,
               TvwVal  like)
{
  return tvw_net_interpolate_like (net, x, like, TVW_RESIZE_BILINEAR, FALSE);
}

/* A Conv2d 1×1 with bias named @prefix@name. */
static TvwVal
classifier_conv (TvwNet     *net,
                 TvwVal      x,
                 const char *prefix,
                 const char *name,
                 int         out_channels)
{
  g_autofree char *full = g_strconcat (prefix, name, NULL);

  return tvw_net_conv2d (net, x, full, out_channels, 1, 1, 0, 1, 1, TRUE);
}

/* FCNHead (in, num_classes): 3×3 conv to in/4 + BN + ReLU, dropout, 1×1
 * conv.  N×in×h×w → N×num_classes×h×w */
static TvwVal
fcn_head (TvwNet     *net,
          TvwVal      x,
          const char *prefix,
          int         num_classes)
{
  int inter = tvw_net_channels (net, x) / 4;

  x = tvw_blocks_conv_bn (net, x, prefix, "0", "1", BN_EPS, inter, 3, 1, 1, 1, TVW_ACT_RELU);
  return classifier_conv (net, x, prefix, "4", num_classes);
}

/* ASPP (in, [12, 24, 36], 256): a 1×1 branch, three dilated 3×3 branches,
 * image pooling (1×1 conv on the mean, broadcast back by a bilinear
 * upsampling of a 1×1 map), concatenated and projected.
 * N×in×h×w → N×256×h×w */
static TvwVal
aspp (TvwNet     *net,
      TvwVal      x,
      const char *prefix)
{
  static const int rates[] = { 12, 24, 36 };
  const int out_channels = 256;
  TvwVal branches[G_N_ELEMENTS (rates) + 2];
  g_autofree char *pooling = g_strdup_printf ("%sconvs.%d.", prefix, (int) G_N_ELEMENTS (rates) + 1);
  g_autofree char *branch = g_strdup_printf ("%sconvs.0.", prefix);
  TvwVal pooled;

  branches[0] = tvw_blocks_conv_bn (net, x, branch, "0", "1", BN_EPS, out_channels, 1, 1, 1, 1,
                                    TVW_ACT_RELU);
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    {
      g_autofree char *conv = g_strdup_printf ("%sconvs.%u.", prefix, i + 1);

      branches[i + 1] = tvw_blocks_conv_bn (net, x, conv, "0", "1", BN_EPS, out_channels,
                                            3, 1, rates[i], 1, TVW_ACT_RELU);
    }

  /* ASPPPooling: module 0 is the AdaptiveAvgPool2d. */
  pooled = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  pooled = tvw_blocks_conv_bn (net, pooled, pooling, "1", "2", BN_EPS, out_channels, 1, 1, 1, 1,
                               TVW_ACT_RELU);
  branches[G_N_ELEMENTS (rates) + 1] = upsample_like (net, pooled, x);

  x = tvw_net_concat (net, G_N_ELEMENTS (branches), branches, 1);
  return tvw_blocks_conv_bn (net, x, prefix, "project.0", "project.1", BN_EPS, out_channels,
                             1, 1, 1, 1, TVW_ACT_RELU);
}

/* DeepLabHead (in, num_classes): ASPP, 3×3 conv + BN + ReLU, 1×1 conv.
 * N×in×h×w → N×num_classes×h×w */
static TvwVal
deeplab_head (TvwNet     *net,
              TvwVal      x,
              const char *prefix,
              int         num_classes)
{
  g_autofree char *aspp_prefix = g_strconcat (prefix, "0.", NULL);

  x = aspp (net, x, aspp_prefix);
  x = tvw_blocks_conv_bn (net, x, prefix, "1", "2", BN_EPS, 256, 3, 1, 1, 1, TVW_ACT_RELU);
  return classifier_conv (net, x, prefix, "4", num_classes);
}

/* LRASPPHead (low, high, num_classes, 128): a 1×1 conv + BN + ReLU on
 * @high gated by a sigmoid of a 1×1 conv on its mean, upsampled to @low's
 * size; 1×1 classifiers on both, added.
 * → N×num_classes×h_low×w_low */
static TvwVal
lraspp_head (TvwNet *net,
             TvwVal  low,
             TvwVal  high,
             int     num_classes)
{
  const int inter_channels = 128;
  TvwVal x, s;

  x = tvw_blocks_conv_bn (net, high, "classifier.cbr.", "0", "1", BN_EPS, inter_channels,
                          1, 1, 1, 1, TVW_ACT_RELU);
  /* classifier.scale: AdaptiveAvgPool2d (1), a bias-free 1×1 conv, a
   * sigmoid; N×128×1×1 → N×128 for the channel scale. */
  s = tvw_net_adaptive_avg_pool2d (net, high, 1, 1);
  s = tvw_net_conv2d (net, s, "classifier.scale.1", inter_channels, 1, 1, 0, 1, 1, FALSE);
  s = tvw_net_activation (net, s, TVW_ACT_SIGMOID);
  x = tvw_net_scale_channels (net, x, tvw_net_flatten (net, s));
  x = upsample_like (net, x, low);

  /* low_classifier (low) + high_classifier (x): the second convolution
   * adds the first in its epilogue. */
  low = classifier_conv (net, low, "classifier.", "low_classifier", num_classes);
  x = classifier_conv (net, x, "classifier.", "high_classifier", num_classes);
  return tvw_net_add (net, x, low);
}

static gboolean
build (TvwNet                *net,
       const TvwArchitecture *arch,
       const TvwBuildConfig  *config,
       GError               **error)
{
  const SegConfig *cfg = arch->config;
  const int num_classes = (int) config->num_classes;
  /* torchvision: aux_loss defaults to True with a weights entry, else
   * False; LR-ASPP has no auxiliary classifier at all. */
  gboolean aux = tvw_build_config_get_boolean (config, "aux_loss", config->with_weights);
  TvwVal input = tvw_net_input (net, 3);
  TvwVal out, aux_features = -1;

  if (!tvw_build_config_check_no_backbone_weights (config, arch, error))
    return FALSE;

  if (cfg->head == HEAD_LRASPP)
    {
      if (tvw_build_config_get_boolean (config, "aux_loss", FALSE))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s does not use an auxiliary loss (aux_loss)", arch->name);
          return FALSE;
        }
      aux = FALSE;
    }

  if (g_str_equal (cfg->backbone, "mobilenet_v3_large"))
    {
      TvwVal features[TVW_MOBILENET_V3_LARGE_N_FEATURES];

      /* The stage outputs torchvision picks: the last module (“high”,
       * “out”) and the output of the stage at stride 8, module 4 (“low”,
       * “aux”). */
      out = tvw_mobilenet_v3_large_features (net, input, "backbone", TRUE, features);
      if (cfg->head == HEAD_LRASPP)
        out = lraspp_head (net, features[4], out, num_classes);
      else
        out = deeplab_head (net, out, "classifier.", num_classes);
      aux_features = features[4];
    }
  else
    {
      static const gboolean dilate[3] = { FALSE, TRUE, TRUE };
      TvwVal layers[4];

      tvw_resnet_features (net, input, cfg->backbone, "backbone.", dilate, layers);
      if (cfg->head == HEAD_FCN)
        out = fcn_head (net, layers[3], "classifier.", num_classes);
      else
        out = deeplab_head (net, layers[3], "classifier.", num_classes);
      aux_features = layers[2];
    }

  tvw_net_output (net, "out", upsample_like (net, out, input));
  if (aux)
    tvw_net_output (net, "aux",
                    upsample_like (net, fcn_head (net, aux_features, "aux_classifier.", num_classes),
                                   input));

  return tvw_net_check (net, error);
}

static const char * const options[] = { "aux_loss", "weights_backbone", NULL };

static const SegConfig fcn_resnet50 = { HEAD_FCN, "resnet50" };
static const SegConfig fcn_resnet101 = { HEAD_FCN, "resnet101" };
static const SegConfig deeplabv3_resnet50 = { HEAD_DEEPLABV3, "resnet50" };
static const SegConfig deeplabv3_resnet101 = { HEAD_DEEPLABV3, "resnet101" };
static const SegConfig deeplabv3_mobilenet_v3_large = { HEAD_DEEPLABV3, "mobilenet_v3_large" };
static const SegConfig lraspp_mobilenet_v3_large = { HEAD_LRASPP, "mobilenet_v3_large" };

/* 21 classes: VOC's 20 and the background.  Every size from 1×1 works:
 * the convolutions are padded, and the pools adaptive. */
const TvwArchitecture tvw_segmentation_architectures[] = {
  { "fcn_resnet50",                 21, 1, build, &fcn_resnet50, options },
  { "fcn_resnet101",                21, 1, build, &fcn_resnet101, options },
  { "deeplabv3_resnet50",           21, 1, build, &deeplabv3_resnet50, options },
  { "deeplabv3_resnet101",          21, 1, build, &deeplabv3_resnet101, options },
  { "deeplabv3_mobilenet_v3_large", 21, 1, build, &deeplabv3_mobilenet_v3_large, options },
  { "lraspp_mobilenet_v3_large",    21, 1, build, &lraspp_mobilenet_v3_large, options },
  { NULL }
};
