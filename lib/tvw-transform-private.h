/* tvw-transform-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-transform.h"

G_BEGIN_DECLS

/*
 * tvw_transform_new_for_preset:
 * @preset: torchvision's class name: "ImageClassification",
 *   "SemanticSegmentation", "VideoClassification", "ObjectDetection" or
 *   "OpticalFlow"
 * @kwargs: (nullable): an `a{sv}` of torchvision's keyword arguments for the
 *   preset (the entry's `partial(...)` arguments merged with the user's
 *   overrides): `crop_size` (`i`, or `(ii)` / `ai` for video), `resize_size`
 *   (`i`, `(i)`, `(ii)`, `ai`, or a `mv`/`mi` nothing for None),
 *   `interpolation` ("nearest", "bilinear" or "bicubic"), `mean` (`ad`),
 *   `std` (`ad`), `antialias` (`b`).  Any integer type is accepted where
 *   `i` is written.
 *
 * Builds the preset the way `partial(Preset, **kwargs)()` does.  A key the
 * preset does not take (torchvision would raise TypeError), a value of the
 * wrong type or range, or a missing required key (`crop_size` for
 * ImageClassification and VideoClassification, `resize_size` for
 * VideoClassification) is %TVW_ERROR_INVALID_ARGUMENT naming the key; an
 * unknown preset is %TVW_ERROR_NOT_FOUND.
 */
TvwTransform *tvw_transform_new_for_preset (const char  *preset,
                                            GVariant    *kwargs,
                                            GError     **error);

/* The preset's torchvision class name, e.g. "ImageClassification". */
const char   *tvw_preset_to_name           (TvwPreset    preset);
gboolean      tvw_preset_from_name         (const char  *name,
                                            TvwPreset   *preset);

G_END_DECLS
