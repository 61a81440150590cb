/* tvw-cmd-flow.c — tvw flow: optical flow between two images or two
 * consecutive video frames, as a colour image or a NumPy array
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "tvw-cli.h"
#include "tvw-npy.h"

/* The two frames, preprocessed, as (1, 3, H, W) batches. */
static gboolean
load_images (TvwTransform  *preprocess,
             char         **files,
             TvwTensor    **pair,
             GError       **error)
{
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (files[i]);
      g_autoptr(TvwTensor) img = tvw_transform_apply_file (preprocess, file, NULL, error);

      if (img == NULL)
        return FALSE;
      pair[i] = tvw_tensor_unsqueeze (img, 0);
    }

  return TRUE;
}

static gboolean
load_video (TvwTransform  *preprocess,
            const char    *path,
            gint64         frame,
            TvwTensor    **pair,
            GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(TvwTensor) frames = NULL;
  g_autoptr(TvwTensor) batch = NULL;

  frames = tvw_video_read_frames (file, (gint64[]) { frame, frame + 1 }, 2, NULL, error);
  if (frames == NULL)
    return FALSE;
  batch = tvw_transform_apply_tensor (preprocess, frames, error);
  if (batch == NULL)
    return FALSE;

  for (int i = 0; i < 2; i++)
    {
      g_autoptr(TvwTensor) img = tvw_tensor_index (batch, i);

      pair[i] = tvw_tensor_unsqueeze (img, 0);
    }
  return TRUE;
}

int
tvw_cmd_flow (int    argc,
              char **argv)
{
  g_autofree char *weights_name = NULL;
  g_autofree char *checkpoint = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *output = NULL;
  g_auto(GStrv) files = NULL;
  g_auto(GStrv) option_args = NULL;
  gint64 frame = 0;
  int threads = 0, status = 0;
  const GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights_name, N_("A RAFT weights entry, e.g. Raft_Small_Weights.C_T_V2"), N_("FULL_NAME") },
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint, N_("A RAFT state_dict (.pth or .safetensors), with --arch"), N_("FILE") },
    { "arch", 'm', 0, G_OPTION_ARG_STRING, &arch, N_("raft_large or raft_small, with --checkpoint"), N_("NAME") },
    { "option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &option_args, N_("A builder keyword argument, e.g. num_flow_updates=6 (repeatable)"), N_("KEY=VALUE") },
    { "frame", 'f', 0, G_OPTION_ARG_INT64, &frame, N_("For a video: the flow from this frame to the next (default: 0)"), N_("N") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the flow: a colour-coded .png or a float32 (1, 2, H, W) .npy"), N_("FLOW.png|FLOW.npy") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, N_("IMAGE1 IMAGE2 | VIDEO") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwTransform) preprocess = NULL;
  g_autoptr(GListModel) results = NULL;
  g_autoptr(TvwTensor) flow = NULL;
  TvwTensor *pair[2] = { NULL, NULL };
  gboolean png, ok;
  guint n_files;

  if (!tvw_cli_parse ("flow", _("IMAGE1 IMAGE2 | VIDEO"),
                      _("Estimates the optical flow from the first image to the second (or\n"
                        "from a video's frame to the next) with RAFT, each frame through the\n"
                        "OpticalFlow preset, and writes the final flow: as torchvision's\n"
                        "flow_to_image colours (.png) or as numbers (.npy). Heights and widths\n"
                        "must be multiples of 8."),
                      entries, &argc, &argv, &status))
    return status;

  n_files = files != NULL ? g_strv_length (files) : 0;
  if ((n_files != 1 && n_files != 2) || output == NULL || threads < 0 || frame < 0 ||
      (weights_name != NULL) == (checkpoint != NULL) || (checkpoint != NULL) != (arch != NULL))
    {
      g_printerr ("%s\n", _("tvw flow: give two images or one video, --output, and either "
                            "--weights or --checkpoint with --arch"));
      return 2;
    }

  png = g_str_has_suffix (output, ".png") || g_str_has_suffix (output, ".PNG");
  if (!png && !g_str_has_suffix (output, ".npy"))
    {
      g_printerr ("%s\n", _("tvw flow: --output must end in .png or .npy"));
      return 2;
    }

  options = tvw_cli_parse_options (option_args, &error);
  if (options == NULL)
    return tvw_cli_fail ("flow", error);
  model = tvw_cli_open_model (arch, checkpoint, weights_name, 0, options, FALSE, &error);
  if (model == NULL)
    return tvw_cli_fail ("flow", error);
  tvw_model_set_n_threads (model, (guint) threads);

  if (tvw_model_get_weights (model) != NULL)
    preprocess = tvw_weights_transforms (tvw_model_get_weights (model));
  else
    preprocess = tvw_transform_new (TVW_PRESET_OPTICAL_FLOW);

  ok = n_files == 2 ? load_images (preprocess, files, pair, &error)
                    : load_video (preprocess, files[0], frame, pair, &error);
  if (ok)
    results = tvw_model_forward_inputs (model, pair, 2, NULL, &error);
  g_clear_object (&pair[0]);
  g_clear_object (&pair[1]);
  if (results == NULL)
    return tvw_cli_fail ("flow", error);

  /* RAFT's one output is the last of torchvision's list of flows. */
  flow = g_list_model_get_item (results, 0);
  if (png)
    {
      g_autoptr(GdkPixbuf) image = tvw_flow_to_image (flow, &error);

      if (image == NULL || !gdk_pixbuf_save (image, output, "png", &error, NULL))
        return tvw_cli_fail ("flow", error);
    }
  else if (!tvw_npy_save (output, flow, &error))
    return tvw_cli_fail ("flow", error);

  {
    const float *data = tvw_tensor_get_data (flow);
    gsize plane = tvw_tensor_get_n_elements (flow) / 2;
    double longest = 0;

    for (gsize i = 0; i < plane; i++)
      longest = MAX (longest, hypot (data[i], data[plane + i]));
    g_print (_("%s: %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT ", longest displacement %.2f pixels\n"),
             output, tvw_tensor_get_dim (flow, 3), tvw_tensor_get_dim (flow, 2), longest);
  }

  return EXIT_SUCCESS;
}
