/* tvw-quantized.c — torchvision.models.quantization
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The quantizable models after torch.ao.quantization's fuse_modules,
 * prepare and convert: each Conv2d + BatchNorm2d (+ ReLU) is one quantized
 * convolution with the BatchNorm folded into its weights and bias, so the
 * state_dict has “features.0.0.weight” (qint8), “.bias”, “.scale” and
 * “.zero_point” and no “features.0.1.*”; residual additions are
 * FloatFunctionals (“skip_add”, “add_relu”) with their own output scale
 * and zero point; the input goes through QuantStub “quant”, the logits
 * through DeQuantStub.
 *
 * quantize=False builds the float model torchvision gives then (the same
 * keys as the float family, every ReLU6 made a ReLU).  libtvw's default is
 * quantize=True: a quantized_* builder is what one asks for to run a
 * quantized checkpoint (torchvision's default is False).
 *
 * Each family is a composer over two layer helpers, conv_bn () and
 * add (), that build either form; GoogLeNet, Inception v3 and ShuffleNet V2
 * add FloatFunctional cat and quint8 pools.  A new family is its composer
 * and a table row.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"
#include "tvw-error.h"
#include "tvw-inception-private.h"
#include "tvw-ops-private.h"

#define BN_EPS 1e-5

/* Conv2d “@prefix@conv” + BatchNorm2d “@prefix@bn” (+ ReLU), padded
 * (kernel − 1) / 2: one quantized convolution “@prefix@conv” with the
 * BatchNorm folded in when @quantized.
 * N×C×H×W → N×@cout×H/@stride×W/@stride */
static TvwVal
conv_bn (TvwNet     *net,
         gboolean    quantized,
         TvwVal      x,
         const char *prefix,
         const char *conv,
         const char *bn,
         int         cout,
         int         kernel,
         int         stride,
         int         groups,
         gboolean    relu)
{
  g_autofree char *name = NULL;
  const int pad = (kernel - 1) / 2;
  const TvwConvSpec spec = { kernel, kernel, stride, stride, pad, pad, 1, 1, groups, TRUE };

  if (!quantized)
    return tvw_blocks_conv_bn (net, x, prefix, conv, bn, BN_EPS, cout, kernel, stride, 1,
                               groups, relu ? TVW_ACT_RELU : TVW_ACT_NONE);

  name = g_strconcat (prefix, conv, NULL);
  return tvw_net_qconv2d (net, x, name, cout, &spec, relu);
}

/* a + b (then ReLU): FloatFunctional “@prefix@name” when @quantized. */
static TvwVal
add (TvwNet     *net,
     gboolean    quantized,
     TvwVal      a,
     TvwVal      b,
     const char *prefix,
     const char *name,
     gboolean    relu)
{
  g_autofree char *full = NULL;
  TvwVal out;

  if (!quantized)
    {
      out = tvw_net_add (net, a, b);
      return relu ? tvw_net_activation (net, out, TVW_ACT_RELU) : out;
    }
  full = g_strconcat (prefix, name, NULL);
  return tvw_net_qadd (net, a, b, full, relu);
}

/* A FloatFunctional that exists but is not used (a block without a
 * shortcut still has its skip_add): its keys are accepted. */
static void
unused_functional (TvwNet     *net,
                   const char *prefix,
                   const char *name)
{
  g_autofree char *scale = g_strconcat (prefix, name, ".scale", NULL);
  g_autofree char *zero_point = g_strconcat (prefix, name, ".zero_point", NULL);
  const gint64 scalar[1] = { 1 };

  tvw_net_declare_param (net, scale, 0, scalar, TRUE);
  tvw_net_declare_param (net, zero_point, 0, scalar, TRUE);
}

/* quantize=False when the float quantizable model is the float family's
 * (same keys, same graph): its builder @name. */
static gboolean
build_unquantized (TvwNet               *net,
                   const char           *name,
                   const TvwBuildConfig *config,
                   GError              **error)
{
  const TvwArchitecture *unquantized = tvw_architecture_lookup (name);

  return unquantized->build (net, unquantized, config, error);
}

/* QuantStub, the network, DeQuantStub. */
static TvwVal
quant_input (TvwNet  *net,
             gboolean quantized)
{
  TvwVal x = tvw_net_input (net, 3);

  return quantized ? tvw_net_quantize_stub (net, x, "quant") : x;
}

static gboolean
dequant_output (TvwNet  *net,
                gboolean quantized,
                TvwVal   x,
                GError **error)
{
  tvw_net_set_output (net, quantized ? tvw_net_dequantize (net, x) : x);
  return tvw_net_check (net, error);
}

/* ---- QuantizableResNet -------------------------------------------------- */

typedef struct
{
  const char *unquantized;      /* the float builder */
  gboolean    bottleneck;
  int         layers[4];
  int         groups;
  int         width_per_group;
} QResNetConfig;

/* QuantizableBasicBlock / QuantizableBottleneck:
 * N×C×H×W → N×planes·expansion×H/stride×W/stride */
static TvwVal
resnet_block (TvwNet              *net,
              TvwVal               x,
              const QResNetConfig *cfg,
              const char          *prefix,
              int                  planes,
              int                  stride)
{
  const int expansion = cfg->bottleneck ? 4 : 1;
  TvwVal identity = x, out;

  if (stride != 1 || tvw_net_channels (net, x) != planes * expansion)
    identity = conv_bn (net, TRUE, x, prefix, "downsample.0", "downsample.1",
                        planes * expansion, 1, stride, 1, FALSE);

  if (cfg->bottleneck)
    {
      const int width = planes * cfg->width_per_group / 64 * cfg->groups;

      out = conv_bn (net, TRUE, x, prefix, "conv1", "bn1", width, 1, 1, 1, TRUE);
      out = conv_bn (net, TRUE, out, prefix, "conv2", "bn2", width, 3, stride, cfg->groups, TRUE);
      out = conv_bn (net, TRUE, out, prefix, "conv3", "bn3", planes * 4, 1, 1, 1, FALSE);
      return add (net, TRUE, out, identity, prefix, "skip_add_relu", TRUE);
    }

  out = conv_bn (net, TRUE, x, prefix, "conv1", "bn1", planes, 3, stride, 1, TRUE);
  out = conv_bn (net, TRUE, out, prefix, "conv2", "bn2", planes, 3, 1, 1, FALSE);
  return add (net, TRUE, out, identity, prefix, "add_relu", TRUE);
}

static gboolean
build_resnet (TvwNet                *net,
              const TvwArchitecture *arch,
              const TvwBuildConfig  *config,
              GError               **error)
{
  const QResNetConfig *cfg = arch->config;
  TvwVal x;

  /* The float QuantizableResNet is torchvision's ResNet. */
  if (!tvw_build_config_get_boolean (config, "quantize", TRUE))
    return build_unquantized (net, cfg->unquantized, config, error);

  /* N×3×H×W → N×64×H/4×W/4 */
  x = quant_input (net, TRUE);
  x = conv_bn (net, TRUE, x, "", "conv1", "bn1", 64, 7, 2, 1, TRUE);
  x = tvw_net_qmax_pool2d (net, x, 3, 2, 1, FALSE);

  for (int layer = 0; layer < 4; layer++)
    for (int b = 0; b < cfg->layers[layer]; b++)
      {
        g_autofree char *prefix = g_strdup_printf ("layer%d.%d.", layer + 1, b);

        x = resnet_block (net, x, cfg, prefix, 64 << layer, b == 0 && layer > 0 ? 2 : 1);
      }

  /* N×512·expansion×h×w → N×num_classes */
  x = tvw_net_qadaptive_avg_pool2d (net, x);
  x = tvw_net_qlinear (net, x, "fc", (int) config->num_classes, FALSE);
  return dequant_output (net, TRUE, x, error);
}

static const QResNetConfig resnet18 =         { "resnet18",         FALSE, { 2, 2, 2, 2 },  1,  64 };
static const QResNetConfig resnet50 =         { "resnet50",         TRUE,  { 3, 4, 6, 3 },  1,  64 };
static const QResNetConfig resnext101_32x8d = { "resnext101_32x8d", TRUE,  { 3, 4, 23, 3 }, 32, 8 };
static const QResNetConfig resnext101_64x4d = { "resnext101_64x4d", TRUE,  { 3, 4, 23, 3 }, 64, 4 };

/* ---- QuantizableMobileNetV2 --------------------------------------------- */

/* QuantizableInvertedResidual: N×in×H×W → N×out×H/stride×W/stride.  The
 * float form's projection BatchNorm is “conv.N+1”; converted, it is
 * folded into “conv.N”. */
static TvwVal
inverted_residual (TvwNet     *net,
                   gboolean    quantized,
                   TvwVal      x,
                   const char *prefix,
                   int         out_channels,
                   int         stride,
                   int         expand_ratio)
{
  const int in_channels = tvw_net_channels (net, x);
  const int hidden = in_channels * expand_ratio;
  g_autofree char *dw = NULL, *dw_bn = NULL, *project = NULL, *project_bn = NULL;
  int layer = 0;
  TvwVal out = x;

  if (expand_ratio != 1)
    {
      out = conv_bn (net, quantized, out, prefix, "conv.0.0", "conv.0.1", hidden, 1, 1, 1, TRUE);
      layer++;
    }

  dw = g_strdup_printf ("conv.%d.0", layer);
  dw_bn = g_strdup_printf ("conv.%d.1", layer);
  project = g_strdup_printf ("conv.%d", layer + 1);
  project_bn = g_strdup_printf ("conv.%d", layer + 2);
  out = conv_bn (net, quantized, out, prefix, dw, dw_bn, hidden, 3, stride, hidden, TRUE);
  out = conv_bn (net, quantized, out, prefix, project, project_bn, out_channels, 1, 1, 1, FALSE);

  if (stride == 1 && in_channels == out_channels)
    return add (net, quantized, out, x, prefix, "skip_add", FALSE);
  if (quantized)
    unused_functional (net, prefix, "skip_add");
  return out;
}

static gboolean
build_mobilenet_v2 (TvwNet                *net,
                    const TvwArchitecture *arch,
                    const TvwBuildConfig  *config,
                    GError               **error)
{
  /* t (expansion), c (channels), n (blocks), s (stride of the first) */
  static const int setting[][4] = {
    { 1, 16,  1, 1 },
    { 6, 24,  2, 2 },
    { 6, 32,  3, 2 },
    { 6, 64,  4, 2 },
    { 6, 96,  3, 1 },
    { 6, 160, 3, 2 },
    { 6, 320, 1, 1 },
  };
  const gboolean quantized = tvw_build_config_get_boolean (config, "quantize", TRUE);
  int index = 1;
  g_autofree char *head = NULL;
  TvwVal x;

  /* features.0: N×3×H×W → N×32×H/2×W/2 */
  x = quant_input (net, quantized);
  x = conv_bn (net, quantized, x, "features.0.", "0", "1", 32, 3, 2, 1, TRUE);

  /* features.1 … features.17 */
  for (gsize i = 0; i < G_N_ELEMENTS (setting); i++)
    for (int b = 0; b < setting[i][2]; b++)
      {
        g_autofree char *prefix = g_strdup_printf ("features.%d.", index++);

        x = inverted_residual (net, quantized, x, prefix, setting[i][1],
                               b == 0 ? setting[i][3] : 1, setting[i][0]);
      }

  /* features.18: N×320×h×w → N×1280×h×w */
  head = g_strdup_printf ("features.%d.", index);
  x = conv_bn (net, quantized, x, head, "0", "1", 1280, 1, 1, 1, TRUE);

  /* N×1280×h×w → N×num_classes (classifier.0 is the dropout) */
  if (quantized)
    {
      x = tvw_net_qadaptive_avg_pool2d (net, x);
      x = tvw_net_qlinear (net, x, "classifier.1", (int) config->num_classes, FALSE);
    }
  else
    {
      x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
      x = tvw_net_flatten (net, x);
      x = tvw_net_linear (net, x, "classifier.1", (int) config->num_classes, TRUE);
    }
  return dequant_output (net, quantized, x, error);
}

/* ---- QuantizableShuffleNetV2 -------------------------------------------- */

/* QuantizableInvertedResidual “@prefix”: N×in×H×W → N×out×H/stride×W/stride,
 * its branches' Conv2d + BatchNorm2d (+ ReLU) fused, the halves joined by
 * the FloatFunctional “cat”, then the channel shuffle (a copy, keeping the
 * cat's quantization). */
static TvwVal
shufflenet_unit (TvwNet     *net,
                 TvwVal      x,
                 const char *prefix,
                 int         out_channels,
                 int         stride)
{
  const int in_channels = tvw_net_channels (net, x);
  const int branch_features = out_channels / 2;
  g_autofree char *cat = g_strconcat (prefix, "cat", NULL);
  TvwVal halves[2], b2 = x;

  if (stride > 1)
    {
      halves[0] = conv_bn (net, TRUE, x, prefix, "branch1.0", "branch1.1", in_channels, 3,
                           stride, in_channels, FALSE);
      halves[0] = conv_bn (net, TRUE, halves[0], prefix, "branch1.2", "branch1.3",
                           branch_features, 1, 1, 1, TRUE);
    }
  else
    {
      const gint64 sizes[2] = { in_channels / 2, in_channels - in_channels / 2 };
      TvwVal chunks[2];

      /* x.chunk (2, dim=1) */
      tvw_net_split (net, x, 1, 2, sizes, chunks);
      halves[0] = chunks[0];
      b2 = chunks[1];
    }

  b2 = conv_bn (net, TRUE, b2, prefix, "branch2.0", "branch2.1", branch_features, 1, 1, 1, TRUE);
  b2 = conv_bn (net, TRUE, b2, prefix, "branch2.3", "branch2.4", branch_features, 3, stride,
                branch_features, FALSE);
  halves[1] = conv_bn (net, TRUE, b2, prefix, "branch2.5", "branch2.6", branch_features, 1, 1,
                       1, TRUE);

  return tvw_net_channel_shuffle (net, tvw_net_qcat (net, 2, halves, cat), 2);
}

typedef struct
{
  const char *unquantized;      /* the float builder */
  int         stages_out_channels[5];
} QShuffleNetConfig;

static gboolean
build_shufflenet_v2 (TvwNet                *net,
                     const TvwArchitecture *arch,
                     const TvwBuildConfig  *config,
                     GError               **error)
{
  static const int stages_repeats[3] = { 4, 8, 4 };
  const QShuffleNetConfig *cfg = arch->config;
  const int *channels = cfg->stages_out_channels;
  TvwVal x;

  /* The float QuantizableShuffleNetV2 is torchvision's ShuffleNetV2 (its
   * FloatFunctionals hold nothing). */
  if (!tvw_build_config_get_boolean (config, "quantize", TRUE))
    return build_unquantized (net, cfg->unquantized, config, error);

  /* conv1, maxpool: N×3×H×W → N×24×H/4×W/4 */
  x = quant_input (net, TRUE);
  x = conv_bn (net, TRUE, x, "conv1.", "0", "1", channels[0], 3, 2, 1, TRUE);
  x = tvw_net_qmax_pool2d (net, x, 3, 2, 1, FALSE);

  /* stage2–4: → N×channels[3]×H/32×W/32 */
  for (int s = 0; s < 3; s++)
    for (int r = 0; r < stages_repeats[s]; r++)
      {
        g_autofree char *prefix = g_strdup_printf ("stage%d.%d.", s + 2, r);

        x = shufflenet_unit (net, x, prefix, channels[s + 1], r == 0 ? 2 : 1);
      }

  /* conv5, x.mean ([2, 3]), fc */
  x = conv_bn (net, TRUE, x, "conv5.", "0", "1", channels[4], 1, 1, 1, TRUE);
  x = tvw_net_qadaptive_avg_pool2d (net, x);
  x = tvw_net_qlinear (net, x, "fc", (int) config->num_classes, FALSE);
  return dequant_output (net, TRUE, x, error);
}

static const QShuffleNetConfig shufflenet_v2_x0_5 = { "shufflenet_v2_x0_5", { 24, 48, 96, 192, 1024 } };
static const QShuffleNetConfig shufflenet_v2_x1_0 = { "shufflenet_v2_x1_0", { 24, 116, 232, 464, 1024 } };
static const QShuffleNetConfig shufflenet_v2_x1_5 = { "shufflenet_v2_x1_5", { 24, 176, 352, 704, 1024 } };
static const QShuffleNetConfig shufflenet_v2_x2_0 = { "shufflenet_v2_x2_0", { 24, 244, 488, 976, 2048 } };

/* ---- QuantizableGoogLeNet ----------------------------------------------- */

/* QuantizableBasicConv2d “@prefix”: Conv2d + BatchNorm2d + ReLU fused into
 * one ConvReLU2d “@prefix.conv”, padded (kernel − 1) / 2. */
static TvwVal
basic_conv (TvwNet     *net,
            TvwVal      x,
            const char *prefix,
            const char *name,
            int         cout,
            int         kernel,
            int         stride)
{
  g_autofree char *full = g_strconcat (prefix, name, ".", NULL);

  return conv_bn (net, TRUE, x, full, "conv", "bn", cout, kernel, stride, 1, TRUE);
}

typedef struct
{
  const char *name;
  int         ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
} QInceptionConfig;

/* QuantizableInception: four branches joined by the FloatFunctional
 * “cat”.  N×C×H×W → N×(ch1x1 + ch3x3 + ch5x5 + pool_proj)×H×W */
static TvwVal
googlenet_inception (TvwNet                 *net,
                     TvwVal                  x,
                     const QInceptionConfig *cfg)
{
  g_autofree char *prefix = g_strconcat (cfg->name, ".", NULL);
  g_autofree char *cat = g_strconcat (cfg->name, ".cat", NULL);
  TvwVal branches[4];

  branches[0] = basic_conv (net, x, prefix, "branch1", cfg->ch1x1, 1, 1);
  branches[1] = basic_conv (net, x, prefix, "branch2.0", cfg->ch3x3red, 1, 1);
  branches[1] = basic_conv (net, branches[1], prefix, "branch2.1", cfg->ch3x3, 3, 1);
  /* torchvision's “5×5” branch is a 3×3 */
  branches[2] = basic_conv (net, x, prefix, "branch3.0", cfg->ch5x5red, 1, 1);
  branches[2] = basic_conv (net, branches[2], prefix, "branch3.1", cfg->ch5x5, 3, 1);
  branches[3] = tvw_net_qmax_pool2d (net, x, 3, 1, 1, TRUE);
  branches[3] = basic_conv (net, branches[3], prefix, "branch4.1", cfg->pool_proj, 1, 1);
  return tvw_net_qcat (net, 4, branches, cat);
}

/* QuantizableInceptionAux “@prefix”: declared only (it runs in training):
 * its BasicConv2d fused, its Linears quantized. */
static void
declare_googlenet_aux (TvwNet     *net,
                       const char *prefix,
                       int         in_channels,
                       int         num_classes,
                       gboolean    counted)
{
  g_autofree char *conv = g_strconcat (prefix, ".conv.conv", NULL);
  g_autofree char *fc1 = g_strconcat (prefix, ".fc1", NULL);
  g_autofree char *fc2 = g_strconcat (prefix, ".fc2", NULL);

  tvw_net_declare_qconv (net, conv, in_channels, 128, 1, counted);
  tvw_net_declare_qconv (net, fc1, 2048, 1024, 0, counted);
  tvw_net_declare_qconv (net, fc2, 1024, num_classes, 0, counted);
}

static gboolean
build_googlenet (TvwNet                *net,
                 const TvwArchitecture *arch,
                 const TvwBuildConfig  *config,
                 GError               **error)
{
  static const QInceptionConfig blocks[] = {
    { "inception3a", 64,  96,  128, 16, 32,  32 },
    { "inception3b", 128, 128, 192, 32, 96,  64 },
    { "inception4a", 192, 96,  208, 16, 48,  64 },
    { "inception4b", 160, 112, 224, 24, 64,  64 },
    { "inception4c", 128, 128, 256, 24, 64,  64 },
    { "inception4d", 112, 144, 288, 32, 64,  64 },
    { "inception4e", 256, 160, 320, 32, 128, 128 },
    { "inception5a", 256, 160, 320, 32, 128, 128 },
    { "inception5b", 384, 192, 384, 48, 128, 128 },
  };
  gboolean aux;
  TvwVal x;

  /* The float QuantizableGoogLeNet has GoogLeNet's keys (its ReLUs are
   * modules, which hold nothing). */
  if (!tvw_build_config_get_boolean (config, "quantize", TRUE))
    return build_unquantized (net, "googlenet", config, error);

  /* _transform_input () in float, then QuantStub */
  x = tvw_inception_input (net, arch, config, &aux, error);
  if (x < 0)
    return FALSE;
  x = tvw_net_quantize_stub (net, x, "quant");

  /* N×3×H×W → N×192×H/8×W/8 */
  x = basic_conv (net, x, "", "conv1", 64, 7, 2);
  x = tvw_net_qmax_pool2d (net, x, 3, 2, 0, TRUE);
  x = basic_conv (net, x, "", "conv2", 64, 1, 1);
  x = basic_conv (net, x, "", "conv3", 192, 3, 1);
  x = tvw_net_qmax_pool2d (net, x, 3, 2, 0, TRUE);

  for (gsize i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      x = googlenet_inception (net, x, &blocks[i]);
      /* maxpool3 after 3b, maxpool4 (2×2) after 4e */
      if (i == 1)
        x = tvw_net_qmax_pool2d (net, x, 3, 2, 0, TRUE);
      else if (i == 6)
        x = tvw_net_qmax_pool2d (net, x, 2, 2, 0, TRUE);
    }

  if (aux)
    {
      /* As googlenet (): loaded, then dropped unless aux_logits was asked
       * for. */
      gboolean kept = !config->with_weights ||
                      tvw_build_config_get_boolean (config, "aux_logits", FALSE);

      declare_googlenet_aux (net, "aux1", 512, (int) config->num_classes, kept);
      declare_googlenet_aux (net, "aux2", 528, (int) config->num_classes, kept);
    }

  /* avgpool, flatten, dropout, fc: N×1024×h×w → N×num_classes */
  x = tvw_net_qadaptive_avg_pool2d (net, x);
  x = tvw_net_qlinear (net, x, "fc", (int) config->num_classes, FALSE);
  return dequant_output (net, TRUE, x, error);
}

static const char * const inception_options[] = {
  "quantize", "transform_input", "aux_logits", "init_weights", NULL
};

/* ---- QuantizableInception3 --------------------------------------------- */

/* QuantizableBasicConv2d “@prefix.@name” (“@prefix” when @name is NULL),
 * fused: a @kh×@kw ConvReLU2d “….conv”. */
static TvwVal
inception_conv (TvwNet     *net,
                TvwVal      x,
                const char *prefix,
                const char *name,
                int         cout,
                int         kh,
                int         kw,
                int         stride,
                int         pad_h,
                int         pad_w)
{
  g_autofree char *full = name != NULL ? g_strconcat (prefix, ".", name, ".conv", NULL)
                                        : g_strconcat (prefix, ".conv", NULL);
  const TvwConvSpec spec = { kh, kw, stride, stride, pad_h, pad_w, 1, 1, 1, TRUE };

  return tvw_net_qconv2d (net, x, full, cout, &spec, TRUE);
}

/* Square kernel @k, padding @pad */
#define SQ(net, x, prefix, name, cout, k, stride, pad) \
  inception_conv (net, x, prefix, name, cout, k, k, stride, pad, pad)
/* 1×@k (@row) or @k×1, padded to keep the size */
#define LINE(net, x, prefix, name, cout, k, row) \
  inception_conv (net, x, prefix, name, cout, (row) ? 1 : (k), (row) ? (k) : 1, 1, \
                  (row) ? 0 : (k) / 2, (row) ? (k) / 2 : 0)

/* FloatFunctional “@prefix.@name”'s cat */
static TvwVal
inception_cat (TvwNet       *net,
               int           n,
               const TvwVal *branches,
               const char   *prefix,
               const char   *name)
{
  g_autofree char *full = g_strconcat (prefix, ".", name, NULL);

  return tvw_net_qcat (net, n, branches, full);
}

/* F.avg_pool2d (x, 3, stride=1, padding=1) then “branch_pool” */
static TvwVal
inception_pool_branch (TvwNet     *net,
                       TvwVal      x,
                       const char *prefix,
                       int         cout)
{
  return SQ (net, tvw_net_qavg_pool2d (net, x, 3, 1, 1), prefix, "branch_pool", cout, 1, 1, 0);
}

/* QuantizableInceptionA: N×C×H×W → N×(224 + @pool_features)×H×W */
static TvwVal
inception_a (TvwNet     *net,
             TvwVal      x,
             const char *prefix,
             int         pool_features)
{
  TvwVal b[4];

  b[0] = SQ (net, x, prefix, "branch1x1", 64, 1, 1, 0);
  b[1] = SQ (net, x, prefix, "branch5x5_1", 48, 1, 1, 0);
  b[1] = SQ (net, b[1], prefix, "branch5x5_2", 64, 5, 1, 2);
  b[2] = SQ (net, x, prefix, "branch3x3dbl_1", 64, 1, 1, 0);
  b[2] = SQ (net, b[2], prefix, "branch3x3dbl_2", 96, 3, 1, 1);
  b[2] = SQ (net, b[2], prefix, "branch3x3dbl_3", 96, 3, 1, 1);
  b[3] = inception_pool_branch (net, x, prefix, pool_features);
  return inception_cat (net, 4, b, prefix, "myop");
}

/* QuantizableInceptionB: N×C×H×W → N×(480 + C)×(H−3)/2+1×(W−3)/2+1 */
static TvwVal
inception_b (TvwNet     *net,
             TvwVal      x,
             const char *prefix)
{
  TvwVal b[3];

  b[0] = SQ (net, x, prefix, "branch3x3", 384, 3, 2, 0);
  b[1] = SQ (net, x, prefix, "branch3x3dbl_1", 64, 1, 1, 0);
  b[1] = SQ (net, b[1], prefix, "branch3x3dbl_2", 96, 3, 1, 1);
  b[1] = SQ (net, b[1], prefix, "branch3x3dbl_3", 96, 3, 2, 0);
  b[2] = tvw_net_qmax_pool2d (net, x, 3, 2, 0, FALSE);
  return inception_cat (net, 3, b, prefix, "myop");
}

/* QuantizableInceptionC: N×C×H×W → N×768×H×W */
static TvwVal
inception_c (TvwNet     *net,
             TvwVal      x,
             const char *prefix,
             int         c7)
{
  TvwVal b[4];

  b[0] = SQ (net, x, prefix, "branch1x1", 192, 1, 1, 0);
  b[1] = SQ (net, x, prefix, "branch7x7_1", c7, 1, 1, 0);
  b[1] = LINE (net, b[1], prefix, "branch7x7_2", c7, 7, TRUE);
  b[1] = LINE (net, b[1], prefix, "branch7x7_3", 192, 7, FALSE);
  b[2] = SQ (net, x, prefix, "branch7x7dbl_1", c7, 1, 1, 0);
  b[2] = LINE (net, b[2], prefix, "branch7x7dbl_2", c7, 7, FALSE);
  b[2] = LINE (net, b[2], prefix, "branch7x7dbl_3", c7, 7, TRUE);
  b[2] = LINE (net, b[2], prefix, "branch7x7dbl_4", c7, 7, FALSE);
  b[2] = LINE (net, b[2], prefix, "branch7x7dbl_5", 192, 7, TRUE);
  b[3] = inception_pool_branch (net, x, prefix, 192);
  return inception_cat (net, 4, b, prefix, "myop");
}

/* QuantizableInceptionD: N×C×H×W → N×(512 + C)×(H−3)/2+1×(W−3)/2+1 */
static TvwVal
inception_d (TvwNet     *net,
             TvwVal      x,
             const char *prefix)
{
  TvwVal b[3];

  b[0] = SQ (net, x, prefix, "branch3x3_1", 192, 1, 1, 0);
  b[0] = SQ (net, b[0], prefix, "branch3x3_2", 320, 3, 2, 0);
  b[1] = SQ (net, x, prefix, "branch7x7x3_1", 192, 1, 1, 0);
  b[1] = LINE (net, b[1], prefix, "branch7x7x3_2", 192, 7, TRUE);
  b[1] = LINE (net, b[1], prefix, "branch7x7x3_3", 192, 7, FALSE);
  b[1] = SQ (net, b[1], prefix, "branch7x7x3_4", 192, 3, 2, 0);
  b[2] = tvw_net_qmax_pool2d (net, x, 3, 2, 0, FALSE);
  return inception_cat (net, 3, b, prefix, "myop");
}

/* QuantizableInceptionE: N×C×H×W → N×2048×H×W; the 1×3 and 3×1 pairs
 * are FloatFunctionals of their own (myop1, myop2), requantised again by
 * myop3. */
static TvwVal
inception_e (TvwNet     *net,
             TvwVal      x,
             const char *prefix)
{
  TvwVal b[4], pair[2], t;

  b[0] = SQ (net, x, prefix, "branch1x1", 320, 1, 1, 0);
  t = SQ (net, x, prefix, "branch3x3_1", 384, 1, 1, 0);
  pair[0] = LINE (net, t, prefix, "branch3x3_2a", 384, 3, TRUE);
  pair[1] = LINE (net, t, prefix, "branch3x3_2b", 384, 3, FALSE);
  b[1] = inception_cat (net, 2, pair, prefix, "myop1");
  t = SQ (net, x, prefix, "branch3x3dbl_1", 448, 1, 1, 0);
  t = SQ (net, t, prefix, "branch3x3dbl_2", 384, 3, 1, 1);
  pair[0] = LINE (net, t, prefix, "branch3x3dbl_3a", 384, 3, TRUE);
  pair[1] = LINE (net, t, prefix, "branch3x3dbl_3b", 384, 3, FALSE);
  b[2] = inception_cat (net, 2, pair, prefix, "myop2");
  b[3] = inception_pool_branch (net, x, prefix, 192);
  return inception_cat (net, 4, b, prefix, "myop3");
}

static gboolean
build_inception_v3 (TvwNet                *net,
                    const TvwArchitecture *arch,
                    const TvwBuildConfig  *config,
                    GError               **error)
{
  gboolean aux;
  TvwVal x;

  /* The float QuantizableInception3 has Inception3's keys. */
  if (!tvw_build_config_get_boolean (config, "quantize", TRUE))
    return build_unquantized (net, "inception_v3", config, error);

  /* _transform_input () in float, then QuantStub */
  x = tvw_inception_input (net, arch, config, &aux, error);
  if (x < 0)
    return FALSE;
  x = tvw_net_quantize_stub (net, x, "quant");

  /* N×3×299×299 → N×192×35×35 */
  x = SQ (net, x, "Conv2d_1a_3x3", NULL, 32, 3, 2, 0);
  x = SQ (net, x, "Conv2d_2a_3x3", NULL, 32, 3, 1, 0);
  x = SQ (net, x, "Conv2d_2b_3x3", NULL, 64, 3, 1, 1);
  x = tvw_net_qmax_pool2d (net, x, 3, 2, 0, FALSE);
  x = SQ (net, x, "Conv2d_3b_1x1", NULL, 80, 1, 1, 0);
  x = SQ (net, x, "Conv2d_4a_3x3", NULL, 192, 3, 1, 0);
  x = tvw_net_qmax_pool2d (net, x, 3, 2, 0, FALSE);

  /* → N×288×35×35 → N×768×17×17 */
  x = inception_a (net, x, "Mixed_5b", 32);
  x = inception_a (net, x, "Mixed_5c", 64);
  x = inception_a (net, x, "Mixed_5d", 64);
  x = inception_b (net, x, "Mixed_6a");
  x = inception_c (net, x, "Mixed_6b", 128);
  x = inception_c (net, x, "Mixed_6c", 160);
  x = inception_c (net, x, "Mixed_6d", 160);
  x = inception_c (net, x, "Mixed_6e", 192);

  /* inception_v3 (weights=…, quantize=True) drops the head before it
   * loads the checkpoint unless aux_logits was asked for: the quantized
   * checkpoint has none then. */
  if (aux && (!config->with_weights || tvw_build_config_get_boolean (config, "aux_logits", FALSE)))
    {
      tvw_net_declare_qconv (net, "AuxLogits.conv0.conv", 768, 128, 1, TRUE);
      tvw_net_declare_qconv (net, "AuxLogits.conv1.conv", 128, 768, 5, TRUE);
      tvw_net_declare_qconv (net, "AuxLogits.fc", 768, (int) config->num_classes, 0, TRUE);
    }

  /* → N×1280×8×8 → N×2048×8×8 */
  x = inception_d (net, x, "Mixed_7a");
  x = inception_e (net, x, "Mixed_7b");
  x = inception_e (net, x, "Mixed_7c");

  /* avgpool, dropout, flatten, fc: N×2048×h×w → N×num_classes */
  x = tvw_net_qadaptive_avg_pool2d (net, x);
  x = tvw_net_qlinear (net, x, "fc", (int) config->num_classes, FALSE);
  return dequant_output (net, TRUE, x, error);
}

#undef SQ
#undef LINE

/* ---- QuantizableMobileNetV3 (a QAT checkpoint, converted on load) ------- */

/* torchvision's mobilenet_v3_large (quantize=True) loads the state_dict of
 * the prepare_qat model and converts afterwards: every key is a float
 * weight, a BatchNorm buffer or a FakeQuantize observer, and the QAT ops
 * (tvw-op-qat.c) convert them as they are prepared. */

#define V3_BN_EPS 1e-3

typedef enum { V3_NONE, V3_RELU, V3_HARDSWISH } V3Act;

/* Conv2dNormActivation “@prefix”: its ConvBn2d / ConvBnReLU2d “@prefix.0”,
 * padded (kernel − 1) / 2, then Hardswish “@prefix.2”.
 * N×C×H×W → N×@cout×H/@stride×W/@stride */
static TvwVal
qat_conv_norm_act (TvwNet     *net,
                   TvwVal      x,
                   const char *prefix,
                   int         cout,
                   int         kernel,
                   int         stride,
                   int         groups,
                   V3Act       act)
{
  g_autofree char *conv = g_strconcat (prefix, ".0", NULL);
  g_autofree char *hardswish = g_strconcat (prefix, ".2", NULL);
  const int pad = (kernel - 1) / 2;
  const TvwConvSpec spec = { kernel, kernel, stride, stride, pad, pad, 1, 1, groups, TRUE };

  x = tvw_net_qat_conv2d (net, x, conv, cout, &spec, TRUE, V3_BN_EPS, FALSE, act == V3_RELU);
  return act == V3_HARDSWISH ? tvw_net_qat_eltwise (net, TVW_QAT_HARDSWISH, x, -1, hardswish) : x;
}

/* QuantizableSqueezeExcitation “@prefix”: avgpool, fc1 (ConvReLU2d), fc2,
 * the Hardsigmoid (its FixedQParamsFakeQuantize's keys are only checked,
 * and may be missing as in version 1 of the module), and skip_mul.
 * N×C×H×W → N×C×H×W */
static TvwVal
qat_squeeze_excitation (TvwNet     *net,
                        TvwVal      x,
                        const char *prefix,
                        int         squeeze)
{
  static const TvwWeightSpec fixed_qparams[] = {
    { "scale_activation.activation_post_process.fake_quant_enabled", 1, { 1 },
      TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT | TVW_WEIGHT_OPTIONAL },
    { "scale_activation.activation_post_process.observer_enabled", 1, { 1 },
      TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT | TVW_WEIGHT_OPTIONAL },
    { "scale_activation.activation_post_process.scale", 1, { 1 },
      TVW_WEIGHT_BUFFER | TVW_WEIGHT_OPTIONAL },
    { "scale_activation.activation_post_process.zero_point", 1, { 1 },
      TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT | TVW_WEIGHT_OPTIONAL },
    { "scale_activation.activation_post_process.activation_post_process.scale", 1, { 1 },
      TVW_WEIGHT_BUFFER | TVW_WEIGHT_OPTIONAL },
    { "scale_activation.activation_post_process.activation_post_process.zero_point", 1, { 1 },
      TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT | TVW_WEIGHT_OPTIONAL },
  };
  const TvwConvSpec spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, TRUE };
  const int channels = tvw_net_channels (net, x);
  g_autofree char *fc1 = g_strconcat (prefix, ".fc1", NULL);
  g_autofree char *fc2 = g_strconcat (prefix, ".fc2", NULL);
  g_autofree char *gate = g_strconcat (prefix, ".scale_activation", NULL);
  g_autofree char *skip_mul = g_strconcat (prefix, ".skip_mul", NULL);
  TvwVal s;

  s = tvw_net_qadaptive_avg_pool2d (net, x);
  s = tvw_net_qat_conv2d (net, s, fc1, squeeze, &spec, FALSE, 0, TRUE, TRUE);
  s = tvw_net_qat_conv2d (net, s, fc2, channels, &spec, FALSE, 0, TRUE, FALSE);
  s = tvw_net_qat_eltwise (net, TVW_QAT_HARDSIGMOID, s, -1, gate);
  tvw_net_declare_weights (net, prefix, G_N_ELEMENTS (fixed_qparams), fixed_qparams);
  return tvw_net_qat_eltwise (net, TVW_QAT_MUL, s, x, skip_mul);
}

typedef struct
{
  int      in, kernel, expanded, out;
  gboolean se, hardswish;
  int      stride;
} V3Block;

/* QuantizableInvertedResidual “@prefix”:
 * N×in×H×W → N×out×H/stride×W/stride */
static TvwVal
qat_inverted_residual (TvwNet        *net,
                       TvwVal         x,
                       const char    *prefix,
                       const V3Block *cnf)
{
  const V3Act act = cnf->hardswish ? V3_HARDSWISH : V3_RELU;
  g_autofree char *skip_add = g_strconcat (prefix, ".skip_add", NULL);
  int layer = 0;
  TvwVal out = x;

  if (cnf->expanded != cnf->in)
    {
      g_autofree char *expand = g_strdup_printf ("%s.block.%d", prefix, layer++);

      out = qat_conv_norm_act (net, out, expand, cnf->expanded, 1, 1, 1, act);
    }
  {
    g_autofree char *dw = g_strdup_printf ("%s.block.%d", prefix, layer++);

    out = qat_conv_norm_act (net, out, dw, cnf->expanded, cnf->kernel, cnf->stride,
                             cnf->expanded, act);
  }
  if (cnf->se)
    {
      g_autofree char *se = g_strdup_printf ("%s.block.%d", prefix, layer++);

      out = qat_squeeze_excitation (net, out, se,
                                    tvw_blocks_make_divisible (cnf->expanded / 4, 8));
    }
  {
    g_autofree char *project = g_strdup_printf ("%s.block.%d", prefix, layer);

    out = qat_conv_norm_act (net, out, project, cnf->out, 1, 1, 1, V3_NONE);
  }

  if (cnf->stride == 1 && cnf->in == cnf->out)
    return tvw_net_qat_eltwise (net, TVW_QAT_ADD, x, out, skip_add);
  tvw_net_declare_fake_quantize (net, skip_add);
  return out;
}

static gboolean
build_mobilenet_v3_large (TvwNet                *net,
                          const TvwArchitecture *arch,
                          const TvwBuildConfig  *config,
                          GError               **error)
{
  /* _mobilenet_v3_conf ("mobilenet_v3_large") */
  static const V3Block setting[] = {
    /* in  k  exp  out  SE     HS     s */
    { 16,  3, 16,  16,  FALSE, FALSE, 1 },
    { 16,  3, 64,  24,  FALSE, FALSE, 2 },
    { 24,  3, 72,  24,  FALSE, FALSE, 1 },
    { 24,  5, 72,  40,  TRUE,  FALSE, 2 },
    { 40,  5, 120, 40,  TRUE,  FALSE, 1 },
    { 40,  5, 120, 40,  TRUE,  FALSE, 1 },
    { 40,  3, 240, 80,  FALSE, TRUE,  2 },
    { 80,  3, 200, 80,  FALSE, TRUE,  1 },
    { 80,  3, 184, 80,  FALSE, TRUE,  1 },
    { 80,  3, 184, 80,  FALSE, TRUE,  1 },
    { 80,  3, 480, 112, TRUE,  TRUE,  1 },
    { 112, 3, 672, 112, TRUE,  TRUE,  1 },
    { 112, 5, 672, 160, TRUE,  TRUE,  2 },
    { 160, 5, 960, 160, TRUE,  TRUE,  1 },
    { 160, 5, 960, 160, TRUE,  TRUE,  1 },
  };
  TvwVal x;

  /* The float QuantizableMobileNetV3 has MobileNetV3's keys (its
   * FloatFunctionals hold nothing). */
  if (!tvw_build_config_get_boolean (config, "quantize", TRUE))
    return build_unquantized (net, "mobilenet_v3_large", config, error);

  /* quant, features.0: N×3×H×W → N×16×H/2×W/2 */
  x = tvw_net_qat_eltwise (net, TVW_QAT_QUANTIZE, tvw_net_input (net, 3), -1, "quant");
  x = qat_conv_norm_act (net, x, "features.0", 16, 3, 2, 1, V3_HARDSWISH);

  /* features.1 … features.15: → N×160×H/32×W/32 */
  for (gsize i = 0; i < G_N_ELEMENTS (setting); i++)
    {
      g_autofree char *prefix = g_strdup_printf ("features.%" G_GSIZE_FORMAT, i + 1);

      x = qat_inverted_residual (net, x, prefix, &setting[i]);
    }

  /* features.16, avgpool, classifier (classifier.2 is the dropout):
   * → N×num_classes */
  x = qat_conv_norm_act (net, x, "features.16", 960, 1, 1, 1, V3_HARDSWISH);
  x = tvw_net_qadaptive_avg_pool2d (net, x);
  x = tvw_net_qat_linear (net, x, "classifier.0", 1280);
  x = tvw_net_qat_eltwise (net, TVW_QAT_HARDSWISH, x, -1, "classifier.1");
  x = tvw_net_qat_linear (net, x, "classifier.3", (int) config->num_classes);
  return dequant_output (net, TRUE, x, error);
}

static const char * const quantize_option[] = { "quantize", NULL };

const TvwArchitecture tvw_quantized_architectures[] = {
  { "quantized_googlenet",          1000, 15, build_googlenet, NULL, inception_options },
  { "quantized_inception_v3",       1000, 75, build_inception_v3, NULL, inception_options },
  { "quantized_mobilenet_v2",       1000, 1, build_mobilenet_v2, NULL, quantize_option },
  { "quantized_mobilenet_v3_large", 1000, 1, build_mobilenet_v3_large, NULL, quantize_option },
  { "quantized_resnet18",           1000, 1, build_resnet, &resnet18, quantize_option },
  { "quantized_resnet50",           1000, 1, build_resnet, &resnet50, quantize_option },
  { "quantized_resnext101_32x8d",   1000, 1, build_resnet, &resnext101_32x8d, quantize_option },
  { "quantized_resnext101_64x4d",   1000, 1, build_resnet, &resnext101_64x4d, quantize_option },
  { "quantized_shufflenet_v2_x0_5", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x0_5, quantize_option },
  { "quantized_shufflenet_v2_x1_0", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x1_0, quantize_option },
  { "quantized_shufflenet_v2_x1_5", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x1_5, quantize_option },
  { "quantized_shufflenet_v2_x2_0", 1000, 1, build_shufflenet_v2, &shufflenet_v2_x2_0, quantize_option },
  { NULL }
};
