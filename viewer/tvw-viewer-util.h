/* tvw-viewer-util.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <tvw.h>

G_BEGIN_DECLS

typedef enum
{
  TVW_VIEWER_AVAILABILITY_LOCAL,    /* a local file: shipped weights or a card's */
  TVW_VIEWER_AVAILABILITY_CACHED,   /* downloaded into libtvw's or PyTorch's cache */
  TVW_VIEWER_AVAILABILITY_PARTIAL,  /* an interrupted download that can resume */
  TVW_VIEWER_AVAILABILITY_REMOTE,   /* must be downloaded first */
} TvwViewerAvailability;

const char            *tvw_viewer_weights_get_unrunnable_reason (TvwWeights  *weights);
gboolean               tvw_viewer_weights_is_runnable           (TvwWeights  *weights);
TvwViewerAvailability  tvw_viewer_weights_get_availability      (TvwWeights  *weights,
                                                                  char       **path,
                                                                  gboolean    *verified);
gboolean               tvw_viewer_weights_is_offline            (TvwWeights  *weights);
TvwWeights            *tvw_viewer_find_best_offline_weights     (void);
TvwWeights            *tvw_viewer_find_first_runnable_weights   (void);
double                 tvw_viewer_weights_get_metric            (TvwWeights  *weights,
                                                                  const char  *dataset,
                                                                  const char  *metric);
char                  *tvw_viewer_weights_describe_accuracy     (TvwWeights  *weights);

char                  *tvw_viewer_weights_enum_get_display_name (TvwWeightsEnum *weights_enum);
gboolean               tvw_viewer_weights_enum_is_runnable      (TvwWeightsEnum *weights_enum);
int                    tvw_viewer_compare_weights_enums         (TvwWeightsEnum *a,
                                                                  TvwWeightsEnum *b);
char                  *tvw_viewer_weights_describe_scope        (TvwWeights  *weights);
double                 tvw_viewer_weights_get_download_megabytes (TvwWeights *weights,
                                                                  gboolean   *estimated);
char                  *tvw_viewer_weights_describe_download_size (TvwWeights *weights);
char                  *tvw_viewer_weights_get_download_source   (TvwWeights  *weights);
TvwWeights            *tvw_viewer_find_general_weights          (void);
char                  *tvw_viewer_describe_download_error       (const GError *error,
                                                                  const char   *source);

char                  *tvw_viewer_describe_results_source       (const char  *full_name);

char                  *tvw_viewer_describe_metric               (const char  *metric);

guint                  tvw_viewer_list_model_find               (GListModel  *model,
                                                                  gpointer     item);

GdkPixbuf             *tvw_viewer_frame_to_pixbuf               (TvwTensor   *frames,
                                                                  gint64       index,
                                                                  GError     **error);

char                  *tvw_viewer_rst_to_markup                 (const char  *text);
char                  *tvw_viewer_format_megabytes              (double       megabytes);
char                  *tvw_viewer_format_count                  (gint64       count);
char                  *tvw_viewer_format_doubles                (const double *values,
                                                                  guint         n_values);

G_END_DECLS
