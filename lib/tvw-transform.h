/* tvw-transform.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "tvw-version.h"
#include "tvw-tensor.h"

G_BEGIN_DECLS

/**
 * TvwInterpolation:
 * @TVW_INTERPOLATION_NEAREST: nearest neighbour (`InterpolationMode.NEAREST`)
 * @TVW_INTERPOLATION_BILINEAR: bilinear (`InterpolationMode.BILINEAR`)
 * @TVW_INTERPOLATION_BICUBIC: bicubic (`InterpolationMode.BICUBIC`)
 *
 * How a [class@Transform] resizes images, torchvision's `InterpolationMode`.
 */
typedef enum
{
  TVW_INTERPOLATION_NEAREST,
  TVW_INTERPOLATION_BILINEAR,
  TVW_INTERPOLATION_BICUBIC,
} TvwInterpolation;

/**
 * TvwPreset:
 * @TVW_PRESET_IMAGE_CLASSIFICATION: resize the shorter side, center crop,
 *   rescale to [0, 1], normalize (`ImageClassification`)
 * @TVW_PRESET_SEMANTIC_SEGMENTATION: optionally resize the shorter side,
 *   rescale, normalize (`SemanticSegmentation`)
 * @TVW_PRESET_VIDEO_CLASSIFICATION: resize and center crop every frame,
 *   rescale, normalize, output `(C, T, H, W)` (`VideoClassification`)
 * @TVW_PRESET_OBJECT_DETECTION: rescale to [0, 1] (`ObjectDetection`)
 * @TVW_PRESET_OPTICAL_FLOW: rescale to [-1, 1] (`OpticalFlow`; apply it to
 *   each image of the pair)
 *
 * The inference presets of torchvision's `transforms._presets`.
 */
typedef enum
{
  TVW_PRESET_IMAGE_CLASSIFICATION,
  TVW_PRESET_SEMANTIC_SEGMENTATION,
  TVW_PRESET_VIDEO_CLASSIFICATION,
  TVW_PRESET_OBJECT_DETECTION,
  TVW_PRESET_OPTICAL_FLOW,
} TvwPreset;

/**
 * TVW_TRANSFORM_MAX_IMAGE_PIXELS:
 *
 * The largest number of pixels (width × height) of an image that a
 * [class@Transform] decodes or produces: 2^28, as many as a 16384 × 16384
 * image. Larger files are refused from their header, before anything is
 * allocated.
 */
#define TVW_TRANSFORM_MAX_IMAGE_PIXELS (G_GINT64_CONSTANT (1) << 28)

#define TVW_TYPE_TRANSFORM (tvw_transform_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwTransform, tvw_transform, TVW, TRANSFORM, GObject)

TVW_AVAILABLE_IN_ALL
TvwTransform     *tvw_transform_new                (TvwPreset      preset);

TVW_AVAILABLE_IN_ALL
TvwPreset         tvw_transform_get_preset         (TvwTransform  *self);
TVW_AVAILABLE_IN_ALL
guint             tvw_transform_get_crop_size      (TvwTransform  *self,
                                                    int           *height,
                                                    int           *width);
TVW_AVAILABLE_IN_ALL
guint             tvw_transform_get_resize_size    (TvwTransform  *self,
                                                    int           *first,
                                                    int           *second);
TVW_AVAILABLE_IN_ALL
const double     *tvw_transform_get_mean           (TvwTransform  *self,
                                                    guint         *n_values);
TVW_AVAILABLE_IN_ALL
const double     *tvw_transform_get_std            (TvwTransform  *self,
                                                    guint         *n_values);
TVW_AVAILABLE_IN_ALL
TvwInterpolation  tvw_transform_get_interpolation  (TvwTransform  *self);
TVW_AVAILABLE_IN_ALL
gboolean          tvw_transform_get_antialias      (TvwTransform  *self);

TVW_AVAILABLE_IN_ALL
TvwTensor        *tvw_transform_apply_pixbuf       (TvwTransform  *self,
                                                    GdkPixbuf     *pixbuf,
                                                    GError       **error);
TVW_AVAILABLE_IN_ALL
TvwTensor        *tvw_transform_apply_file         (TvwTransform  *self,
                                                    GFile         *file,
                                                    GCancellable  *cancellable,
                                                    GError       **error);
TVW_AVAILABLE_IN_ALL
TvwTensor        *tvw_transform_apply_tensor       (TvwTransform  *self,
                                                    TvwTensor     *input,
                                                    GError       **error);

TVW_AVAILABLE_IN_ALL
TvwTensor        *tvw_transform_apply_pixbuf_full  (TvwTransform  *self,
                                                    GdkPixbuf     *pixbuf,
                                                    GdkPixbuf    **crop,
                                                    GError       **error);
TVW_AVAILABLE_IN_ALL
TvwTensor        *tvw_transform_apply_file_full    (TvwTransform  *self,
                                                    GFile         *file,
                                                    GdkPixbuf    **crop,
                                                    GCancellable  *cancellable,
                                                    GError       **error);
TVW_AVAILABLE_IN_ALL
GdkPixbuf        *tvw_transform_apply_pixbuf_crop  (TvwTransform  *self,
                                                    GdkPixbuf     *pixbuf,
                                                    GError       **error);
TVW_AVAILABLE_IN_ALL
GdkPixbuf        *tvw_transform_apply_file_crop    (TvwTransform  *self,
                                                    GFile         *file,
                                                    GCancellable  *cancellable,
                                                    GError       **error);

TVW_AVAILABLE_IN_ALL
char             *tvw_transform_to_string          (TvwTransform  *self);
TVW_AVAILABLE_IN_ALL
char             *tvw_transform_describe           (TvwTransform  *self);

G_END_DECLS
