/* tvw-googlenet.c — GoogLeNet (Inception v1), as torchvision builds it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision/models/googlenet.py: BasicConv2d stem, nine Inception
 * blocks (1×1; 1×1 → 3×3; 1×1 → 3×3 — torchvision's “5×5” branch is a
 * 3×3; 3×3 max pool → 1×1, concatenated), ceil-mode max pools, average
 * pooling and the classifier.  Dropout is an identity at inference.
 *
 * transform_input and aux_logits follow googlenet (): with a weights entry
 * the input is re-normalised and the checkpoint carries the auxiliary
 * heads (torchvision loads them, then drops them unless aux_logits was
 * asked for); without one neither, unless the options say so.  The
 * auxiliary heads only run in training: their parameters are declared
 * (checked against the checkpoint), never run.
 */

#include "config.h"

#include "tvw-architectures-private.h"
#include "tvw-blocks-private.h"
#include "tvw-inception-private.h"
#include "tvw-ops-private.h"

typedef struct
{
  int ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
} InceptionConfig;

/* Inception “@prefix”: N×C×H×W → N×(ch1x1 + ch3x3 + ch5x5 + pool_proj)×H×W */
static TvwVal
inception (TvwNet                *net,
           TvwVal                 x,
           const char            *prefix,
           const InceptionConfig *cfg)
{
  g_autofree char *b1 = g_strconcat (prefix, ".branch1", NULL);
  g_autofree char *b2_0 = g_strconcat (prefix, ".branch2.0", NULL);
  g_autofree char *b2_1 = g_strconcat (prefix, ".branch2.1", NULL);
  g_autofree char *b3_0 = g_strconcat (prefix, ".branch3.0", NULL);
  g_autofree char *b3_1 = g_strconcat (prefix, ".branch3.1", NULL);
  g_autofree char *b4_1 = g_strconcat (prefix, ".branch4.1", NULL);
  TvwVal branches[4];

  branches[0] = tvw_blocks_basic_conv2d (net, x, b1, cfg->ch1x1, 1, 1, 1, 0, 0);

  branches[1] = tvw_blocks_basic_conv2d (net, x, b2_0, cfg->ch3x3red, 1, 1, 1, 0, 0);
  branches[1] = tvw_blocks_basic_conv2d (net, branches[1], b2_1, cfg->ch3x3, 3, 3, 1, 1, 1);

  branches[2] = tvw_blocks_basic_conv2d (net, x, b3_0, cfg->ch5x5red, 1, 1, 1, 0, 0);
  branches[2] = tvw_blocks_basic_conv2d (net, branches[2], b3_1, cfg->ch5x5, 3, 3, 1, 1, 1);

  branches[3] = tvw_net_max_pool2d (net, x, 3, 1, 1, TRUE);
  branches[3] = tvw_blocks_basic_conv2d (net, branches[3], b4_1, cfg->pool_proj, 1, 1, 1, 0, 0);

  return tvw_net_concat (net, 4, branches, 1);
}

/* InceptionAux “@prefix”: declared only (it runs in training). */
static void
declare_inception_aux (TvwNet     *net,
                       const char *prefix,
                       int         in_channels,
                       guint       num_classes,
                       gboolean    counted)
{
  g_autofree char *conv = g_strconcat (prefix, ".conv", NULL);
  g_autofree char *fc1 = g_strconcat (prefix, ".fc1", NULL);
  g_autofree char *fc2 = g_strconcat (prefix, ".fc2", NULL);

  tvw_blocks_declare_basic_conv2d (net, conv, in_channels, 128, 1, counted);
  tvw_blocks_declare_linear (net, fc1, 2048, 1024, counted);
  tvw_blocks_declare_linear (net, fc2, 1024, num_classes, counted);
}

static const InceptionConfig blocks[] = {
  { 64,  96,  128, 16, 32,  32 },   /* inception3a */
  { 128, 128, 192, 32, 96,  64 },   /* inception3b */
  { 192, 96,  208, 16, 48,  64 },   /* inception4a */
  { 160, 112, 224, 24, 64,  64 },   /* inception4b */
  { 128, 128, 256, 24, 64,  64 },   /* inception4c */
  { 112, 144, 288, 32, 64,  64 },   /* inception4d */
  { 256, 160, 320, 32, 128, 128 },  /* inception4e */
  { 256, 160, 320, 32, 128, 128 },  /* inception5a */
  { 384, 192, 384, 48, 128, 128 },  /* inception5b */
};

static const char *const block_names[] = {
  "inception3a", "inception3b", "inception4a", "inception4b", "inception4c",
  "inception4d", "inception4e", "inception5a", "inception5b",
};

static gboolean
build_googlenet (TvwNet                *net,
                 const TvwArchitecture *arch,
                 const TvwBuildConfig  *config,
                 GError               **error)
{
  gboolean aux;
  /* GoogLeNet () has aux_logits=True: a bare checkpoint (weights=None) has
   * the heads, googlenet (weights=…) loads them before dropping them. */
  TvwVal x = tvw_inception_input (net, arch, config, &aux, error);

  if (x < 0)
    return FALSE;

  /* N×3×H×W → N×192×H/8×W/8 */
  x = tvw_blocks_basic_conv2d (net, x, "conv1", 64, 7, 7, 2, 3, 3);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, TRUE);
  x = tvw_blocks_basic_conv2d (net, x, "conv2", 64, 1, 1, 1, 0, 0);
  x = tvw_blocks_basic_conv2d (net, x, "conv3", 192, 3, 3, 1, 1, 1);
  x = tvw_net_max_pool2d (net, x, 3, 2, 0, TRUE);

  for (gsize i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      x = inception (net, x, block_names[i], &blocks[i]);
      /* maxpool3 after 3b, maxpool4 (2×2) after 4e */
      if (i == 1)
        x = tvw_net_max_pool2d (net, x, 3, 2, 0, TRUE);
      else if (i == 6)
        x = tvw_net_max_pool2d (net, x, 2, 2, 0, TRUE);
    }

  if (aux)
    {
      /* googlenet (weights=…) drops the heads it loaded unless aux_logits
       * was asked for: they are not its parameters then. */
      gboolean kept = !config->with_weights ||
                      tvw_build_config_get_boolean (config, "aux_logits", FALSE);

      declare_inception_aux (net, "aux1", 512, config->num_classes, kept);
      declare_inception_aux (net, "aux2", 528, config->num_classes, kept);
    }

  /* N×1024×h×w → N×num_classes */
  return tvw_inception_classifier (net, x, config, error);
}

/* conv1 (stride 2) and four ceil-mode pools: a 1×1 map is reached from
 * torchvision's min_size, 15×15, and stays 1×1 down the network. */
const TvwArchitecture tvw_googlenet_architectures[] = {
  { "googlenet", 1000, 15, build_googlenet, NULL, tvw_inception_option_names },
  { NULL }
};
