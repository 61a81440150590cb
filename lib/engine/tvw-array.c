/* tvw-array.c — n-dimensional array descriptors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tvw-array-private.h"
#include "tvw-engine-threads-private.h"

gsize
tvw_elem_size (TvwElem elem)
{
  switch (elem)
    {
    case TVW_ELEM_F32:
    case TVW_ELEM_I32:
      return 4;
    case TVW_ELEM_I64:
      return 8;
    case TVW_ELEM_U8:
    case TVW_ELEM_I8:
    case TVW_ELEM_BOOL:
    default:
      return 1;
    }
}

const char *
tvw_elem_name (TvwElem elem)
{
  static const char *const names[] = { "float32", "uint8", "int8", "int32", "int64", "bool" };

  return elem < G_N_ELEMENTS (names) ? names[elem] : "?";
}

void
tvw_array_init (TvwArray     *a,
                TvwElem       elem,
                int           rank,
                const gint64 *shape)
{
  g_return_if_fail (rank >= 0 && rank <= TVW_MAX_RANK);

  memset (a, 0, sizeof *a);
  a->elem = elem;
  a->rank = rank;
  a->qaxis = -1;
  for (int i = 0; i < rank; i++)
    a->shape[i] = shape[i];
  tvw_array_set_contiguous (a);
}

gint64
tvw_array_numel (const TvwArray *a)
{
  gint64 n = 1;

  for (int i = 0; i < a->rank; i++)
    n *= a->shape[i];

  return n;
}

void
tvw_array_set_contiguous (TvwArray *a)
{
  gint64 s = 1;

  for (int i = a->rank - 1; i >= 0; i--)
    {
      a->stride[i] = s;
      s *= MAX (a->shape[i], 1);
    }
}

void
tvw_array_set_channels_last (TvwArray *a)
{
  gint64 s;

  if (a->rank != 4 && a->rank != 5)
    {
      tvw_array_set_contiguous (a);
      return;
    }

  /* Channels innermost, then the spatial dimensions, then the batch. */
  a->stride[1] = 1;
  s = MAX (a->shape[1], 1);
  for (int i = a->rank - 1; i >= 2; i--)
    {
      a->stride[i] = s;
      s *= MAX (a->shape[i], 1);
    }
  a->stride[0] = s;
}

static gboolean
strides_match (const TvwArray *a,
               const gint64   *want)
{
  for (int i = 0; i < a->rank; i++)
    if (a->shape[i] != 1 && a->stride[i] != want[i])
      return FALSE;

  return TRUE;
}

gboolean
tvw_array_is_contiguous (const TvwArray *a)
{
  TvwArray c = *a;

  tvw_array_set_contiguous (&c);
  return strides_match (a, c.stride);
}

gboolean
tvw_array_is_channels_last (const TvwArray *a)
{
  TvwArray c = *a;

  if (a->rank != 4 && a->rank != 5)
    return tvw_array_is_contiguous (a);

  tvw_array_set_channels_last (&c);
  return strides_match (a, c.stride);
}

gint64
tvw_array_channels_last_pitch (const TvwArray *a)
{
  TvwArray c = *a;

  if (a->rank != 4 || a->stride[3] < a->shape[1])
    return 0;

  tvw_array_set_channels_last_pitch (&c, a->stride[3]);
  return strides_match (a, c.stride) ? a->stride[3] : 0;
}

void
tvw_array_set_channels_last_pitch (TvwArray *a,
                                   gint64    pitch)
{
  g_return_if_fail (a->rank == 4);

  a->stride[1] = 1;
  a->stride[3] = pitch;
  a->stride[2] = pitch * MAX (a->shape[3], 1);
  a->stride[0] = a->stride[2] * MAX (a->shape[2], 1);
}

gsize
tvw_array_extent_bytes (const TvwArray *a)
{
  gint64 last = 0;

  for (int i = 0; i < a->rank; i++)
    {
      if (a->shape[i] == 0)
        return 0;
      last += (a->shape[i] - 1) * a->stride[i];
    }

  return (gsize) (last + 1) * tvw_elem_size (a->elem);
}

gboolean
tvw_array_same_shape (const TvwArray *a,
                      const TvwArray *b)
{
  if (a->rank != b->rank)
    return FALSE;

  for (int i = 0; i < a->rank; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;

  return TRUE;
}

const char *
tvw_array_format_shape (const TvwArray *a,
                        char           *buf)
{
  gsize at = 0;

  buf[at++] = '[';
  for (int i = 0; i < a->rank; i++)
    at += g_snprintf (buf + at, TVW_SHAPE_CHARS - at, "%s%" G_GINT64_FORMAT,
                      i ? ", " : "", a->shape[i]);
  buf[at++] = ']';
  buf[at] = '\0';
  return buf;
}

char *
tvw_array_shape_string (const TvwArray *a)
{
  char buf[TVW_SHAPE_CHARS];

  return g_strdup (tvw_array_format_shape (a, buf));
}

/* Copying: the innermost dimension of the destination is the inner loop;
 * outer indices are shared out as rows, numbered in the destination's
 * memory order (outer dimensions by decreasing stride), so that each
 * thread writes one band of it: an NCHW image staged channels-last is
 * cut into bands of pixel rows, not into channels whose pixels share
 * cache lines (two threads writing the same lines, and the convolution
 * after it reading each band from the thread that wrote it). */
typedef struct
{
  const TvwArray *src;
  TvwArray       *dst;
  gint64          inner;
  gsize           esize;
  int             order[TVW_MAX_RANK];   /* outer dimensions, slowest first */
} CopyJob;

static void
copy_rows (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const CopyJob *job = data;
  const TvwArray *src = job->src;
  TvwArray *dst = job->dst;
  const int r = dst->rank;
  const gint64 inner = job->inner;
  const gint64 ss = r > 0 ? src->stride[r - 1] : 0;
  const gint64 ds = r > 0 ? dst->stride[r - 1] : 0;
  const gsize es = job->esize;

  for (gsize row = begin; row < end; row++)
    {
      gint64 rest = (gint64) row, so = 0, doff = 0;
      const guint8 *s;
      guint8 *d;

      for (int k = r - 2; k >= 0; k--)
        {
          const int i = job->order[k];
          gint64 idx = rest % dst->shape[i];

          rest /= dst->shape[i];
          so += idx * src->stride[i];
          doff += idx * dst->stride[i];
        }
      s = (const guint8 *) src->data + so * (gint64) es;
      d = (guint8 *) dst->data + doff * (gint64) es;

      if (ss == 1 && ds == 1)
        memcpy (d, s, inner * es);
      else if (es == 4)
        for (gint64 j = 0; j < inner; j++)
          ((guint32 *) d)[j * ds] = ((const guint32 *) s)[j * ss];
      else if (es == 8)
        for (gint64 j = 0; j < inner; j++)
          ((guint64 *) d)[j * ds] = ((const guint64 *) s)[j * ss];
      else
        for (gint64 j = 0; j < inner; j++)
          d[j * ds] = s[j * ss];
    }
}

void
tvw_array_copy (const TvwArray *src,
                TvwArray       *dst,
                int             n_threads)
{
  CopyJob job = { src, dst, 1, tvw_elem_size (dst->elem), { 0 } };
  gint64 rows = 1;

  /* A stable insertion sort of the outer dimensions. */
  for (int i = 0; i < dst->rank - 1; i++)
    {
      int k = i;

      for (; k > 0 && dst->stride[job.order[k - 1]] < dst->stride[i]; k--)
        job.order[k] = job.order[k - 1];
      job.order[k] = i;
    }

  g_return_if_fail (tvw_array_same_shape (src, dst));
  g_return_if_fail (src->elem == dst->elem);

  if (tvw_array_numel (dst) == 0)
    return;
  if (dst->rank > 0)
    {
      job.inner = dst->shape[dst->rank - 1];
      rows = tvw_array_numel (dst) / job.inner;
    }

  /* Small copies are not worth waking threads for. */
  if (tvw_array_numel (dst) < 32768)
    n_threads = 1;
  tvw_parallel_range ((gsize) rows, n_threads, copy_rows, &job);
}
