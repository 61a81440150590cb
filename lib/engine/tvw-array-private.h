/* tvw-array-private.h — the engine's n-dimensional array descriptor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A TvwArray describes one tensor the way PyTorch does: an element type, a
 * logical shape in torchvision's order (N×C×H×W, N×C×T×H×W, …) and strides
 * in elements, so that a permuted, sliced or split tensor is a view of
 * another one's storage.  Channels-last is only a choice of strides: an
 * N×C×H×W tensor stored as N·H·W·C has strides {H·W·C, 1, W·C, C}, as
 * `torch.channels_last` does.  Quantized tensors (u8/i8) carry their affine
 * parameters: real = scale · (q − zero_point), per tensor or per channel.
 *
 * While a graph is planned, @data is NULL; when it runs, @data points at the
 * first element (the view's offset already applied).
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TVW_MAX_RANK 5

typedef enum
{
  TVW_ELEM_F32,
  TVW_ELEM_U8,    /* quint8 when quantized */
  TVW_ELEM_I8,    /* qint8 when quantized */
  TVW_ELEM_I32,
  TVW_ELEM_I64,
  TVW_ELEM_BOOL,  /* one byte, 0 or 1 */
} TvwElem;

typedef struct
{
  TvwElem       elem;
  int           rank;                    /* 0 (a scalar) to TVW_MAX_RANK */
  gint64        shape[TVW_MAX_RANK];
  gint64        stride[TVW_MAX_RANK];    /* in elements */

  /* Quantization (u8/i8 only).  @qaxis < 0: per tensor (@scale,
   * @zero_point); else per channel along @qaxis, @scales and @zero_points
   * having shape[qaxis] entries (owned by whoever made them: a weight's
   * prepare, or the graph). */
  gboolean      quantized;
  double        scale;
  gint32        zero_point;
  int           qaxis;
  const float  *scales;
  const gint32 *zero_points;

  void         *data;
} TvwArray;

gsize     tvw_elem_size                (TvwElem         elem);
const char *tvw_elem_name              (TvwElem         elem);

/* A contiguous, row-major array of @shape (no data). */
void      tvw_array_init               (TvwArray       *a,
                                        TvwElem         elem,
                                        int             rank,
                                        const gint64   *shape);
gint64    tvw_array_numel              (const TvwArray *a);
/* Row-major strides for the current shape. */
void      tvw_array_set_contiguous     (TvwArray       *a);
/* Channels-last strides for a rank 4 (N·H·W·C) or 5 (N·T·H·W·C) array;
 * row-major for other ranks. */
void      tvw_array_set_channels_last  (TvwArray       *a);
/* Size-1 dimensions are ignored, as PyTorch does. */
gboolean  tvw_array_is_contiguous      (const TvwArray *a);
gboolean  tvw_array_is_channels_last   (const TvwArray *a);
/* The pixel stride (in elements) of a rank-4 channels-last array whose
 * pixels may lie further apart than its channels (a channel slice of a
 * wider channels-last buffer, as a concatenation's inputs are), or 0. */
gint64    tvw_array_channels_last_pitch (const TvwArray *a);
/* Channels-last strides with pixels @pitch elements apart. */
void      tvw_array_set_channels_last_pitch (TvwArray   *a,
                                             gint64      pitch);
/* Bytes from the first element to one past the last one reached. */
gsize     tvw_array_extent_bytes       (const TvwArray *a);
gboolean  tvw_array_same_shape         (const TvwArray *a,
                                        const TvwArray *b);
/* “[1, 64, 56, 56]”, for messages. */
char     *tvw_array_shape_string       (const TvwArray *a);
/* The same into @buf, without allocating. */
#define TVW_SHAPE_CHARS (2 + TVW_MAX_RANK * 22)
const char *tvw_array_format_shape     (const TvwArray *a,
                                        char           *buf);

/* Copies @src into @dst element by element, whatever their strides (same
 * shape and element type), with @n_threads. */
void      tvw_array_copy               (const TvwArray *src,
                                        TvwArray       *dst,
                                        int             n_threads);

G_END_DECLS
