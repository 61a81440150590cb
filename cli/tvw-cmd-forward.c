/* tvw-cmd-forward.c — tvw forward: a model on a .npy batch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>

#include "tvw-cli.h"
#include "tvw-npy.h"

static TvwModel *
open_model (const char    *name,
            const char    *checkpoint,
            const char    *weights,
            int            num_classes,
            gboolean       relaxed,
            GError       **error)
{
  g_autoptr(TvwModel) model = NULL;

  if (weights != NULL)
    {
      TvwWeights *w = tvw_get_weight (weights, error);

      if (w == NULL)
        return NULL;

      model = g_initable_new (TVW_TYPE_MODEL, NULL, error,
                              "architecture", name,
                              "weights", w,
                              "num-classes", (guint) num_classes,
                              NULL);
      return g_steal_pointer (&model);
    }

  model = tvw_model_new (name, (guint) num_classes, NULL, error);
  if (model == NULL)
    return NULL;

  if (checkpoint != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (checkpoint);

      if (!tvw_model_load_state_dict_from_file (model, file, !relaxed, NULL, error))
        return NULL;
    }

  return g_steal_pointer (&model);
}

int
tvw_cmd_forward (int    argc,
                 char **argv)
{
  g_autofree char *model_name = NULL;
  g_autofree char *checkpoint = NULL;
  g_autofree char *weights = NULL;
  g_autofree char *input = NULL;
  g_autofree char *output = NULL;
  int num_classes = 0, threads = 0, status = 0;
  gboolean relaxed = FALSE;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name, N_("The architecture, e.g. resnet50"), N_("NAME") },
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint, N_("A .pth or .safetensors state_dict"), N_("FILE") },
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights, N_("A weights entry, e.g. ResNet50_Weights.IMAGENET1K_V2"), N_("FULL_NAME") },
    { "num-classes", 0, 0, G_OPTION_ARG_INT, &num_classes, N_("Number of classes (default: from the weights, or 1000)"), N_("N") },
    { "non-strict", 0, 0, G_OPTION_ARG_NONE, &relaxed, N_("Accept missing and unexpected keys in the checkpoint"), NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input, N_("A float32 N×C×H×W NumPy array"), N_("IN.npy") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the model's output (.npz with torchvision's keys for several)"), N_("OUT.npy|OUT.npz") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(GListModel) results = NULL;
  g_autoptr(TvwTensor) first = NULL;
  g_auto(GStrv) names = NULL;

  if (!tvw_cli_parse ("forward", NULL,
                      _("Runs a model on a float32 N×C×H×W NumPy array and writes its output\n"
                        "as another .npy file, to compare with PyTorch; a model with several\n"
                        "outputs (“out”, “aux”) writes an .npz archive under those keys."),
                      entries, &argc, &argv, &status))
    return status;

  if (model_name == NULL || input == NULL || output == NULL ||
      (checkpoint != NULL && weights != NULL) || num_classes < 0 || threads < 0)
    {
      g_printerr ("%s\n", _("tvw forward: --model, --input and --output are required, with "
                            "at most one of --checkpoint and --weights"));
      return 2;
    }

  batch = tvw_npy_load (input, &error);
  if (batch == NULL)
    return tvw_cli_fail ("forward", error);

  model = open_model (model_name, checkpoint, weights, num_classes, relaxed, &error);
  if (model == NULL)
    return tvw_cli_fail ("forward", error);

  tvw_model_set_n_threads (model, (guint) threads);
  results = tvw_model_forward_outputs (model, batch, NULL, &error);
  if (results == NULL)
    return tvw_cli_fail ("forward", error);

  /* Several outputs (“out” and “aux”) go to an .npz under torchvision's
   * keys; so does one if the file name asks for it. */
  names = tvw_model_get_output_names (model);
  if (g_list_model_get_n_items (results) > 1 || g_str_has_suffix (output, ".npz"))
    {
      if (!tvw_npz_save (output, (const char * const *) names, results, &error))
        return tvw_cli_fail ("forward", error);
    }
  else
    {
      first = g_list_model_get_item (results, 0);
      if (!tvw_npy_save (output, first, &error))
        return tvw_cli_fail ("forward", error);
    }

  return EXIT_SUCCESS;
}
