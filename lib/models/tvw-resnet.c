/* tvw-resnet.c — ResNet, ResNeXt and Wide ResNet, as torchvision builds them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/resnet.py: BasicBlock (expansion 1) and Bottleneck
 * (expansion 4, the stride on the 3×3 convolution, "ResNet V1.5").
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-backbones-private.h"
#include "tvw-blocks-private.h"

#define BN_EPS 1e-5

typedef struct
{
  gboolean bottleneck;
  int      layers[4];
  int      groups;
  int      width_per_group;
} ResNetConfig;

/* N×C×H×W → N×planes·expansion×H/stride×W/stride; @dilation applies to
 * the 3×3 convolution of a bottleneck (torchvision refuses it elsewhere). */
static TvwVal
block (TvwNet             *net,
       TvwVal              x,
       const ResNetConfig *cfg,
       const char         *prefix,
       int                 planes,
       int                 stride,
       int                 dilation,
       double              eps)
{
  int expansion = cfg->bottleneck ? 4 : 1;
  int in_channels = tvw_net_channels (net, x);
  TvwVal identity = x;
  TvwVal out;

  /* The shortcut runs first so that the last convolution can add it in its
   * epilogue. */
  if (stride != 1 || in_channels != planes * expansion)
    identity = tvw_blocks_conv_bn (net, x, prefix, "downsample.0", "downsample.1", eps,
                                   planes * expansion, 1, stride, 1, 1, TVW_ACT_NONE);

  if (cfg->bottleneck)
    {
      int width = planes * cfg->width_per_group / 64 * cfg->groups;

      out = tvw_blocks_conv_bn (net, x, prefix, "conv1", "bn1", eps,
                                width, 1, 1, 1, 1, TVW_ACT_RELU);
      out = tvw_blocks_conv_bn (net, out, prefix, "conv2", "bn2", eps,
                                width, 3, stride, dilation, cfg->groups, TVW_ACT_RELU);
      out = tvw_blocks_conv_bn (net, out, prefix, "conv3", "bn3", eps,
                                planes * 4, 1, 1, 1, 1, TVW_ACT_NONE);
    }
  else
    {
      out = tvw_blocks_conv_bn (net, x, prefix, "conv1", "bn1", eps,
                                planes, 3, stride, 1, 1, TVW_ACT_RELU);
      out = tvw_blocks_conv_bn (net, out, prefix, "conv2", "bn2", eps,
                                planes, 3, 1, 1, 1, TVW_ACT_NONE);
    }

  out = tvw_net_add (net, out, identity);
  return tvw_net_activation (net, out, TVW_ACT_RELU);
}

/* conv1 … layer4 under @prefix, as ResNet._make_layer () with
 * replace_stride_with_dilation: a dilated layer keeps its input's size,
 * its first block at the dilation so far, the others at twice that.
 * N×3×H×W → N×512·expansion×H/32×W/32 (/8 with layers 3 and 4 dilated) */
static TvwVal
trunk (TvwNet             *net,
       TvwVal              x,
       const ResNetConfig *cfg,
       const char         *prefix,
       const gboolean     *dilate,
       double              eps,
       TvwVal             *layers)
{
  int dilation = 1;

  /* N×3×H×W → N×64×H/4×W/4 */
  x = tvw_blocks_conv_bn (net, x, prefix, "conv1", "bn1", eps, 64, 7, 2, 1, 1, TVW_ACT_RELU);
  x = tvw_net_max_pool2d (net, x, 3, 2, 1, FALSE);

  for (int layer = 0; layer < 4; layer++)
    {
      int planes = 64 << layer;
      int stride = layer > 0 ? 2 : 1;
      int first_dilation = dilation;

      if (layer > 0 && dilate != NULL && dilate[layer - 1])
        {
          dilation *= stride;
          stride = 1;
        }

      for (int b = 0; b < cfg->layers[layer]; b++)
        {
          g_autofree char *block_prefix = g_strdup_printf ("%slayer%d.%d.", prefix, layer + 1, b);

          x = block (net, x, cfg, block_prefix, planes, b == 0 ? stride : 1,
                     b == 0 ? first_dilation : dilation, eps);
        }
      if (layers != NULL)
        layers[layer] = x;
    }

  return x;
}

static gboolean
build_resnet (TvwNet                *net,
              const TvwArchitecture *arch,
              const TvwBuildConfig  *config,
              GError               **error)
{
  const guint num_classes = config->num_classes;
  TvwVal x = trunk (net, tvw_net_input (net, 3), arch->config, "", NULL, BN_EPS, NULL);

  /* N×512·expansion×h×w → N×num_classes */
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "fc", num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

static const ResNetConfig resnet18 =         { FALSE, { 2, 2, 2, 2 },  1,  64 };
static const ResNetConfig resnet34 =         { FALSE, { 3, 4, 6, 3 },  1,  64 };
static const ResNetConfig resnet50 =         { TRUE,  { 3, 4, 6, 3 },  1,  64 };
static const ResNetConfig resnet101 =        { TRUE,  { 3, 4, 23, 3 }, 1,  64 };
static const ResNetConfig resnet152 =        { TRUE,  { 3, 8, 36, 3 }, 1,  64 };
static const ResNetConfig resnext50_32x4d =  { TRUE,  { 3, 4, 6, 3 },  32, 4 };
static const ResNetConfig resnext101_32x8d = { TRUE,  { 3, 4, 23, 3 }, 32, 8 };
static const ResNetConfig resnext101_64x4d = { TRUE,  { 3, 4, 23, 3 }, 64, 4 };
static const ResNetConfig wide_resnet50_2 =  { TRUE,  { 3, 4, 6, 3 },  1,  128 };
static const ResNetConfig wide_resnet101_2 = { TRUE,  { 3, 4, 23, 3 }, 1,  128 };

const TvwArchitecture tvw_resnet_architectures[] = {
  { "resnet18",         1000, 1, build_resnet, &resnet18 },
  { "resnet34",         1000, 1, build_resnet, &resnet34 },
  { "resnet50",         1000, 1, build_resnet, &resnet50 },
  { "resnet101",        1000, 1, build_resnet, &resnet101 },
  { "resnet152",        1000, 1, build_resnet, &resnet152 },
  { "resnext50_32x4d",  1000, 1, build_resnet, &resnext50_32x4d },
  { "resnext101_32x8d", 1000, 1, build_resnet, &resnext101_32x8d },
  { "resnext101_64x4d", 1000, 1, build_resnet, &resnext101_64x4d },
  { "wide_resnet50_2",  1000, 1, build_resnet, &wide_resnet50_2 },
  { "wide_resnet101_2", 1000, 1, build_resnet, &wide_resnet101_2 },
  { NULL }
};

void
tvw_resnet_features (TvwNet         *net,
                     TvwVal          x,
                     const char     *name,
                     const char     *prefix,
                     const gboolean  replace_stride_with_dilation[3],
                     TvwVal          layers[4])
{
  tvw_resnet_features_full (net, x, name, prefix, replace_stride_with_dilation, BN_EPS, layers);
}

void
tvw_resnet_features_full (TvwNet         *net,
                          TvwVal          x,
                          const char     *name,
                          const char     *prefix,
                          const gboolean  replace_stride_with_dilation[3],
                          double          eps,
                          TvwVal          layers[4])
{
  for (const TvwArchitecture *a = tvw_resnet_architectures; a->name != NULL; a++)
    if (g_str_equal (a->name, name))
      {
        trunk (net, x, a->config, prefix, replace_stride_with_dilation, eps, layers);
        return;
      }

  g_return_if_reached ();
}
