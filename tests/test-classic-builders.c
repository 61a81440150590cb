/* test-classic-builders.c — the classic CNN builders as torchvision's
 * keyword arguments and weights entries shape them: parameter counts
 * (torchvision's num_params, auxiliary heads included or not), GoogLeNet's
 * and Inception v3's transform_input / aux_logits / init_weights rules
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tvw.h"
#include "tvw-architectures-private.h"
#include "tvw-engine-private.h"
#include "tvw-graph-private.h"

typedef struct
{
  const char *name;
  gboolean    with_weights;
  const char *option;          /* a boolean option set, or NULL */
  gboolean    value;
  gint64      num_params;      /* torchvision's count; 0: the build fails */
  gboolean    transformed;     /* a channel_affine node re-normalises the input */
} Case;

static TvwNet *
build (const Case  *c,
       GError     **error)
{
  const TvwArchitecture *arch = tvw_architecture_lookup (c->name);
  g_autoptr(GVariantDict) options = g_variant_dict_new (NULL);
  g_autoptr(TvwNet) net = tvw_net_new ();
  TvwBuildConfig config = { 1000, c->with_weights, options };

  g_assert_nonnull (arch);
  if (c->option != NULL)
    g_variant_dict_insert (options, c->option, "b", c->value);
  if (!arch->build (net, arch, &config, error))
    return NULL;
  return g_steal_pointer (&net);
}

static gboolean
has_transform (TvwNet *net)
{
  for (guint i = 0; i < net->nodes->len; i++)
    if (g_str_equal (tvw_net_node (net, i)->call.cls->name, "channel_affine"))
      return TRUE;
  return FALSE;
}

static void
test_cases (void)
{
  /* num_params from torchvision 0.14.1: the catalog's meta for the weights
   * entries, sum (p.numel () for p in model.parameters ()) otherwise. */
  static const Case cases[] = {
    /* googlenet (weights=None): GoogLeNet (aux_logits=True) */
    { "googlenet", FALSE, NULL, FALSE, 13004888, FALSE },
    { "googlenet", FALSE, "aux_logits", FALSE, 6624904, FALSE },
    { "googlenet", FALSE, "transform_input", TRUE, 13004888, TRUE },
    /* googlenet (weights=…): heads loaded, then dropped; meta 6624904 */
    { "googlenet", TRUE, NULL, FALSE, 6624904, TRUE },
    { "googlenet", TRUE, "aux_logits", TRUE, 13004888, TRUE },
    { "googlenet", TRUE, "transform_input", FALSE, 6624904, FALSE },
    { "googlenet", TRUE, "aux_logits", FALSE, 0, FALSE },
    { "googlenet", TRUE, "init_weights", TRUE, 0, FALSE },
    /* inception_v3 keeps its head: meta 27161264 */
    { "inception_v3", FALSE, NULL, FALSE, 27161264, FALSE },
    { "inception_v3", FALSE, "aux_logits", FALSE, 23834568, FALSE },
    { "inception_v3", TRUE, NULL, FALSE, 27161264, TRUE },
    { "inception_v3", TRUE, "aux_logits", FALSE, 0, FALSE },
    { "mnasnet0_5", TRUE, NULL, FALSE, 2218512, FALSE },
    { "mnasnet0_75", TRUE, NULL, FALSE, 3170208, FALSE },
    { "mnasnet1_0", TRUE, NULL, FALSE, 4383312, FALSE },
    { "mnasnet1_3", TRUE, NULL, FALSE, 6282256, FALSE },
    { "shufflenet_v2_x0_5", TRUE, NULL, FALSE, 1366792, FALSE },
    { "shufflenet_v2_x1_0", TRUE, NULL, FALSE, 2278604, FALSE },
    { "shufflenet_v2_x1_5", TRUE, NULL, FALSE, 3503624, FALSE },
    { "shufflenet_v2_x2_0", TRUE, NULL, FALSE, 7393996, FALSE },
    { "convnext_tiny", TRUE, NULL, FALSE, 28589128, FALSE },
    { "convnext_small", TRUE, NULL, FALSE, 50223688, FALSE },
    { "convnext_base", TRUE, NULL, FALSE, 88591464, FALSE },
    { "convnext_large", TRUE, NULL, FALSE, 197767336, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwNet) net = build (c, &error);

      g_test_message ("%s, %s, %s=%d", c->name, c->with_weights ? "weights" : "no weights",
                      c->option != NULL ? c->option : "-", c->value);
      if (c->num_params == 0)
        {
          /* torchvision: ValueError from _ovewrite_named_param */
          g_assert_null (net);
          g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
          g_assert_nonnull (strstr (error->message, c->option));
          continue;
        }

      g_assert_no_error (error);
      g_assert_cmpint (tvw_net_count_parameters (net), ==, c->num_params);
      g_assert_cmpint (has_transform (net), ==, c->transformed);
      /* The heads' parameters are declared (a checkpoint must have them)
       * whether or not they count. */
      if (g_str_equal (c->name, "googlenet"))
        g_assert_cmpint (tvw_net_has_param (net, "aux2.fc2.bias"), ==,
                         c->with_weights || c->option == NULL || c->value);
    }
}

/* The options torchvision's builders take, and no others. */
static void
test_options (void)
{
  static const char *const accepted[][2] = {
    { "googlenet", "transform_input" },
    { "googlenet", "aux_logits" },
    { "googlenet", "init_weights" },
    { "inception_v3", "aux_logits" },
    { "convnext_tiny", "stochastic_depth_prob" },
    { "convnext_large", "layer_scale" },
  };
  static const char *const refused[][2] = {
    { "mnasnet0_5", "aux_logits" },
    { "shufflenet_v2_x1_0", "transform_input" },
    { "convnext_tiny", "aux_logits" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (accepted) + G_N_ELEMENTS (refused); i++)
    {
      gboolean ok = i < G_N_ELEMENTS (accepted);
      const char *const *c = ok ? accepted[i] : refused[i - G_N_ELEMENTS (accepted)];
      g_autoptr(GVariantDict) dict = g_variant_dict_new (NULL);
      g_autoptr(GVariant) options = NULL;
      g_autoptr(GError) error = NULL;

      g_variant_dict_insert (dict, c[1], "b", FALSE);
      options = g_variant_ref_sink (g_variant_dict_end (dict));
      g_assert_cmpint (tvw_architecture_check_options (tvw_architecture_lookup (c[0]), options,
                                                       &error), ==, ok);
      if (!ok)
        g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/classic-builders/num-params-and-options", test_cases);
  g_test_add_func ("/tvw/classic-builders/accepted-options", test_options);

  return g_test_run ();
}
