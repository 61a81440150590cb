/* tvw-video.c — torchvision.models.video: R3D, MC3, R(2+1)D and S3D
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Clips are N×3×T×H×W.  The video ResNets (r3d_18, mc3_18, r2plus1d_18)
 * share one VideoResNet with BasicBlocks; they differ in the stem and in
 * the convolution each layer uses: full 3×3×3, 1×3×3 without a temporal
 * extent, or (2+1)-D — a 1×3×3 spatial convolution to `midplanes`
 * channels, BatchNorm and ReLU, then a 3×1×1 temporal one.  S3D is an
 * Inception network whose convolutions are all separated the same way.
 * Parameter names are torchvision 0.14.1's state_dict keys.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-ops-private.h"

#define VIDEO_RESNET_BN_EPS 1e-5
#define S3D_BN_EPS 1e-3

typedef enum
{
  CONV_3D_SIMPLE,      /* Conv3DSimple: 3×3×3 */
  CONV_3D_NO_TEMPORAL, /* Conv3DNoTemporal: 1×3×3 */
  CONV_2PLUS1D,        /* Conv2Plus1D: 1×3×3 → BN → ReLU → 3×1×1 */
} ConvKind;

typedef struct
{
  gboolean r2plus1d_stem;
  ConvKind convs[4];
} VideoResNetConfig;

static TvwVal
conv3d (TvwNet     *net,
        TvwVal      x,
        const char *name,
        int         out_channels,
        const int   kernel[3],
        const int   stride[3],
        const int   padding[3],
        gboolean    bias)
{
  TvwConvNdSpec spec = { .rank = 3, .groups = 1, .bias = bias };

  for (int i = 0; i < 3; i++)
    {
      spec.kernel[i] = kernel[i];
      spec.stride[i] = stride[i];
      spec.padding[i] = padding[i];
      spec.dilation[i] = 1;
    }

  return tvw_net_conv_nd (net, x, name, out_channels, &spec);
}

/* Conv3d without bias, BatchNorm3d and (when @relu) ReLU, named
 * “@conv”, “@bn”. */
static TvwVal
conv3d_bn (TvwNet     *net,
           TvwVal      x,
           const char *conv,
           const char *bn,
           double      eps,
           int         out_channels,
           const int   kernel[3],
           const int   stride[3],
           const int   padding[3],
           gboolean    relu)
{
  x = conv3d (net, x, conv, out_channels, kernel, stride, padding, FALSE);
  x = tvw_net_batch_norm (net, x, bn, eps);
  return relu ? tvw_net_activation (net, x, TVW_ACT_RELU) : x;
}

/* The convolution a layer of the video ResNet uses, named @prefix (“.0”
 * and so on below it for the (2+1)-D one). */
static TvwVal
video_conv (TvwNet     *net,
            TvwVal      x,
            ConvKind    kind,
            const char *prefix,
            int         out_planes,
            int         midplanes,
            int         stride)
{
  switch (kind)
    {
    case CONV_3D_SIMPLE:
      return conv3d (net, x, prefix, out_planes,
                     (int[]) { 3, 3, 3 }, (int[]) { stride, stride, stride },
                     (int[]) { 1, 1, 1 }, FALSE);

    case CONV_3D_NO_TEMPORAL:
      return conv3d (net, x, prefix, out_planes,
                     (int[]) { 1, 3, 3 }, (int[]) { 1, stride, stride },
                     (int[]) { 0, 1, 1 }, FALSE);

    case CONV_2PLUS1D:
    default:
      {
        g_autofree char *spatial = g_strconcat (prefix, ".0", NULL);
        g_autofree char *bn = g_strconcat (prefix, ".1", NULL);
        g_autofree char *temporal = g_strconcat (prefix, ".3", NULL);

        x = conv3d_bn (net, x, spatial, bn, VIDEO_RESNET_BN_EPS, midplanes,
                       (int[]) { 1, 3, 3 }, (int[]) { 1, stride, stride },
                       (int[]) { 0, 1, 1 }, TRUE);
        return conv3d (net, x, temporal, out_planes,
                       (int[]) { 3, 1, 1 }, (int[]) { stride, 1, 1 },
                       (int[]) { 1, 0, 0 }, FALSE);
      }
    }
}

/* BasicBlock (expansion 1) of layer @layer, block @index. */
static TvwVal
basic_block (TvwNet   *net,
             TvwVal    x,
             ConvKind  kind,
             int       layer,
             int       index,
             int       inplanes,
             int       planes,
             int       stride)
{
  g_autofree char *p = g_strdup_printf ("layer%d.%d", layer + 1, index);
  g_autofree char *conv1 = g_strconcat (p, ".conv1.0", NULL);
  g_autofree char *bn1 = g_strconcat (p, ".conv1.1", NULL);
  g_autofree char *conv2 = g_strconcat (p, ".conv2.0", NULL);
  g_autofree char *bn2 = g_strconcat (p, ".conv2.1", NULL);
  const int midplanes = (inplanes * planes * 3 * 3 * 3) / (inplanes * 3 * 3 + 3 * planes);
  TvwVal residual = x;
  TvwVal out;

  out = video_conv (net, x, kind, conv1, planes, midplanes, stride);
  out = tvw_net_batch_norm (net, out, bn1, VIDEO_RESNET_BN_EPS);
  out = tvw_net_activation (net, out, TVW_ACT_RELU);
  out = video_conv (net, out, kind, conv2, planes, midplanes, 1);
  out = tvw_net_batch_norm (net, out, bn2, VIDEO_RESNET_BN_EPS);

  if (stride != 1 || inplanes != planes)
    {
      g_autofree char *ds_conv = g_strconcat (p, ".downsample.0", NULL);
      g_autofree char *ds_bn = g_strconcat (p, ".downsample.1", NULL);
      /* get_downsample_stride (): no temporal stride without a temporal
       * kernel. */
      const int ts = kind == CONV_3D_NO_TEMPORAL ? 1 : stride;

      residual = conv3d_bn (net, x, ds_conv, ds_bn, VIDEO_RESNET_BN_EPS, planes,
                            (int[]) { 1, 1, 1 }, (int[]) { ts, stride, stride },
                            (int[]) { 0, 0, 0 }, FALSE);
    }

  out = tvw_net_add (net, out, residual);
  return tvw_net_activation (net, out, TVW_ACT_RELU);
}

static TvwVal
clip_input (TvwNet *net,
            int     frames,
            int     size)
{
  const gint64 example[5] = { 1, 3, frames, size, size };

  return tvw_net_input_full (net, "input", TVW_ELEM_F32, 5, example);
}

static gboolean
build_video_resnet (TvwNet                *net,
                    const TvwArchitecture *arch,
                    const TvwBuildConfig  *config,
                    GError               **error)
{
  const VideoResNetConfig *cfg = arch->config;
  TvwVal x = clip_input (net, 16, 112);
  int inplanes = 64;

  /* N×3×T×H×W → N×64×T×H/2×W/2 */
  if (cfg->r2plus1d_stem)
    {
      x = conv3d_bn (net, x, "stem.0", "stem.1", VIDEO_RESNET_BN_EPS, 45,
                     (int[]) { 1, 7, 7 }, (int[]) { 1, 2, 2 }, (int[]) { 0, 3, 3 }, TRUE);
      x = conv3d_bn (net, x, "stem.3", "stem.4", VIDEO_RESNET_BN_EPS, 64,
                     (int[]) { 3, 1, 1 }, (int[]) { 1, 1, 1 }, (int[]) { 1, 0, 0 }, TRUE);
    }
  else
    {
      x = conv3d_bn (net, x, "stem.0", "stem.1", VIDEO_RESNET_BN_EPS, 64,
                     (int[]) { 3, 7, 7 }, (int[]) { 1, 2, 2 }, (int[]) { 1, 3, 3 }, TRUE);
    }

  for (int layer = 0; layer < 4; layer++)
    {
      const int planes = 64 << layer;

      for (int b = 0; b < 2; b++)
        {
          x = basic_block (net, x, cfg->convs[layer], layer, b, inplanes, planes,
                           b == 0 && layer > 0 ? 2 : 1);
          inplanes = planes;
        }
    }

  /* N×512×t×h×w → N×num_classes */
  x = tvw_net_adaptive_avg_pool3d (net, x, (gint64[]) { 1, 1, 1 });
  x = tvw_net_flatten_dims (net, x, 1, -1);
  x = tvw_net_linear (net, x, "fc", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* ---- S3D ----------------------------------------------------------------- */

/* Conv3dNormActivation with a cubic kernel of @k and “same” padding,
 * named “@prefix.0” (conv) and “@prefix.1” (BatchNorm3d). */
static TvwVal
s3d_unit (TvwNet     *net,
          TvwVal      x,
          const char *prefix,
          int         out_channels,
          const int   kernel[3],
          const int   stride[3],
          const int   padding[3])
{
  g_autofree char *conv = g_strconcat (prefix, ".0", NULL);
  g_autofree char *bn = g_strconcat (prefix, ".1", NULL);

  return conv3d_bn (net, x, conv, bn, S3D_BN_EPS, out_channels, kernel, stride, padding, TRUE);
}

/* TemporalSeparableConv: 1×k×k then k×1×1, as “@prefix.0”, “@prefix.1”. */
static TvwVal
s3d_separable (TvwNet     *net,
               TvwVal      x,
               const char *prefix,
               int         out_channels,
               int         k,
               int         stride,
               int         padding)
{
  g_autofree char *spatial = g_strconcat (prefix, ".0", NULL);
  g_autofree char *temporal = g_strconcat (prefix, ".1", NULL);

  x = s3d_unit (net, x, spatial, out_channels, (int[]) { 1, k, k },
                (int[]) { 1, stride, stride }, (int[]) { 0, padding, padding });
  return s3d_unit (net, x, temporal, out_channels, (int[]) { k, 1, 1 },
                   (int[]) { stride, 1, 1 }, (int[]) { padding, 0, 0 });
}

static TvwVal
s3d_pointwise (TvwNet     *net,
               TvwVal      x,
               const char *prefix,
               int         out_channels)
{
  return s3d_unit (net, x, prefix, out_channels,
                   (int[]) { 1, 1, 1 }, (int[]) { 1, 1, 1 }, (int[]) { 0, 0, 0 });
}

/* SepInceptionBlock3D, features.@index */
static TvwVal
s3d_inception (TvwNet *net,
               TvwVal  x,
               int     index,
               int     b0_out,
               int     b1_mid,
               int     b1_out,
               int     b2_mid,
               int     b2_out,
               int     b3_out)
{
  g_autofree char *p = g_strdup_printf ("features.%d", index);
  g_autofree char *b0 = g_strconcat (p, ".branch0", NULL);
  g_autofree char *b1a = g_strconcat (p, ".branch1.0", NULL);
  g_autofree char *b1b = g_strconcat (p, ".branch1.1", NULL);
  g_autofree char *b2a = g_strconcat (p, ".branch2.0", NULL);
  g_autofree char *b2b = g_strconcat (p, ".branch2.1", NULL);
  g_autofree char *b3 = g_strconcat (p, ".branch3.1", NULL);
  TvwVal branches[4];

  branches[0] = s3d_pointwise (net, x, b0, b0_out);
  branches[1] = s3d_separable (net, s3d_pointwise (net, x, b1a, b1_mid), b1b, b1_out, 3, 1, 1);
  branches[2] = s3d_separable (net, s3d_pointwise (net, x, b2a, b2_mid), b2b, b2_out, 3, 1, 1);
  branches[3] = tvw_net_max_pool3d (net, x, (int[]) { 3, 3, 3 }, (int[]) { 1, 1, 1 },
                                    (int[]) { 1, 1, 1 }, FALSE);
  branches[3] = s3d_pointwise (net, branches[3], b3, b3_out);

  return tvw_net_concat (net, 4, branches, 1);
}

static gboolean
build_s3d (TvwNet                *net,
           const TvwArchitecture *arch,
           const TvwBuildConfig  *config,
           GError               **error)
{
  static const int blocks[][7] = {
    /* features index, b0, b1 mid/out, b2 mid/out, b3 */
    { 5,  64,  96,  128, 16, 32,  32  },
    { 6,  128, 128, 192, 32, 96,  64  },
    { 8,  192, 96,  208, 16, 48,  64  },
    { 9,  160, 112, 224, 24, 64,  64  },
    { 10, 128, 128, 256, 24, 64,  64  },
    { 11, 112, 144, 288, 32, 64,  64  },
    { 12, 256, 160, 320, 32, 128, 128 },
    { 14, 256, 160, 320, 32, 128, 128 },
    { 15, 384, 192, 384, 48, 128, 128 },
  };
  TvwVal x = clip_input (net, 16, 224);
  TvwConvNdSpec classifier = {
    .rank = 3, .kernel = { 1, 1, 1 }, .stride = { 1, 1, 1 }, .dilation = { 1, 1, 1 },
    .groups = 1, .bias = TRUE,
  };

  x = s3d_separable (net, x, "features.0", 64, 7, 2, 3);
  x = tvw_net_max_pool3d (net, x, (int[]) { 1, 3, 3 }, (int[]) { 1, 2, 2 }, (int[]) { 0, 1, 1 },
                          FALSE);
  x = s3d_pointwise (net, x, "features.2", 64);
  x = s3d_separable (net, x, "features.3", 192, 3, 1, 1);
  x = tvw_net_max_pool3d (net, x, (int[]) { 1, 3, 3 }, (int[]) { 1, 2, 2 }, (int[]) { 0, 1, 1 },
                          FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      const int *b = blocks[i];

      if (b[0] == 8)
        x = tvw_net_max_pool3d (net, x, (int[]) { 3, 3, 3 }, (int[]) { 2, 2, 2 },
                                (int[]) { 1, 1, 1 }, FALSE);
      else if (b[0] == 14)
        x = tvw_net_max_pool3d (net, x, (int[]) { 2, 2, 2 }, (int[]) { 2, 2, 2 },
                                (int[]) { 0, 0, 0 }, FALSE);
      x = s3d_inception (net, x, b[0], b[1], b[2], b[3], b[4], b[5], b[6]);
    }

  /* AvgPool3d ((2, 7, 7), stride 1), the 1×1×1 classifier, then the mean
   * over what is left of time and space. */
  x = tvw_net_avg_pool3d (net, x, (int[]) { 2, 7, 7 }, (int[]) { 1, 1, 1 }, (int[]) { 0, 0, 0 },
                          FALSE, TRUE);
  x = tvw_net_conv_nd (net, x, "classifier.1", config->num_classes, &classifier);
  x = tvw_net_reduce (net, TVW_REDUCE_MEAN, x, (1u << 2) | (1u << 3) | (1u << 4), FALSE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const VideoResNetConfig r3d_18 = {
  FALSE, { CONV_3D_SIMPLE, CONV_3D_SIMPLE, CONV_3D_SIMPLE, CONV_3D_SIMPLE }
};
static const VideoResNetConfig mc3_18 = {
  FALSE, { CONV_3D_SIMPLE, CONV_3D_NO_TEMPORAL, CONV_3D_NO_TEMPORAL, CONV_3D_NO_TEMPORAL }
};
static const VideoResNetConfig r2plus1d_18 = {
  TRUE, { CONV_2PLUS1D, CONV_2PLUS1D, CONV_2PLUS1D, CONV_2PLUS1D }
};

/* S3D's AvgPool3d (2, 7, 7) after its spatial reduction of 32 needs
 * frames of at least 209×209 (and 13 frames); the ResNets take any clip. */
const TvwArchitecture tvw_video_architectures[] = {
  { "r3d_18",      400, 1,   build_video_resnet, &r3d_18 },
  { "mc3_18",      400, 1,   build_video_resnet, &mc3_18 },
  { "r2plus1d_18", 400, 1,   build_video_resnet, &r2plus1d_18 },
  { "s3d",         400, 209, build_s3d,          NULL },
  { NULL }
};
