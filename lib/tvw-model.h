/* tvw-model.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tvw-version.h"
#include "tvw-tensor.h"
#include "tvw-weights.h"
#include "tvw-prediction.h"
#include "tvw-segmentation.h"
#include "tvw-detection.h"
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

#define TVW_TYPE_MODEL (tvw_model_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwModel, tvw_model, TVW, MODEL, GObject)

TVW_AVAILABLE_IN_ALL
TvwModel    *tvw_model_new                       (const char    *architecture,
                                                  guint          num_classes,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
TVW_AVAILABLE_IN_ALL
const char  *tvw_model_get_architecture          (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
guint        tvw_model_get_num_classes           (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
guint        tvw_model_get_n_threads             (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
void         tvw_model_set_n_threads             (TvwModel      *self,
                                                  guint          n_threads);
TVW_AVAILABLE_IN_ALL
guint        tvw_model_get_min_size              (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
TvwWeights  *tvw_model_get_weights               (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
gint64       tvw_model_count_parameters          (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
char       **tvw_model_list_parameters           (TvwModel      *self,
                                                  gboolean       buffers);
TVW_AVAILABLE_IN_ALL
const gint64 *tvw_model_get_parameter_shape      (TvwModel      *self,
                                                  const char    *name,
                                                  guint         *n_dims,
                                                  GError       **error);

TVW_AVAILABLE_IN_ALL
gboolean     tvw_model_load_state_dict_from_file (TvwModel      *self,
                                                  GFile         *file,
                                                  gboolean       strict,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
TVW_AVAILABLE_IN_ALL
TvwTensor   *tvw_model_forward                   (TvwModel      *self,
                                                  TvwTensor     *input,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
TVW_AVAILABLE_IN_ALL
char       **tvw_model_get_output_names          (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
GListModel  *tvw_model_forward_outputs           (TvwModel      *self,
                                                  TvwTensor     *input,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
TVW_AVAILABLE_IN_ALL
char       **tvw_model_get_input_names           (TvwModel      *self);
TVW_AVAILABLE_IN_ALL
GListModel  *tvw_model_forward_inputs            (TvwModel      *self,
                                                  TvwTensor    **inputs,
                                                  guint          n_inputs,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
TVW_AVAILABLE_IN_ALL
void         tvw_model_forward_async             (TvwModel            *self,
                                                  TvwTensor           *input,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
TVW_AVAILABLE_IN_ALL
TvwTensor   *tvw_model_forward_finish            (TvwModel      *self,
                                                  GAsyncResult  *result,
                                                  GError       **error);
TVW_AVAILABLE_IN_ALL
GListModel  *tvw_model_classify                  (TvwModel            *self,
                                                  GdkPixbuf           *image,
                                                  guint                top_k,
                                                  GCancellable        *cancellable,
                                                  GError             **error);
TVW_AVAILABLE_IN_ALL
void         tvw_model_classify_async            (TvwModel            *self,
                                                  GdkPixbuf           *image,
                                                  guint                top_k,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
TVW_AVAILABLE_IN_ALL
GListModel  *tvw_model_classify_finish           (TvwModel            *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);
TVW_AVAILABLE_IN_ALL
GListModel  *tvw_model_classify_file             (TvwModel            *self,
                                                  GFile               *file,
                                                  guint                top_k,
                                                  GCancellable        *cancellable,
                                                  GError             **error);
TVW_AVAILABLE_IN_ALL
GListModel  *tvw_model_predictions_from_output   (TvwModel            *self,
                                                  TvwTensor           *output,
                                                  guint                top_k,
                                                  GError             **error);
TVW_AVAILABLE_IN_ALL
TvwSegmentation *tvw_model_segment               (TvwModel            *self,
                                                  GdkPixbuf           *image,
                                                  GCancellable        *cancellable,
                                                  GError             **error);
TVW_AVAILABLE_IN_ALL
void         tvw_model_segment_async             (TvwModel            *self,
                                                  GdkPixbuf           *image,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
TVW_AVAILABLE_IN_ALL
TvwSegmentation *tvw_model_segment_finish        (TvwModel            *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

TVW_AVAILABLE_IN_ALL
TvwDetection *tvw_model_detect                   (TvwModel            *self,
                                                  GdkPixbuf           *image,
                                                  GCancellable        *cancellable,
                                                  GError             **error);
TVW_AVAILABLE_IN_ALL
void         tvw_model_detect_async              (TvwModel            *self,
                                                  GdkPixbuf           *image,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
TVW_AVAILABLE_IN_ALL
TvwDetection *tvw_model_detect_finish            (TvwModel            *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

G_END_DECLS
