/* tvw-inception.c — Inception v3, as torchvision builds it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/inception.py: Inception3's BasicConv2d stem, Mixed
 * blocks A (5b–5d), B (6a), C (6b–6e), D (7a) and E (7b, 7c) — branches
 * concatenated over the channels, average pools counting their padding —,
 * average pooling and the classifier.  Dropout is an identity at
 * inference.  transform_input and the auxiliary head follow
 * inception_v3 () (see tvw_inception_input ()); the head (AuxLogits)
 * runs only in training, so its parameters are declared, not run.
 */

#include "config.h"

#include "tvw-blocks-private.h"
#include "tvw-error.h"
#include "tvw-inception-private.h"
#include "tvw-ops-private.h"

const char * const tvw_inception_option_names[] = {
  "transform_input", "aux_logits", "init_weights", NULL
};

TvwVal
tvw_inception_input (TvwNet                *net,
                     const TvwArchitecture *arch,
                     const TvwBuildConfig  *config,
                     gboolean              *aux_params,
                     GError               **error)
{
  /* _transform_input (): ImageNet's normalisation to the [-1, 1] one the
   * ported weights expect. */
  static const float scale[3] = { 0.229f / 0.5f, 0.224f / 0.5f, 0.225f / 0.5f };
  static const float shift[3] = {
    (0.485f - 0.5f) / 0.5f, (0.456f - 0.5f) / 0.5f, (0.406f - 0.5f) / 0.5f
  };
  gboolean transform_input = tvw_build_config_get_boolean (config, "transform_input",
                                                           config->with_weights);
  TvwVal x;

  *aux_params = tvw_build_config_get_boolean (config, "aux_logits", TRUE);

  if (config->with_weights)
    {
      if (!*aux_params)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s: the parameter 'aux_logits' expected value True but got False instead",
                       arch->name);
          return -1;
        }
      if (tvw_build_config_get_boolean (config, "init_weights", FALSE))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s: the parameter 'init_weights' expected value False but got True instead",
                       arch->name);
          return -1;
        }
    }

  x = tvw_net_input (net, 3);
  if (transform_input)
    x = tvw_net_channel_affine (net, x, 3, scale, shift);
  return x;
}

gboolean
tvw_inception_classifier (TvwNet                *net,
                          TvwVal                 x,
                          const TvwBuildConfig  *config,
                          GError               **error)
{
  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "fc", config->num_classes, TRUE);
  tvw_net_set_output (net, x);

  return tvw_net_check (net, error);
}

/* BasicConv2d “@prefix.@name” (“@prefix” when @name is NULL), square
 * kernel */
static TvwVal
conv (TvwNet     *net,
      TvwVal      x,
      const char *prefix,
      const char *name,
      int         out_channels,
      int         kernel,
      int         stride,
      int         padding)
{
  g_autofree char *full = g_strconcat (prefix, name != NULL ? "." : NULL, name, NULL);

  return tvw_blocks_basic_conv2d (net, x, full, out_channels, kernel, kernel, stride,
                                  padding, padding);
}

/* BasicConv2d “@prefix.@name” of a 1×7 (@row) or 7×1 kernel, padded to
 * keep the size (also 1×3 / 3×1 with @k = 3). */
static TvwVal
conv_line (TvwNet     *net,
           TvwVal      x,
           const char *prefix,
           const char *name,
           int         out_channels,
           int         k,
           gboolean    row)
{
  g_autofree char *full = g_strconcat (prefix, ".", name, NULL);

  return tvw_blocks_basic_conv2d (net, x, full, out_channels, row ? 1 : k, row ? k : 1, 1,
                                  row ? 0 : k / 2, row ? k / 2 : 0);
}

/* F.avg_pool2d (x, 3, stride=1, padding=1) then BasicConv2d “branch_pool” */
static TvwVal
pool_branch (TvwNet     *net,
             TvwVal      x,
             const char *prefix,
             int         out_channels)
{
  x = tvw_net_avg_pool2d (net, x, 3, 1, 1, FALSE, TRUE);
  return conv (net, x, prefix, "branch_pool", out_channels, 1, 1, 0);
}

/* InceptionA: N×C×H×W → N×(224 + @pool_features)×H×W */
static TvwVal
inception_a (TvwNet     *net,
             TvwVal      x,
             const char *prefix,
             int         pool_features)
{
  TvwVal b[4];

  b[0] = conv (net, x, prefix, "branch1x1", 64, 1, 1, 0);
  b[1] = conv (net, x, prefix, "branch5x5_1", 48, 1, 1, 0);
  b[1] = conv (net, b[1], prefix, "branch5x5_2", 64, 5, 1, 2);
  b[2] = conv (net, x, prefix, "branch3x3dbl_1", 64, 1, 1, 0);
  b[2] = conv (net, b[2], prefix, "branch3x3dbl_2", 96, 3, 1, 1);
  b[2] = conv (net, b[2], prefix, "branch3x3dbl_3", 96, 3, 1, 1);
  b[3] = pool_branch (net, x, prefix, pool_features);

  return tvw_net_concat (net, 4, b, 1);
}

/* InceptionB: N×C×H×W → N×(480 + C)×(H-3)/2+1×(W-3)/2+1 */
static TvwVal
inception_b (TvwNet     *net,
             TvwVal      x,
             const char *prefix)
{
  TvwVal b[3];

  b[0] = conv (net, x, prefix, "branch3x3", 384, 3, 2, 0);
  b[1] = conv (net, x, prefix, "branch3x3dbl_1", 64, 1, 1, 0);
  b[1] = conv (net, b[1], prefix, "branch3x3dbl_2", 96, 3, 1, 1);
  b[1] = conv (net, b[1], prefix, "branch3x3dbl_3", 96, 3, 2, 0);
  b[2] = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);

  return tvw_net_concat (net, 3, b, 1);
}

/* InceptionC: N×C×H×W → N×768×H×W */
static TvwVal
inception_c (TvwNet     *net,
             TvwVal      x,
             const char *prefix,
             int         c7)
{
  TvwVal b[4];

  b[0] = conv (net, x, prefix, "branch1x1", 192, 1, 1, 0);
  b[1] = conv (net, x, prefix, "branch7x7_1", c7, 1, 1, 0);
  b[1] = conv_line (net, b[1], prefix, "branch7x7_2", c7, 7, TRUE);
  b[1] = conv_line (net, b[1], prefix, "branch7x7_3", 192, 7, FALSE);
  b[2] = conv (net, x, prefix, "branch7x7dbl_1", c7, 1, 1, 0);
  b[2] = conv_line (net, b[2], prefix, "branch7x7dbl_2", c7, 7, FALSE);
  b[2] = conv_line (net, b[2], prefix, "branch7x7dbl_3", c7, 7, TRUE);
  b[2] = conv_line (net, b[2], prefix, "branch7x7dbl_4", c7, 7, FALSE);
  b[2] = conv_line (net, b[2], prefix, "branch7x7dbl_5", 192, 7, TRUE);
  b[3] = pool_branch (net, x, prefix, 192);

  return tvw_net_concat (net, 4, b, 1);
}

/* InceptionD: N×C×H×W → N×(512 + C)×(H-3)/2+1×(W-3)/2+1 */
static TvwVal
inception_d (TvwNet     *net,
             TvwVal      x,
             const char *prefix)
{
  TvwVal b[3];

  b[0] = conv (net, x, prefix, "branch3x3_1", 192, 1, 1, 0);
  b[0] = conv (net, b[0], prefix, "branch3x3_2", 320, 3, 2, 0);
  b[1] = conv (net, x, prefix, "branch7x7x3_1", 192, 1, 1, 0);
  b[1] = conv_line (net, b[1], prefix, "branch7x7x3_2", 192, 7, TRUE);
  b[1] = conv_line (net, b[1], prefix, "branch7x7x3_3", 192, 7, FALSE);
  b[1] = conv (net, b[1], prefix, "branch7x7x3_4", 192, 3, 2, 0);
  b[2] = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);

  return tvw_net_concat (net, 3, b, 1);
}

/* InceptionE: N×C×H×W → N×2048×H×W; the 1×3 and 3×1 pairs concatenate
 * in place with the other branches (torch.cat of torch.cat is one). */
static TvwVal
inception_e (TvwNet     *net,
             TvwVal      x,
             const char *prefix)
{
  TvwVal b[6], t;

  b[0] = conv (net, x, prefix, "branch1x1", 320, 1, 1, 0);
  t = conv (net, x, prefix, "branch3x3_1", 384, 1, 1, 0);
  b[1] = conv_line (net, t, prefix, "branch3x3_2a", 384, 3, TRUE);
  b[2] = conv_line (net, t, prefix, "branch3x3_2b", 384, 3, FALSE);
  t = conv (net, x, prefix, "branch3x3dbl_1", 448, 1, 1, 0);
  t = conv (net, t, prefix, "branch3x3dbl_2", 384, 3, 1, 1);
  b[3] = conv_line (net, t, prefix, "branch3x3dbl_3a", 384, 3, TRUE);
  b[4] = conv_line (net, t, prefix, "branch3x3dbl_3b", 384, 3, FALSE);
  b[5] = pool_branch (net, x, prefix, 192);

  return tvw_net_concat (net, 6, b, 1);
}

static gboolean
build_inception_v3 (TvwNet                *net,
                    const TvwArchitecture *arch,
                    const TvwBuildConfig  *config,
                    GError               **error)
{
  gboolean aux;
  TvwVal x = tvw_inception_input (net, arch, config, &aux, error);

  if (x < 0)
    return FALSE;

  /* N×3×299×299 → N×192×35×35 */
  x = conv (net, x, "Conv2d_1a_3x3", NULL, 32, 3, 2, 0);
  x = conv (net, x, "Conv2d_2a_3x3", NULL, 32, 3, 1, 0);
  x = conv (net, x, "Conv2d_2b_3x3", NULL, 64, 3, 1, 1);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);
  x = conv (net, x, "Conv2d_3b_1x1", NULL, 80, 1, 1, 0);
  x = conv (net, x, "Conv2d_4a_3x3", NULL, 192, 3, 1, 0);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, FALSE);

  /* → N×288×35×35 → N×768×17×17 */
  x = inception_a (net, x, "Mixed_5b", 32);
  x = inception_a (net, x, "Mixed_5c", 64);
  x = inception_a (net, x, "Mixed_5d", 64);
  x = inception_b (net, x, "Mixed_6a");
  x = inception_c (net, x, "Mixed_6b", 128);
  x = inception_c (net, x, "Mixed_6c", 160);
  x = inception_c (net, x, "Mixed_6d", 160);
  x = inception_c (net, x, "Mixed_6e", 192);

  if (aux)
    {
      /* inception_v3 (weights=…) keeps the head (aux_logits defaults to
       * True there): always counted. */
      tvw_blocks_declare_basic_conv2d (net, "AuxLogits.conv0", 768, 128, 1, TRUE);
      tvw_blocks_declare_basic_conv2d (net, "AuxLogits.conv1", 128, 768, 5, TRUE);
      tvw_blocks_declare_linear (net, "AuxLogits.fc", 768, config->num_classes, TRUE);
    }

  /* → N×1280×8×8 → N×2048×8×8 */
  x = inception_d (net, x, "Mixed_7a");
  x = inception_e (net, x, "Mixed_7b");
  x = inception_e (net, x, "Mixed_7c");

  /* N×2048×h×w → N×num_classes */
  return tvw_inception_classifier (net, x, config, error);
}

/* Three valid 3×3 convolutions and four stride-2 reductions: 75×75 is the
 * smallest input that keeps every map non-empty (torchvision's min_size). */
const TvwArchitecture tvw_inception_architectures[] = {
  { "inception_v3", 1000, 75, build_inception_v3, NULL, tvw_inception_option_names },
  { NULL }
};
