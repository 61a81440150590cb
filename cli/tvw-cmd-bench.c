/* tvw-cmd-bench.c — tvw bench: how fast a model runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>

#include "tvw-cli.h"

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

int
tvw_cmd_bench (int    argc,
               char **argv)
{
  g_autofree char *model_name = NULL;
  g_autofree char *checkpoint = NULL;
  int batch = 1, threads = 0, size = 224, frames = 0, iterations = 20, warmup = 3, status = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name, N_("The architecture, e.g. resnet50"), N_("NAME") },
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint, N_("Load this state_dict first (default: random weights)"), N_("FILE") },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, N_("Images per batch (default: 1)"), N_("N") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, N_("Height and width of the input (default: 224)"), N_("S") },
    { "frames", 'f', 0, G_OPTION_ARG_INT, &frames, N_("Frames per clip, for video models (default: 16)"), N_("T") },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, N_("Timed runs (default: 20)"), N_("N") },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, N_("Untimed runs first (default: 3)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwTensor) input = NULL;
  g_autofree double *times = NULL;
  gint64 shape[5];
  guint rank;
  gint64 load_start, load_us;
  double median, images_per_s;
  float *data;
  gsize count;
  guint32 seed = 1;

  if (!tvw_cli_parse ("bench", NULL,
                      _("Times forward passes of a model on random input and prints the\n"
                        "median, fastest and slowest run in milliseconds."),
                      entries, &argc, &argv, &status))
    return status;

  if (model_name == NULL || batch < 1 || size < 1 || frames < 0 || iterations < 1 || warmup < 0 ||
      threads < 0)
    {
      g_printerr ("%s\n", _("tvw bench: --model is required; sizes and counts must be positive"));
      return 2;
    }

  load_start = g_get_monotonic_time ();
  model = tvw_model_new (model_name, 0, NULL, &error);
  if (model != NULL && checkpoint != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (checkpoint);

      if (!tvw_model_load_state_dict_from_file (model, file, TRUE, NULL, &error))
        g_clear_object (&model);
    }
  if (model == NULL)
    return tvw_cli_fail ("bench", error);
  load_us = g_get_monotonic_time () - load_start;

  tvw_model_set_n_threads (model, (guint) threads);

  /* Video models take N×3×T×H×W clips. */
  if (frames == 0 && g_strcmp0 (tvw_get_model_task (model_name, NULL), "video") == 0)
    frames = 16;
  rank = 0;
  shape[rank++] = batch;
  shape[rank++] = 3;
  if (frames > 0)
    shape[rank++] = frames;
  shape[rank++] = size;
  shape[rank++] = size;
  input = tvw_tensor_new (TVW_DTYPE_FLOAT32, shape, rank);
  data = tvw_tensor_get_data (input);
  count = tvw_tensor_get_n_elements (input);
  for (gsize i = 0; i < count; i++)
    {
      seed = seed * 1664525u + 1013904223u;
      data[i] = (float) ((seed >> 8) / 16777216.0 * 2.0 - 1.0);
    }

  times = g_new (double, iterations);
  for (int i = -warmup; i < iterations; i++)
    {
      g_autoptr(TvwTensor) out = NULL;
      gint64 start = g_get_monotonic_time ();

      out = tvw_model_forward (model, input, NULL, &error);
      if (out == NULL)
        return tvw_cli_fail ("bench", error);
      if (i >= 0)
        times[i] = (g_get_monotonic_time () - start) / 1000.0;
    }

  qsort (times, iterations, sizeof (double), compare_doubles);
  median = iterations % 2 ? times[iterations / 2]
                          : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
  images_per_s = batch * 1000.0 / median;

  if (json)
    g_print ("{\"model\": \"%s\", \"batch\": %d, \"size\": %d, \"frames\": %d, \"threads\": %d, "
             "\"iterations\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, "
             "\"images_per_s\": %.3f, \"load_ms\": %.3f}\n",
             model_name, batch, size, frames, threads, iterations, median, times[0],
             times[iterations - 1], images_per_s, load_us / 1000.0);
  else if (frames > 0)
    {
      g_print (_("%s, batch %d, clips of %d frames of %d×%d, %d threads, %d runs\n"), model_name,
               batch, frames, size, size, threads, iterations);
      g_print (_("median %.2f ms, min %.2f ms, max %.2f ms, %.1f clips/s\n"),
               median, times[0], times[iterations - 1], images_per_s);
    }
  else
    {
      g_print (_("%s, batch %d, %d×%d, %d threads, %d runs\n"), model_name, batch, size, size,
               threads, iterations);
      g_print (_("median %.2f ms, min %.2f ms, max %.2f ms, %.1f images/s\n"),
               median, times[0], times[iterations - 1], images_per_s);
    }

  return EXIT_SUCCESS;
}
