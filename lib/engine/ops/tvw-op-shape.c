/* tvw-op-shape.c — views and copies that move data around
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Views (reshape, permute, squeeze, unsqueeze, slice, split) only compute
 * an output descriptor over input 0's storage, as PyTorch's views do.
 * Copies (contiguous, concat, pad, roll, channel shuffle) read any strides
 * and write row-major outputs, except that concat and channel shuffle keep
 * channels-last maps channels-last (ShuffleNet's blocks run on them).
 * All of them move elements by size, so every element
 * type works; per-tensor quantization is carried over, per-channel
 * quantization is refused (its axis would have to follow the view).
 */

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

/* Copies below this many elements run on the calling thread alone. */
#define PARALLEL_MIN_ELEMENTS 32768

static gboolean
check_quantization (const TvwOpCall  *call,
                    int               input,
                    GError          **error)
{
  if (!call->in[input].quantized || call->in[input].qaxis < 0)
    return TRUE;

  tvw_op_set_invalid (call, error, "input %d is quantized per channel, which this op does not support",
               input);
  return FALSE;
}

/* The output as a fresh descriptor of input 0's type and quantization. */
static TvwArray *
output_like_input (TvwOpCall *call,
                   int        out)
{
  TvwArray *o = &call->out[out];

  *o = call->in[0];
  o->data = NULL;
  return o;
}

static gboolean
check_rank_max (const TvwOpCall  *call,
                int               rank,
                GError          **error)
{
  if (rank <= TVW_MAX_RANK)
    return TRUE;

  {
    char shape[TVW_SHAPE_CHARS];

    tvw_array_format_shape (&call->in[0], shape);

    tvw_op_set_invalid (call, error, "input of shape %s would give %d dimensions, more than %d",
                 shape, rank, TVW_MAX_RANK);
  }
  return FALSE;
}

/* ---- copying helpers ----------------------------------------------------- */

/* @n elements from @src (@stride apart) to contiguous @dst. */
static inline void
copy_run (guint8       *dst,
          const guint8 *src,
          gint64        n,
          gint64        stride,
          gsize         es)
{
  if (stride == 1)
    memcpy (dst, src, n * es);
  else if (es == 4)
    for (gint64 j = 0; j < n; j++)
      ((guint32 *) dst)[j] = ((const guint32 *) src)[j * stride];
  else if (es == 8)
    for (gint64 j = 0; j < n; j++)
      ((guint64 *) dst)[j] = ((const guint64 *) src)[j * stride];
  else
    for (gint64 j = 0; j < n; j++)
      dst[j] = src[j * stride];
}

/* @n copies of the @es bytes at @value. */
static inline void
fill_run (guint8       *dst,
          gint64        n,
          const guint8 *value,
          gsize         es)
{
  if (es == 1)
    memset (dst, value[0], n);
  else if (es == 4)
    {
      guint32 v;

      memcpy (&v, value, 4);
      for (gint64 j = 0; j < n; j++)
        ((guint32 *) dst)[j] = v;
    }
  else
    for (gint64 j = 0; j < n; j++)
      memcpy (dst + j * es, value, es);
}

static inline void
swap64 (gint64 *a,
        gint64 *b)
{
  gint64 t = *a;

  *a = *b;
  *b = t;
}

/* Orders the dimensions by decreasing destination stride (the copy's
 * inner loop is then the destination's unit-stride one: a channels-last
 * block is written pixel by pixel, not column by column), drops size-1
 * dimensions and merges neighbours that are contiguous in both arrays, so
 * that a copy between blocks of the same layout is a few long memcpy ()s. */
static void
coalesce (TvwArray *src,
          TvwArray *dst)
{
  int r = 0;

  for (int i = 1; i < dst->rank; i++)
    for (int j = i; j > 0 && dst->stride[j - 1] < dst->stride[j]; j--)
      {
        swap64 (&dst->stride[j - 1], &dst->stride[j]);
        swap64 (&src->stride[j - 1], &src->stride[j]);
        swap64 (&src->shape[j - 1], &src->shape[j]);
        swap64 (&dst->shape[j - 1], &dst->shape[j]);
      }

  for (int i = 0; i < src->rank; i++)
    {
      if (src->shape[i] == 1)
        continue;
      if (r > 0 &&
          src->stride[r - 1] == src->stride[i] * src->shape[i] &&
          dst->stride[r - 1] == dst->stride[i] * dst->shape[i])
        {
          src->shape[r - 1] *= src->shape[i];
          dst->shape[r - 1] = src->shape[r - 1];
          src->stride[r - 1] = src->stride[i];
          dst->stride[r - 1] = dst->stride[i];
          continue;
        }
      src->shape[r] = dst->shape[r] = src->shape[i];
      src->stride[r] = src->stride[i];
      dst->stride[r] = dst->stride[i];
      r++;
    }
  src->rank = dst->rank = r;
}

static void
copy_coalesced (const TvwArray *src,
                const TvwArray *dst,
                int             n_threads)
{
  TvwArray s = *src, d = *dst;

  coalesce (&s, &d);
  tvw_array_copy (&s, &d, n_threads);
}

static int
threads_for (gint64 elements,
             int    n_threads)
{
  return elements < PARALLEL_MIN_ELEMENTS ? 1 : n_threads;
}

/* ---- reshape, flatten ---------------------------------------------------- */

static gboolean
reshape_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwReshapeParams *p = call->params;
  const TvwArray *in = &call->in[0];
  TvwArray *out;
  char in_shape[TVW_SHAPE_CHARS];
  gint64 numel = tvw_array_numel (in);

  tvw_array_format_shape (in, in_shape);

  if (!check_quantization (call, 0, error))
    return FALSE;
  out = output_like_input (call, 0);

  if (p->flatten)
    {
      int start, end;

      /* A scalar flattens to one element, as in PyTorch. */
      if (in->rank == 0)
        {
          out->rank = 1;
          out->shape[0] = 1;
          goto done;
        }
      if (!tvw_op_check_dim (call, p->start_dim, in->rank, &start, error) ||
          !tvw_op_check_dim (call, p->end_dim, in->rank, &end, error))
        return FALSE;
      if (start > end)
        {
          tvw_op_set_invalid (call, error, "flatten of input %s: start_dim %d comes after end_dim %d",
                       in_shape, p->start_dim, p->end_dim);
          return FALSE;
        }
      out->rank = in->rank - (end - start);
      for (int i = 0; i < start; i++)
        out->shape[i] = in->shape[i];
      out->shape[start] = 1;
      for (int i = start; i <= end; i++)
        out->shape[start] *= in->shape[i];
      for (int i = end + 1; i < in->rank; i++)
        out->shape[i - (end - start)] = in->shape[i];
    }
  else
    {
      gint64 known = 1;
      int infer_at = -1;

      if (p->rank < 0 || p->rank > TVW_MAX_RANK)
        {
          tvw_op_set_invalid (call, error, "cannot reshape input %s to %d dimensions", in_shape, p->rank);
          return FALSE;
        }
      for (int i = 0; i < p->rank; i++)
        {
          if (p->shape[i] == -1 && infer_at < 0)
            infer_at = i;
          else if (p->shape[i] < 0)
            {
              tvw_op_set_invalid (call, error, "cannot reshape input %s: size %" G_GINT64_FORMAT
                           " at dim %d (only one -1 is allowed)", in_shape, p->shape[i], i);
              return FALSE;
            }
          else
            known *= p->shape[i];
        }

      out->rank = p->rank;
      for (int i = 0; i < p->rank; i++)
        out->shape[i] = p->shape[i];
      if (infer_at >= 0)
        {
          if (known == 0 || numel % known != 0)
            {
              tvw_op_set_error (call, error, "cannot reshape input %s (%" G_GINT64_FORMAT
                                " elements) with a -1 next to sizes whose product is %"
                                G_GINT64_FORMAT, in_shape, numel, known);
              return FALSE;
            }
          out->shape[infer_at] = numel / known;
        }
      else if (known != numel)
        {
          char want[TVW_SHAPE_CHARS];

          tvw_array_format_shape (out, want);
          tvw_op_set_error (call, error, "cannot reshape input %s (%" G_GINT64_FORMAT
                            " elements) to %s", in_shape, numel, want);
          return FALSE;
        }
    }

done:
  tvw_array_set_contiguous (out);
  call->view_offset[0] = 0;
  return TRUE;
}

const TvwOpClass tvw_op_reshape = {
  .name = "reshape",
  .flags = TVW_OP_ROW_MAJOR | TVW_OP_VIEW,
  .infer = reshape_infer,
};

static TvwVal
add_one (TvwNet           *net,
         const TvwOpClass *cls,
         TvwVal            x,
         gconstpointer     params,
         gsize             params_size)
{
  TvwNodeSpec spec = {
    .cls = cls,
    .params = params,
    .params_size = params_size,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_reshape (TvwNet       *net,
                 TvwVal        x,
                 int           rank,
                 const gint64 *shape)
{
  TvwReshapeParams p = { .rank = rank };

  for (int i = 0; i < CLAMP (rank, 0, TVW_MAX_RANK); i++)
    p.shape[i] = shape[i];
  return add_one (net, &tvw_op_reshape, x, &p, sizeof p);
}

TvwVal
tvw_net_flatten_dims (TvwNet *net,
                      TvwVal  x,
                      int     start_dim,
                      int     end_dim)
{
  TvwReshapeParams p = { .flatten = TRUE, .start_dim = start_dim, .end_dim = end_dim };

  return add_one (net, &tvw_op_reshape, x, &p, sizeof p);
}

/* ---- permute, transpose -------------------------------------------------- */

static gboolean
permute_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwPermuteParams *p = call->params;
  const TvwArray *in = &call->in[0];
  TvwArray *out;
  int perm[TVW_MAX_RANK];
  gboolean seen[TVW_MAX_RANK] = { FALSE };

  if (!check_quantization (call, 0, error))
    return FALSE;

  for (int i = 0; i < in->rank; i++)
    perm[i] = i;

  if (p->transpose)
    {
      int a, b;

      if (!tvw_op_check_dim (call, p->dims[0], in->rank, &a, error) ||
          !tvw_op_check_dim (call, p->dims[1], in->rank, &b, error))
        return FALSE;
      perm[a] = b;
      perm[b] = a;
    }
  else
    {
      char shape[TVW_SHAPE_CHARS];

      tvw_array_format_shape (in, shape);

      if (p->n_dims != in->rank)
        {
          tvw_op_set_invalid (call, error, "%d dims given to permute an input of shape %s",
                       p->n_dims, shape);
          return FALSE;
        }
      for (int i = 0; i < in->rank; i++)
        {
          if (!tvw_op_check_dim (call, p->dims[i], in->rank, &perm[i], error))
            return FALSE;
          if (seen[perm[i]])
            {
              tvw_op_set_invalid (call, error, "dim %d repeats in the permutation of input %s",
                           p->dims[i], shape);
              return FALSE;
            }
          seen[perm[i]] = TRUE;
        }
    }

  out = output_like_input (call, 0);
  for (int i = 0; i < in->rank; i++)
    {
      out->shape[i] = in->shape[perm[i]];
      out->stride[i] = in->stride[perm[i]];
    }
  call->view_offset[0] = 0;
  return TRUE;
}

const TvwOpClass tvw_op_permute = {
  .name = "permute",
  .flags = TVW_OP_STRIDED | TVW_OP_VIEW,
  .infer = permute_infer,
};

TvwVal
tvw_net_permute (TvwNet    *net,
                 TvwVal     x,
                 const int *dims)
{
  /* An invalid @x (after an earlier error) is add_node ()'s to report. */
  const TvwArray *a = x >= 0 ? tvw_net_array (net, x) : NULL;
  TvwPermuteParams p = { .n_dims = a != NULL ? a->rank : 0 };

  for (int i = 0; i < p.n_dims; i++)
    p.dims[i] = dims[i];
  return add_one (net, &tvw_op_permute, x, &p, sizeof p);
}

TvwVal
tvw_net_transpose (TvwNet *net,
                   TvwVal  x,
                   int     dim0,
                   int     dim1)
{
  TvwPermuteParams p = { .transpose = TRUE, .dims = { dim0, dim1 } };

  return add_one (net, &tvw_op_permute, x, &p, sizeof p);
}

/* ---- unsqueeze, squeeze -------------------------------------------------- */

static gboolean
unsqueeze_infer (TvwOpCall  *call,
                 GError    **error)
{
  const TvwDimParams *p = call->params;
  const TvwArray *in = &call->in[0];
  TvwArray *out;
  int dim;

  if (!check_quantization (call, 0, error) ||
      !check_rank_max (call, in->rank + 1, error) ||
      !tvw_op_check_dim (call, p->dim, in->rank + 1, &dim, error))
    return FALSE;

  out = output_like_input (call, 0);
  out->rank = in->rank + 1;
  for (int i = in->rank; i > dim; i--)
    {
      out->shape[i] = in->shape[i - 1];
      out->stride[i] = in->stride[i - 1];
    }
  /* PyTorch's stride for the new dimension; any would do for size 1. */
  out->shape[dim] = 1;
  out->stride[dim] = dim < in->rank ? in->shape[dim] * in->stride[dim] : 1;
  call->view_offset[0] = 0;
  return TRUE;
}

const TvwOpClass tvw_op_unsqueeze = {
  .name = "unsqueeze",
  .flags = TVW_OP_STRIDED | TVW_OP_VIEW,
  .infer = unsqueeze_infer,
};

TvwVal
tvw_net_unsqueeze (TvwNet *net,
                   TvwVal  x,
                   int     dim)
{
  TvwDimParams p = { dim };

  return add_one (net, &tvw_op_unsqueeze, x, &p, sizeof p);
}

static gboolean
squeeze_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwDimParams *p = call->params;
  const TvwArray *in = &call->in[0];
  TvwArray *out;
  int dim;

  if (!check_quantization (call, 0, error) ||
      !tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_dim (call, p->dim, in->rank, &dim, error))
    return FALSE;

  out = output_like_input (call, 0);
  call->view_offset[0] = 0;
  /* A dimension that is not 1 stays, as torch.squeeze (x, dim) does. */
  if (in->shape[dim] != 1)
    return TRUE;

  out->rank = in->rank - 1;
  for (int i = dim; i < out->rank; i++)
    {
      out->shape[i] = in->shape[i + 1];
      out->stride[i] = in->stride[i + 1];
    }
  return TRUE;
}

const TvwOpClass tvw_op_squeeze = {
  .name = "squeeze",
  .flags = TVW_OP_STRIDED | TVW_OP_VIEW,
  .infer = squeeze_infer,
};

TvwVal
tvw_net_squeeze (TvwNet *net,
                 TvwVal  x,
                 int     dim)
{
  TvwDimParams p = { dim };

  return add_one (net, &tvw_op_squeeze, x, &p, sizeof p);
}

/* ---- slice --------------------------------------------------------------- */

/* Python's rule for a slice bound: negative counts from the end, then
 * clamped to [0, size]. */
static gint64
slice_bound (gint64 i,
             gint64 size)
{
  if (i < 0)
    i += size;
  return CLAMP (i, 0, size);
}

static gboolean
slice_infer (TvwOpCall  *call,
             GError    **error)
{
  const TvwSliceParams *p = call->params;
  const TvwArray *in = &call->in[0];
  TvwArray *out;
  gint64 start, end, n;
  int dim;

  if (!check_quantization (call, 0, error) ||
      !tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_dim (call, p->dim, in->rank, &dim, error))
    return FALSE;
  if (p->step < 1)
    {
      tvw_op_set_invalid (call, error, "slice step %" G_GINT64_FORMAT " must be at least 1", p->step);
      return FALSE;
    }

  start = slice_bound (p->start, in->shape[dim]);
  end = slice_bound (p->end, in->shape[dim]);
  n = end > start ? (end - start + p->step - 1) / p->step : 0;

  out = output_like_input (call, 0);
  out->shape[dim] = n;
  out->stride[dim] = in->stride[dim] * p->step;
  call->view_offset[0] = n > 0 ? start * in->stride[dim] : 0;
  return TRUE;
}

const TvwOpClass tvw_op_slice = {
  .name = "slice",
  .flags = TVW_OP_STRIDED | TVW_OP_VIEW,
  .infer = slice_infer,
};

TvwVal
tvw_net_slice (TvwNet *net,
               TvwVal  x,
               int     dim,
               gint64  start,
               gint64  end,
               gint64  step)
{
  TvwSliceParams p = { dim, start, end, step };

  return add_one (net, &tvw_op_slice, x, &p, sizeof p);
}

/* ---- split --------------------------------------------------------------- */

static gboolean
split_infer (TvwOpCall  *call,
             GError    **error)
{
  const TvwSplitParams *p = call->params;
  const TvwArray *in = &call->in[0];
  char shape[TVW_SHAPE_CHARS];
  gint64 sum = 0;
  int dim;

  tvw_array_format_shape (in, shape);

  if (!check_quantization (call, 0, error) ||
      !tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_dim (call, p->dim, in->rank, &dim, error))
    return FALSE;
  if (p->n != call->n_out || p->n < 1)
    {
      tvw_op_set_invalid (call, error, "%d sizes for %d outputs", p->n, call->n_out);
      return FALSE;
    }

  for (int i = 0; i < p->n; i++)
    {
      TvwArray *out;

      if (p->sizes[i] < 0)
        {
          tvw_op_set_invalid (call, error, "split of input %s: size %d is %" G_GINT64_FORMAT,
                       shape, i, p->sizes[i]);
          return FALSE;
        }
      out = output_like_input (call, i);
      out->shape[dim] = p->sizes[i];
      call->view_offset[i] = sum * in->stride[dim];
      sum += p->sizes[i];
    }

  if (sum != in->shape[dim])
    {
      tvw_op_set_error (call, error, "split sizes add up to %" G_GINT64_FORMAT
                        " but dim %d of input %s is %" G_GINT64_FORMAT,
                        sum, p->dim, shape, in->shape[dim]);
      return FALSE;
    }
  return TRUE;
}

const TvwOpClass tvw_op_split = {
  .name = "split",
  .flags = TVW_OP_STRIDED | TVW_OP_VIEW,
  .infer = split_infer,
};

void
tvw_net_split (TvwNet       *net,
               TvwVal        x,
               int           dim,
               int           n_out,
               const gint64 *sizes,
               TvwVal       *outputs)
{
  gsize size = sizeof (TvwSplitParams) + MAX (n_out, 0) * sizeof (gint64);
  g_autofree TvwSplitParams *p = g_malloc0 (size);
  TvwNodeSpec spec = {
    .cls = &tvw_op_split,
    .params_size = size,
    .n_in = 1,
    .in = &x,
    .n_out = MAX (n_out, 1),
  };

  p->dim = dim;
  p->n = n_out;
  for (int i = 0; i < n_out; i++)
    p->sizes[i] = sizes[i];
  spec.params = p;

  for (int i = 0; i < n_out; i++)
    outputs[i] = -1;
  tvw_net_add_node (net, &spec, n_out > 0 ? outputs : NULL);
}

/* ---- contiguous ---------------------------------------------------------- */

static gboolean
contiguous_infer (TvwOpCall  *call,
                  GError    **error)
{
  if (!check_quantization (call, 0, error))
    return FALSE;

  tvw_array_set_contiguous (output_like_input (call, 0));
  return TRUE;
}

static void
contiguous_run (TvwOpCall *call)
{
  copy_coalesced (&call->in[0], &call->out[0], call->n_threads);
}

const TvwOpClass tvw_op_contiguous = {
  .name = "contiguous",
  .flags = TVW_OP_STRIDED,
  .infer = contiguous_infer,
  .run = contiguous_run,
};

TvwVal
tvw_net_contiguous (TvwNet *net,
                    TvwVal  x)
{
  return add_one (net, &tvw_op_contiguous, x, NULL, 0);
}

/* ---- concat -------------------------------------------------------------- */

static gboolean
concat_infer (TvwOpCall  *call,
              GError    **error)
{
  const TvwDimParams *p = call->params;
  const TvwArray *in0 = &call->in[0];
  gboolean all_channels_last = TRUE;
  TvwArray *out;
  int dim;

  if (call->n_in < 1)
    {
      tvw_op_set_invalid (call, error, "nothing to concatenate");
      return FALSE;
    }
  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_dim (call, p->dim, in0->rank, &dim, error))
    return FALSE;

  out = output_like_input (call, 0);
  out->shape[dim] = 0;
  for (int i = 0; i < call->n_in; i++)
    {
      const TvwArray *in = &call->in[i];
      gboolean same = in->rank == in0->rank;

      for (int d = 0; same && d < in->rank; d++)
        same = d == dim || in->shape[d] == in0->shape[d];
      if (!same)
        {
          char a[TVW_SHAPE_CHARS], b[TVW_SHAPE_CHARS];

          tvw_array_format_shape (in0, a);
          tvw_array_format_shape (in, b);

          tvw_op_set_error (call, error, "input %d has shape %s, which does not match input 0's %s "
                            "outside dim %d", i, b, a, p->dim);
          return FALSE;
        }
      if (!tvw_op_check_elem (call, i, in0->elem, error))
        return FALSE;
      if (in->quantized != in0->quantized ||
          (in->quantized && (in->qaxis >= 0 || in->scale != in0->scale ||
                             in->zero_point != in0->zero_point)))
        {
          tvw_op_set_invalid (call, error, "input %d is not quantized like input 0", i);
          return FALSE;
        }
      out->shape[dim] += in->shape[dim];
      all_channels_last &= tvw_array_is_channels_last (in) || tvw_array_channels_last_pitch (in) > 0;
    }

  /* Channels-last maps concatenated (ShuffleNet's, Inception's) stay
   * channels-last, as torch.cat keeps the inputs' memory format: the
   * convolution after it then reads the output as it is.  Inputs the
   * planner placed in a wider buffer (pitched) count as channels-last. */
  if (all_channels_last && (!tvw_array_is_contiguous (in0) || tvw_array_channels_last_pitch (in0) > 0))
    tvw_array_set_channels_last (out);
  else
    tvw_array_set_contiguous (out);
  return TRUE;
}

static void
concat_run (TvwOpCall *call)
{
  const TvwDimParams *p = call->params;
  const TvwArray *out = &call->out[0];
  const gsize es = tvw_elem_size (out->elem);
  const int dim = tvw_op_resolve_dim (p->dim, out->rank);
  gint64 at = 0;

  /* Each input is a copy into the slab of the output it lands in, unless
   * the planner had its producer write it there already. */
  for (int i = 0; i < call->n_in; i++)
    {
      TvwArray slab = *out;

      slab.shape[dim] = call->in[i].shape[dim];
      slab.data = (guint8 *) out->data + at * out->stride[dim] * (gint64) es;
      if (slab.data != call->in[i].data ||
          memcmp (slab.stride, call->in[i].stride, sizeof slab.stride) != 0)
        copy_coalesced (&call->in[i], &slab, call->n_threads);
      at += slab.shape[dim];
    }
}

/* Its copies write through the output's strides. */
static gboolean
concat_writes_pitched (const TvwOpCall *call)
{
  return TRUE;
}

const TvwOpClass tvw_op_concat = {
  .name = "concat",
  .flags = TVW_OP_STRIDED,
  .infer = concat_infer,
  .writes_pitched = concat_writes_pitched,
  .run = concat_run,
};

TvwVal
tvw_net_concat (TvwNet       *net,
                int           n_in,
                const TvwVal *inputs,
                int           dim)
{
  TvwDimParams p = { dim };
  TvwNodeSpec spec = {
    .cls = &tvw_op_concat,
    .params = &p,
    .params_size = sizeof p,
    .n_in = n_in,
    .in = inputs,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

/* ---- pad ----------------------------------------------------------------- */

/* Before/after amounts for every dimension of a rank @rank input. */
static void
pad_amounts (const TvwPadParams *p,
             int              rank,
             gint64          *before,
             gint64          *after)
{
  for (int d = 0; d < rank; d++)
    before[d] = after[d] = 0;
  for (int i = 0; i < p->n_pads && i < rank; i++)
    {
      before[rank - 1 - i] = p->pads[2 * i];
      after[rank - 1 - i] = p->pads[2 * i + 1];
    }
}

static gboolean
pad_infer (TvwOpCall  *call,
           GError    **error)
{
  const TvwPadParams *p = call->params;
  const TvwArray *in = &call->in[0];
  char shape[TVW_SHAPE_CHARS];
  gint64 before[TVW_MAX_RANK], after[TVW_MAX_RANK];
  TvwArray *out;

  tvw_array_format_shape (in, shape);

  if (!check_quantization (call, 0, error) ||
      !tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error))
    return FALSE;
  if (p->n_pads < 0 || p->n_pads > in->rank)
    {
      tvw_op_set_invalid (call, error, "%d pairs of pads for input %s", p->n_pads, shape);
      return FALSE;
    }

  pad_amounts (p, in->rank, before, after);
  out = output_like_input (call, 0);
  for (int d = 0; d < in->rank; d++)
    {
      out->shape[d] = in->shape[d] + before[d] + after[d];
      if (out->shape[d] < 0)
        {
          tvw_op_set_error (call, error, "pads %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                            " leave dim %d of input %s with a negative size",
                            before[d], after[d], d, shape);
          return FALSE;
        }
    }
  tvw_array_set_contiguous (out);
  return TRUE;
}

/* The pad value as an element of @a's type. */
static void
pad_value (const TvwArray *a,
           double          value,
           guint8         *bytes)
{
  if (a->quantized)
    value = nearbyint (value / a->scale) + a->zero_point;

  switch (a->elem)
    {
    case TVW_ELEM_F32: *(float *) bytes = (float) value; break;
    case TVW_ELEM_I32: *(gint32 *) bytes = (gint32) value; break;
    case TVW_ELEM_I64: *(gint64 *) bytes = (gint64) value; break;
    case TVW_ELEM_U8: *bytes = (guint8) CLAMP (value, 0, 255); break;
    case TVW_ELEM_I8: *(gint8 *) bytes = (gint8) CLAMP (value, -128, 127); break;
    case TVW_ELEM_BOOL: *bytes = value != 0; break;
    default: break;
    }
}

typedef struct
{
  const TvwArray *in, *out;
  gint64          before[TVW_MAX_RANK];
  guint8          value[8];
} PadJob;

static void
pad_rows (gpointer data,
          gsize    begin,
          gsize    end,
          int      thread)
{
  const PadJob *job = data;
  const TvwArray *in = job->in, *out = job->out;
  const int r = out->rank;
  const gsize es = tvw_elem_size (out->elem);
  const gint64 w_out = out->shape[r - 1], w_in = in->shape[r - 1];
  const gint64 left = job->before[r - 1];
  /* The columns of the output row that come from the input. */
  const gint64 c0 = CLAMP (left, 0, w_out), c1 = CLAMP (left + w_in, 0, w_out);

  for (gsize row = begin; row < end; row++)
    {
      guint8 *dst = (guint8 *) out->data + row * w_out * es;
      gint64 rest = (gint64) row, src_off = 0;
      gboolean inside = TRUE;

      for (int d = r - 2; d >= 0; d--)
        {
          gint64 i = rest % out->shape[d] - job->before[d];

          rest /= out->shape[d];
          if (i < 0 || i >= in->shape[d])
            inside = FALSE;
          src_off += i * in->stride[d];
        }

      if (!inside || c1 <= c0)
        {
          fill_run (dst, w_out, job->value, es);
          continue;
        }
      fill_run (dst, c0, job->value, es);
      src_off += (c0 - left) * in->stride[r - 1];
      copy_run (dst + c0 * es, (const guint8 *) in->data + src_off * (gint64) es,
                c1 - c0, in->stride[r - 1], es);
      fill_run (dst + c1 * es, w_out - c1, job->value, es);
    }
}

static void
pad_run (TvwOpCall *call)
{
  const TvwPadParams *p = call->params;
  gint64 after[TVW_MAX_RANK], numel = tvw_array_numel (&call->out[0]);
  PadJob job = { &call->in[0], &call->out[0] };

  if (numel == 0)
    return;
  pad_amounts (p, job.out->rank, job.before, after);
  pad_value (job.in, p->value, job.value);
  tvw_parallel_range (numel / job.out->shape[job.out->rank - 1],
                      threads_for (numel, call->n_threads), pad_rows, &job);
}

const TvwOpClass tvw_op_pad = {
  .name = "pad",
  .flags = TVW_OP_STRIDED,
  .infer = pad_infer,
  .run = pad_run,
};

TvwVal
tvw_net_pad (TvwNet       *net,
             TvwVal        x,
             int           n_pads,
             const gint64 *pads,
             double        value)
{
  TvwPadParams p = { .n_pads = n_pads, .value = value };

  for (int i = 0; i < 2 * CLAMP (n_pads, 0, TVW_MAX_RANK); i++)
    p.pads[i] = pads[i];
  if (n_pads > TVW_MAX_RANK)
    p.n_pads = TVW_MAX_RANK + 1;  /* refused by infer */
  return add_one (net, &tvw_op_pad, x, &p, sizeof p);
}

/* ---- roll ---------------------------------------------------------------- */

static gboolean
roll_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwRollParams *p = call->params;
  const TvwArray *in = &call->in[0];
  int dim;

  if (!check_quantization (call, 0, error) ||
      !tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error))
    return FALSE;
  if (p->n_dims < 1 || p->n_dims > TVW_ROLL_MAX_DIMS)
    {
      tvw_op_set_invalid (call, error, "%d dims to roll, expected 1 to %d", p->n_dims, TVW_ROLL_MAX_DIMS);
      return FALSE;
    }
  for (int i = 0; i < p->n_dims; i++)
    if (!tvw_op_check_dim (call, p->dims[i], in->rank, &dim, error))
      return FALSE;

  tvw_array_set_contiguous (output_like_input (call, 0));
  return TRUE;
}

typedef struct
{
  const TvwArray *in, *out;
  gint64          shift[TVW_MAX_RANK];   /* in [0, size) */
} RollJob;

static void
roll_rows (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const RollJob *job = data;
  const TvwArray *in = job->in, *out = job->out;
  const int r = out->rank;
  const gsize es = tvw_elem_size (out->elem);
  const gint64 w = out->shape[r - 1], s = job->shift[r - 1], ws = in->stride[r - 1];

  for (gsize row = begin; row < end; row++)
    {
      guint8 *dst = (guint8 *) out->data + row * w * es;
      gint64 rest = (gint64) row, src_off = 0;
      const guint8 *src;

      for (int d = r - 2; d >= 0; d--)
        {
          gint64 i = rest % out->shape[d] - job->shift[d];

          rest /= out->shape[d];
          src_off += (i < 0 ? i + out->shape[d] : i) * in->stride[d];
        }
      src = (const guint8 *) in->data + src_off * (gint64) es;

      /* out[j] = in[j − s]: the last s elements come first. */
      copy_run (dst, src + (w - s) * ws * (gint64) es, s, ws, es);
      copy_run (dst + s * es, src, w - s, ws, es);
    }
}

static void
roll_run (TvwOpCall *call)
{
  const TvwRollParams *p = call->params;
  gint64 numel = tvw_array_numel (&call->out[0]);
  RollJob job = { &call->in[0], &call->out[0] };
  const int r = job.out->rank;

  if (numel == 0)
    return;
  /* Shifts of one dimension add up, as in torch.roll. */
  for (int i = 0; i < p->n_dims; i++)
    {
      int d = tvw_op_resolve_dim (p->dims[i], r);
      gint64 size = job.out->shape[d];

      job.shift[d] = ((job.shift[d] + p->shifts[i] % size) % size + size) % size;
    }
  tvw_parallel_range (numel / job.out->shape[r - 1], threads_for (numel, call->n_threads),
                      roll_rows, &job);
}

const TvwOpClass tvw_op_roll = {
  .name = "roll",
  .flags = TVW_OP_STRIDED,
  .infer = roll_infer,
  .run = roll_run,
};

TvwVal
tvw_net_roll (TvwNet       *net,
              TvwVal        x,
              int           n_dims,
              const gint64 *shifts,
              const int    *dims)
{
  TvwRollParams p = { .n_dims = n_dims };

  for (int i = 0; i < CLAMP (n_dims, 0, TVW_ROLL_MAX_DIMS); i++)
    {
      p.shifts[i] = shifts[i];
      p.dims[i] = dims[i];
    }
  return add_one (net, &tvw_op_roll, x, &p, sizeof p);
}

/* ---- channel shuffle ----------------------------------------------------- */

/* torchvision's channel_shuffle: x.view (N, g, C/g, H, W).transpose (1, 2)
 * .reshape (N, C, H, W), so output channel a·g + b is input channel
 * b·(C/g) + a.  A channels-last input (what ShuffleNet V2 runs on) stays
 * channels-last and each pixel is a permutation of one contiguous row;
 * otherwise the output is row-major and each channel plane one copy.
 *
 * With two inputs (two groups only) the op is the shuffle of their
 * concatenation along the channels, which the graph passes fuse into it
 * (ShuffleNet V2's torch.cat + channel_shuffle): group b is input b, so
 * the output interleaves the inputs' channels and nothing is concatenated
 * first. */
static gboolean
shuffle_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwShuffleParams *p = call->params;
  const TvwArray *in = &call->in[0];
  gboolean channels_last = tvw_array_is_channels_last (in) && !tvw_array_is_contiguous (in);
  TvwArray *out;

  if (call->n_in > 2)
    {
      tvw_op_set_invalid (call, error, "%d inputs: one, or the two groups", call->n_in);
      return FALSE;
    }
  if (!check_quantization (call, 0, error) ||
      !tvw_op_check_rank (call, 0, 4, 4, error))
    return FALSE;
  if (call->n_in == 2)
    {
      const TvwArray *in1 = &call->in[1];

      if (p->groups != 2)
        {
          tvw_op_set_invalid (call, error, "two inputs are two groups, not %d", p->groups);
          return FALSE;
        }
      if (!tvw_op_check_elem (call, 1, in->elem, error))
        return FALSE;
      if (!tvw_array_same_shape (in, in1) || in->quantized || in1->quantized)
        {
          char a[TVW_SHAPE_CHARS], b[TVW_SHAPE_CHARS];

          tvw_array_format_shape (in, a);
          tvw_array_format_shape (in1, b);
          tvw_op_set_invalid (call, error, "inputs of shapes %s and %s: two groups need the same "
                              "shape and no quantization", a, b);
          return FALSE;
        }
      /* As concat: inputs that are channels-last views of wider maps
       * (ShuffleNet's split halves) count as channels-last.  Both must
       * have their channels side by side: shuffle_pixels() reads them so. */
      channels_last = TRUE;
      for (int i = 0; i < 2; i++)
        channels_last &= call->in[i].stride[1] == 1 &&
                         (tvw_array_is_channels_last (&call->in[i]) ||
                          tvw_array_channels_last_pitch (&call->in[i]) > 0);
      channels_last &= !tvw_array_is_contiguous (in) || tvw_array_channels_last_pitch (in) > 0;
    }
  else if (p->groups < 1 || in->shape[1] % p->groups != 0)
    {
      char shape[TVW_SHAPE_CHARS];

      tvw_array_format_shape (in, shape);

      tvw_op_set_invalid (call, error, "%d groups do not divide the channels of input %s",
                   p->groups, shape);
      return FALSE;
    }

  out = output_like_input (call, 0);
  out->shape[1] *= call->n_in;
  if (channels_last)
    tvw_array_set_channels_last (out);
  else
    tvw_array_set_contiguous (out);
  return TRUE;
}

typedef struct
{
  const TvwArray *in0, *in1, *out;   /* in1: the second group, or NULL */
  gint64          groups, per_group;
} ShuffleJob;

/* The input group @b comes from: the second input with two. */
static const TvwArray *
shuffle_input (const ShuffleJob *job,
               gint64            b)
{
  return job->in1 != NULL && b == 1 ? job->in1 : job->in0;
}

/* Where output channel a·g + b of pixel (@n, @h, @w) comes from: input
 * @b's channel @a with two inputs, else channel b·(C/g) + a of the
 * input. */
static const guint8 *
shuffle_source (const ShuffleJob *job,
                gint64            n,
                gint64            h,
                gint64            w,
                gint64            b,
                gint64            a,
                gsize             es)
{
  const TvwArray *in = shuffle_input (job, b);
  const gint64 c = job->in1 == NULL ? b * job->per_group + a : a;

  return (const guint8 *) in->data +
    (n * in->stride[0] + c * in->stride[1] + h * in->stride[2] + w * in->stride[3]) * (gint64) es;
}

/* One pixel (n, h, w) per row: channels contiguous on both sides. */
static void
shuffle_pixels (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const ShuffleJob *job = data;
  const TvwArray *out = job->out;
  const gsize es = tvw_elem_size (out->elem);
  const gint64 g = job->groups, cpg = job->per_group, H = out->shape[2], W = out->shape[3];

  for (gsize row = begin; row < end; row++)
    {
      gint64 w = row % W, h = row / W % H, n = row / W / H;
      guint8 *dst = (guint8 *) out->data +
        (n * out->stride[0] + h * out->stride[2] + w * out->stride[3]) * (gint64) es;

      /* ShuffleNet's two groups of floats: the two halves interleaved,
       * a loop the compiler vectorises (unpack low / high). */
      if (es == 4 && g == 2)
        {
          const guint32 *restrict s0 = (const guint32 *) shuffle_source (job, n, h, w, 0, 0, es);
          const guint32 *restrict s1 = (const guint32 *) shuffle_source (job, n, h, w, 1, 0, es);
          guint32 *restrict d = (guint32 *) dst;

          for (gint64 a = 0; a < cpg; a++)
            {
              d[2 * a] = s0[a];
              d[2 * a + 1] = s1[a];
            }
          continue;
        }

      for (gint64 b = 0; b < g; b++)
        {
          const guint8 *s = shuffle_source (job, n, h, w, b, 0, es);

          if (es == 4)
            for (gint64 a = 0; a < cpg; a++)
              ((guint32 *) dst)[a * g + b] = ((const guint32 *) s)[a];
          else if (es == 8)
            for (gint64 a = 0; a < cpg; a++)
              ((guint64 *) dst)[a * g + b] = ((const guint64 *) s)[a];
          else
            for (gint64 a = 0; a < cpg; a++)
              dst[a * g + b] = s[a];
        }
    }
}

/* One output channel plane (n, c) per row, from any input strides. */
static void
shuffle_planes (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const ShuffleJob *job = data;
  const TvwArray *out = job->out;
  const gsize es = tvw_elem_size (out->elem);
  const gint64 C = out->shape[1], H = out->shape[2], W = out->shape[3];

  for (gsize row = begin; row < end; row++)
    {
      gint64 c = row % C, n = row / C;
      const TvwArray *in = shuffle_input (job, c % job->groups);
      const gboolean flat = in->stride[3] == 1 && (H == 1 || in->stride[2] == W);
      const guint8 *src = shuffle_source (job, n, 0, 0, c % job->groups, c / job->groups, es);
      guint8 *dst = (guint8 *) out->data + row * H * W * es;

      if (flat)
        memcpy (dst, src, H * W * es);
      else
        for (gint64 h = 0; h < H; h++)
          copy_run (dst + h * W * es, src + h * in->stride[2] * (gint64) es, W, in->stride[3], es);
    }
}

static void
shuffle_run (TvwOpCall *call)
{
  const TvwShuffleParams *p = call->params;
  const TvwArray *out = &call->out[0];
  gint64 numel = tvw_array_numel (out);
  ShuffleJob job = { &call->in[0], call->n_in == 2 ? &call->in[1] : NULL, out, p->groups,
                     out->shape[1] / p->groups };
  int n_threads = threads_for (numel, call->n_threads);

  if (numel == 0)
    return;
  if (out->stride[1] == 1 && call->in[0].stride[1] == 1 &&
      (call->n_in == 1 || call->in[1].stride[1] == 1))
    tvw_parallel_range (out->shape[0] * out->shape[2] * out->shape[3], n_threads,
                        shuffle_pixels, &job);
  else
    tvw_parallel_range (out->shape[0] * out->shape[1], n_threads, shuffle_planes, &job);
}

const TvwOpClass tvw_op_channel_shuffle = {
  .name = "channel_shuffle",
  .flags = TVW_OP_STRIDED,
  .infer = shuffle_infer,
  .run = shuffle_run,
};

TvwVal
tvw_net_channel_shuffle (TvwNet *net,
                         TvwVal  x,
                         int     groups)
{
  TvwShuffleParams p = { groups };

  return add_one (net, &tvw_op_channel_shuffle, x, &p, sizeof p);
}
