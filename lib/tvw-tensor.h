/* tvw-tensor.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <glib-object.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "tvw-version.h"

G_BEGIN_DECLS

/**
 * TVW_TENSOR_MAX_DIMS:
 *
 * The largest number of dimensions a [class@Tensor] can have.
 */
#define TVW_TENSOR_MAX_DIMS 8

/**
 * TvwDType:
 * @TVW_DTYPE_FLOAT32: 32-bit IEEE float
 * @TVW_DTYPE_UINT8: unsigned 8-bit integer (image pixels)
 * @TVW_DTYPE_INT64: signed 64-bit integer (class labels, PyTorch's `int64`)
 *
 * The element type of a [class@Tensor].
 */
typedef enum
{
  TVW_DTYPE_FLOAT32,
  TVW_DTYPE_UINT8,
  TVW_DTYPE_INT64,
} TvwDType;

#define TVW_TYPE_TENSOR (tvw_tensor_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwTensor, tvw_tensor, TVW, TENSOR, GObject)

TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_new             (TvwDType        dtype,
                                           const gint64   *shape,
                                           guint           n_dims);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_new_from_pixbuf (GdkPixbuf      *pixbuf);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_new_from_bytes  (TvwDType        dtype,
                                           const gint64   *shape,
                                           guint           n_dims,
                                           GBytes         *bytes,
                                           GError        **error);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_new_from_data   (const float    *data,
                                           const gint64   *shape,
                                           guint           n_dims);

TVW_AVAILABLE_IN_ALL
TvwDType       tvw_tensor_get_dtype       (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
guint          tvw_tensor_get_n_dims      (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
const gint64  *tvw_tensor_get_shape       (TvwTensor      *self,
                                           guint          *n_dims);
TVW_AVAILABLE_IN_ALL
gint64         tvw_tensor_get_dim         (TvwTensor      *self,
                                           int             dim);
TVW_AVAILABLE_IN_ALL
gsize          tvw_tensor_get_n_elements  (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
GBytes        *tvw_tensor_get_bytes       (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
float         *tvw_tensor_get_data        (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
guint8        *tvw_tensor_get_data_uint8  (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
gint64        *tvw_tensor_get_data_int64  (TvwTensor      *self);

TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_to_float        (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_reshape         (TvwTensor      *self,
                                           const gint64   *shape,
                                           guint           n_dims,
                                           GError        **error);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_unsqueeze       (TvwTensor      *self,
                                           int             dim);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_squeeze         (TvwTensor      *self,
                                           int             dim);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_softmax         (TvwTensor      *self,
                                           int             dim);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_index           (TvwTensor      *self,
                                           gint64          index);
TVW_AVAILABLE_IN_ALL
gint64         tvw_tensor_argmax          (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_topk            (TvwTensor      *self,
                                           guint           k,
                                           GArray        **indices,
                                           GError        **error);
TVW_AVAILABLE_IN_ALL
double         tvw_tensor_get_item        (TvwTensor      *self,
                                           gint64          index);
TVW_AVAILABLE_IN_ALL
double         tvw_tensor_item            (TvwTensor      *self);
TVW_AVAILABLE_IN_ALL
TvwTensor     *tvw_tensor_stack           (TvwTensor     **tensors,
                                           guint           n_tensors,
                                           GError        **error);
TVW_AVAILABLE_IN_ALL
char          *tvw_tensor_to_string       (TvwTensor      *self);

G_END_DECLS
