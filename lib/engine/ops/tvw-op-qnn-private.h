/* tvw-op-qnn-private.h — what tvw-op-qnn.c shares with tvw-op-qat.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QAT module converted at load time (tvw-op-qat.c) runs as the
 * quantized convolution or linear of tvw-op-qnn.c: only its prepare
 * differs, which derives the qint8 weights and the qparams from the
 * checkpoint's float weights and observers instead of reading them.
 */

#pragma once

#include <math.h>

#include "tvw-op-private.h"

G_BEGIN_DECLS

/* As PyTorch's quantize_val: round (v · (1 / scale)) to nearest even,
 * plus the zero point, clamped to quint8. */
static inline guint8
tvw_quantize_u8 (float v,
                 float inv_scale,
                 int   zero_point)
{
  float q = nearbyintf (CLAMP (v * inv_scale, -1024.f, 1024.f)) + (float) zero_point;

  return (guint8) CLAMP (q, 0.f, 255.f);
}

/* Input @i is a quint8 tensor quantized per tensor, else an error naming
 * the module. */
gboolean tvw_qnn_check_input    (const TvwOpCall  *call,
                                 int               i,
                                 GError          **error);

/* qconv2d's and qlinear's class functions; call->params starts with a
 * TvwQConvOpParams. */
gboolean tvw_qconv_infer        (TvwOpCall        *call,
                                 GError          **error);
gboolean tvw_qlinear_infer      (TvwOpCall        *call,
                                 GError          **error);
void     tvw_qconv_release      (TvwOpCall        *call);
gsize    tvw_qconv_packed_bytes (const TvwOpCall  *call);
int      tvw_qconv_pack_pieces  (const TvwOpCall  *call);
void     tvw_qconv_pack         (const TvwOpCall  *call,
                                 int               begin,
                                 int               end);
gsize    tvw_qconv_scratch      (const TvwOpCall  *call);
void     tvw_qconv_run          (TvwOpCall        *call);

/* prepare for values derived elsewhere: @weight ([cout, cin/groups·kh·kw]
 * qint8 values as floats, taken), per-channel @scales and @zero_points
 * ([cout]), float @bias ([cout], nullable) and the output's
 * quantization. */
gboolean tvw_qconv_prepare_converted (TvwOpCall    *call,
                                      float        *weight,
                                      const float  *scales,
                                      const float  *zero_points,
                                      const float  *bias,
                                      double        out_scale,
                                      int           out_zero_point,
                                      GError      **error);

G_END_DECLS
