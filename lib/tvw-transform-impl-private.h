/* tvw-transform-impl-private.h — what the transform's source files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TvwTransform is tvw-transform.c (the object, presets, properties,
 * torchvision's keyword arguments), tvw-transform-apply.c (applying it) and
 * tvw-transform-repr.c (repr () and describe ()).  Nothing else includes
 * this header.
 */

#pragma once

#include "tvw-transform-private.h"

G_BEGIN_DECLS

/* The largest resized side: Pillow computes sizes through floats. */
#define MAX_RESIZED_SIDE (1 << 24)

struct _TvwTransform
{
  GObject           parent_instance;

  TvwPreset         preset;
  int               crop[2];
  guint             n_crop;
  int               resize[2];
  guint             n_resize;
  double           *mean;
  guint             n_mean;
  double           *std;
  guint             n_std;
  TvwInterpolation  interpolation;
  gboolean          antialias;
};

gboolean tvw_preset_has_crop       (TvwPreset     preset);
gboolean tvw_preset_has_resize     (TvwPreset     preset);
gboolean tvw_preset_has_normalize  (TvwPreset     preset);
/* The crop's sides, from the one- or two-element crop size. */
int      tvw_transform_crop_height (TvwTransform *self);
int      tvw_transform_crop_width  (TvwTransform *self);

G_END_DECLS
