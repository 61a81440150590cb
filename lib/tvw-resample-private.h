/* tvw-resample-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-transform.h"

G_BEGIN_DECLS

/*
 * The two resizers behind TvwTransform.
 *
 * tvw_resample_pil_rgb8() is Pillow 9.4's Image.resize() on an "RGB" image
 * (what torchvision's presets run on a PIL image), reproduced bit for bit:
 * NEAREST is ImagingScaleAffine, BILINEAR and BICUBIC are the separable
 * convolution of Resample.c (support widened by the scale factor when
 * downscaling, 22-bit fixed-point coefficients, horizontal pass first).
 * Only the window [win_x, win_x + win_w) × [win_y, win_y + win_h) of the
 * dst_w × dst_h result is computed: every output pixel depends only on its
 * own coefficients, so the window is identical to the same pixels of the
 * full resize.
 *
 * @src has @src_bpp bytes per pixel (3: RGB, 4: RGBA whose alpha is ignored,
 * like Pillow's convert("RGB")); @out gets 3 bytes per pixel.  The window
 * must lie inside dst_w × dst_h.
 */
void tvw_resample_pil_rgb8 (const guint8     *src,
                            int               src_w,
                            int               src_h,
                            gsize             src_stride,
                            guint             src_bpp,
                            int               dst_w,
                            int               dst_h,
                            TvwInterpolation  interpolation,
                            int               win_x,
                            int               win_y,
                            int               win_w,
                            int               win_h,
                            guint8           *out,
                            gsize             out_stride);

/*
 * torch.nn.functional.interpolate (align_corners=False) of @n_planes
 * contiguous float planes, as torchvision's tensor resize calls it: "nearest"
 * (the legacy floor rule), "bilinear" and "bicubic" (A = -0.75), or with
 * @antialias the separable Pillow-like filters of torch's _aa kernels.
 */
void tvw_resample_torch_planes (const float       *src,
                                int                src_h,
                                int                src_w,
                                float             *dst,
                                int                dst_h,
                                int                dst_w,
                                gsize              n_planes,
                                TvwInterpolation   interpolation,
                                gboolean           antialias);

/* For tests: whether the SIMD kernels may be used (they are by default
 * where the CPU has them).  Returns the previous setting. */
gboolean tvw_resample_set_simd (gboolean enabled);

G_END_DECLS
