/* tvw-cmd-forward.c — tvw forward: a model on a .npy batch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tvw-cli.h"
#include "tvw-npy.h"

int
tvw_cmd_forward (int    argc,
                 char **argv)
{
  g_autofree char *model_name = NULL;
  g_autofree char *checkpoint = NULL;
  g_autofree char *weights = NULL;
  g_auto(GStrv) input = NULL;
  g_autofree char *output = NULL;
  int num_classes = 0, threads = 0, status = 0;
  gboolean relaxed = FALSE;
  g_auto(GStrv) option_args = NULL;
  g_autoptr(GVariant) options = NULL;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name, N_("The architecture, e.g. resnet50"), N_("NAME") },
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint, N_("A .pth or .safetensors state_dict"), N_("FILE") },
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights, N_("A weights entry, e.g. ResNet50_Weights.IMAGENET1K_V2"), N_("FULL_NAME") },
    { "num-classes", 0, 0, G_OPTION_ARG_INT, &num_classes, N_("Number of classes (default: from the weights, or 1000)"), N_("N") },
    { "option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &option_args, N_("A builder keyword argument, e.g. num_flow_updates=6 (repeatable)"), N_("KEY=VALUE") },
    { "non-strict", 0, 0, G_OPTION_ARG_NONE, &relaxed, N_("Accept missing and unexpected keys in the checkpoint"), NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME_ARRAY, &input, N_("A float32 N×C×H×W NumPy array (twice for two-image models)"), N_("IN.npy") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the model's output (.npz with torchvision's keys for several)"), N_("OUT.npy|OUT.npz") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GListModel) results = NULL;
  g_autoptr(TvwTensor) first = NULL;
  g_auto(GStrv) names = NULL;

  if (!tvw_cli_parse ("forward", NULL,
                      _("Runs a model on a float32 N×C×H×W NumPy array and writes its output\n"
                        "as another .npy file, to compare with PyTorch; a model with several\n"
                        "outputs (“out”, “aux”) writes an .npz archive under those keys.\n"
                        "A detection model takes images in [0, 1] and runs image 0 of the\n"
                        "batch: the .npz holds its “boxes”, “labels” (int64), “scores” (and\n"
                        "“masks”, or “keypoints” and “keypoints_scores”), as torchvision's\n"
                        "dict for that image."),
                      entries, &argc, &argv, &status))
    return status;

  if (model_name == NULL || input == NULL || output == NULL ||
      (checkpoint != NULL && weights != NULL) || num_classes < 0 || threads < 0)
    {
      g_printerr ("%s\n", _("tvw forward: --model, --input and --output are required, with "
                            "at most one of --checkpoint and --weights"));
      return 2;
    }

  for (guint i = 0; input[i] != NULL; i++)
    {
      TvwTensor *batch = tvw_npy_load (input[i], &error);

      if (batch == NULL)
        return tvw_cli_fail ("forward", error);
      g_ptr_array_add (batches, batch);
    }

  options = tvw_cli_parse_options (option_args, &error);
  if (options == NULL)
    return tvw_cli_fail ("forward", error);

  model = tvw_cli_open_model (model_name, checkpoint, weights, num_classes, options, relaxed, &error);
  if (model == NULL)
    return tvw_cli_fail ("forward", error);

  /* A detection model returns one image's objects: image 0's (a batch of
   * images of one size is padded alike, so it finds the same objects in
   * image 0 as alone). */
  names = tvw_model_get_output_names (model);
  if (g_strv_contains ((const char * const *) names, "boxes"))
    for (guint i = 0; i < batches->len; i++)
      {
        TvwTensor *batch = batches->pdata[i];

        if (tvw_tensor_get_n_dims (batch) == 4 && tvw_tensor_get_dim (batch, 0) > 1)
          {
            g_autoptr(TvwTensor) image = tvw_tensor_index (batch, 0);

            batches->pdata[i] = tvw_tensor_unsqueeze (image, 0);
            g_object_unref (batch);
          }
      }

  tvw_model_set_n_threads (model, (guint) threads);
  results = tvw_model_forward_inputs (model, (TvwTensor **) batches->pdata, batches->len,
                                      NULL, &error);
  if (results == NULL)
    return tvw_cli_fail ("forward", error);

  /* Several outputs (“out” and “aux”) go to an .npz under torchvision's
   * keys; so does one if the file name asks for it. */
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
