/* tvw-tensor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-tensor-private.h"

/**
 * TvwTensor:
 *
 * An immutable-shape, N-dimensional array of float32 or uint8 values in
 * row-major (C) order.
 *
 * Images and batches are NCHW, as in PyTorch.  The few operations it offers
 * are the ones needed to read a model's output the way torchvision's
 * examples do:
 *
 * ```c
 * g_autoptr(TvwTensor) logits = tvw_model_forward (model, batch, NULL, &error);
 * g_autoptr(TvwTensor) row = tvw_tensor_squeeze (logits, 0);
 * g_autoptr(TvwTensor) prediction = tvw_tensor_softmax (row, 0);
 * gint64 class_id = tvw_tensor_argmax (prediction);
 * double score = tvw_tensor_get_item (prediction, class_id);
 * ```
 *
 * Operations never modify a tensor in place: they return a new one.
 */

struct _TvwTensor
{
  GObject   parent_instance;

  TvwDType  dtype;
  guint     n_dims;
  gint64    shape[TVW_TENSOR_MAX_DIMS];
  gsize     n_elements;
  GBytes   *bytes;
};

G_DEFINE_FINAL_TYPE (TvwTensor, tvw_tensor, G_TYPE_OBJECT)

static void
tvw_tensor_finalize (GObject *object)
{
  TvwTensor *self = (TvwTensor *)object;

  g_clear_pointer (&self->bytes, g_bytes_unref);

  G_OBJECT_CLASS (tvw_tensor_parent_class)->finalize (object);
}

static void
tvw_tensor_class_init (TvwTensorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_tensor_finalize;
}

static void
tvw_tensor_init (TvwTensor *self)
{
}

static gsize
dtype_size (TvwDType dtype)
{
  switch (dtype)
    {
    case TVW_DTYPE_UINT8: return 1;
    case TVW_DTYPE_INT64: return 8;
    case TVW_DTYPE_FLOAT32:
    default:              return 4;
    }
}

/* Checks a shape and computes its element count without overflow. */
static gboolean
shape_count (const gint64  *shape,
             guint          n_dims,
             TvwDType       dtype,
             gsize         *out_count,
             GError       **error)
{
  gsize count = 1;

  if (n_dims > TVW_TENSOR_MAX_DIMS)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A tensor has at most %d dimensions, not %u",
                   TVW_TENSOR_MAX_DIMS, n_dims);
      return FALSE;
    }

  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] < 0)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "Dimension %u of a tensor is negative (%" G_GINT64_FORMAT ")",
                       i, shape[i]);
          return FALSE;
        }
      if (shape[i] != 0 && count > G_MAXSIZE / dtype_size (dtype) / (gsize) shape[i])
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "A tensor of that shape would not fit in memory");
          return FALSE;
        }
      count *= (gsize) shape[i];
    }

  *out_count = count;
  return TRUE;
}

TvwTensor *
tvw_tensor_new_take (TvwDType      dtype,
                     const gint64 *shape,
                     guint         n_dims,
                     GBytes       *bytes)
{
  TvwTensor *self;

  self = g_object_new (TVW_TYPE_TENSOR, NULL);
  self->dtype = dtype;
  self->n_dims = n_dims;
  self->n_elements = 1;
  for (guint i = 0; i < n_dims; i++)
    {
      self->shape[i] = shape[i];
      self->n_elements *= (gsize) shape[i];
    }
  self->bytes = bytes;

  g_assert (g_bytes_get_size (bytes) == self->n_elements * dtype_size (dtype));

  return self;
}

/**
 * tvw_tensor_new:
 * @dtype: the element type
 * @shape: (array length=n_dims): the size of each dimension
 * @n_dims: the number of dimensions
 *
 * Creates a tensor filled with zeros.
 *
 * Returns: (transfer full): a new tensor
 */
TvwTensor *
tvw_tensor_new (TvwDType      dtype,
                const gint64 *shape,
                guint         n_dims)
{
  g_autoptr(GError) error = NULL;
  gsize count;

  g_return_val_if_fail (n_dims == 0 || shape != NULL, NULL);

  if (!shape_count (shape, n_dims, dtype, &count, &error))
    {
      g_critical ("%s", error->message);
      return NULL;
    }

  return tvw_tensor_new_take (dtype, shape, n_dims,
                              g_bytes_new_take (g_malloc0 (MAX (1, count * dtype_size (dtype))),
                                                count * dtype_size (dtype)));
}

/**
 * tvw_tensor_new_from_bytes:
 * @dtype: the element type
 * @shape: (array length=n_dims): the size of each dimension
 * @n_dims: the number of dimensions
 * @bytes: the elements in row-major order, native byte order
 * @error: return location for an error
 *
 * Creates a tensor over @bytes without copying them.
 *
 * Returns: (transfer full): a new tensor, or %NULL if the size of @bytes does
 *   not match @shape
 */
TvwTensor *
tvw_tensor_new_from_bytes (TvwDType       dtype,
                           const gint64  *shape,
                           guint          n_dims,
                           GBytes        *bytes,
                           GError       **error)
{
  gsize count;

  g_return_val_if_fail (n_dims == 0 || shape != NULL, NULL);
  g_return_val_if_fail (bytes != NULL, NULL);

  if (!shape_count (shape, n_dims, dtype, &count, error))
    return NULL;

  if (g_bytes_get_size (bytes) != count * dtype_size (dtype))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A tensor of %" G_GSIZE_FORMAT " elements needs %" G_GSIZE_FORMAT
                   " bytes, not %" G_GSIZE_FORMAT,
                   count, count * dtype_size (dtype), g_bytes_get_size (bytes));
      return NULL;
    }

  return tvw_tensor_new_take (dtype, shape, n_dims, g_bytes_ref (bytes));
}

/**
 * tvw_tensor_new_from_data: (skip)
 * @data: (array): float32 elements in row-major order
 * @shape: (array length=n_dims): the size of each dimension
 * @n_dims: the number of dimensions
 *
 * Creates a float32 tensor holding a copy of @data.
 *
 * Returns: (transfer full): a new tensor
 */
TvwTensor *
tvw_tensor_new_from_data (const float  *data,
                          const gint64 *shape,
                          guint         n_dims)
{
  TvwTensor *self;

  self = tvw_tensor_new (TVW_DTYPE_FLOAT32, shape, n_dims);
  if (self != NULL && self->n_elements > 0)
    memcpy (tvw_tensor_get_data (self), data, self->n_elements * sizeof (float));

  return self;
}

/**
 * tvw_tensor_get_dtype:
 * @self: a tensor
 *
 * Returns: the element type
 */
TvwDType
tvw_tensor_get_dtype (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), TVW_DTYPE_FLOAT32);

  return self->dtype;
}

/**
 * tvw_tensor_get_n_dims:
 * @self: a tensor
 *
 * Returns: the number of dimensions
 */
guint
tvw_tensor_get_n_dims (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), 0);

  return self->n_dims;
}

/**
 * tvw_tensor_get_shape:
 * @self: a tensor
 * @n_dims: (out) (optional): the number of dimensions
 *
 * Returns: (array length=n_dims) (transfer none): the size of each dimension
 */
const gint64 *
tvw_tensor_get_shape (TvwTensor *self,
                      guint     *n_dims)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);

  if (n_dims != NULL)
    *n_dims = self->n_dims;

  return self->shape;
}

/**
 * tvw_tensor_get_dim:
 * @self: a tensor
 * @dim: a dimension; negative values count from the end
 *
 * Returns: the size of dimension @dim
 */
gint64
tvw_tensor_get_dim (TvwTensor *self,
                    int        dim)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), 0);

  if (dim < 0)
    dim += (int) self->n_dims;
  g_return_val_if_fail (dim >= 0 && dim < (int) self->n_dims, 0);

  return self->shape[dim];
}

/**
 * tvw_tensor_get_n_elements:
 * @self: a tensor
 *
 * Returns: the number of elements
 */
gsize
tvw_tensor_get_n_elements (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), 0);

  return self->n_elements;
}

/**
 * tvw_tensor_get_bytes:
 * @self: a tensor
 *
 * Returns: (transfer full): the elements in row-major order
 */
GBytes *
tvw_tensor_get_bytes (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);

  return g_bytes_ref (self->bytes);
}

/**
 * tvw_tensor_get_data: (skip)
 * @self: a float32 tensor
 *
 * Returns: the elements, owned by @self
 */
float *
tvw_tensor_get_data (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (self->dtype == TVW_DTYPE_FLOAT32, NULL);

  return (float *) g_bytes_get_data (self->bytes, NULL);
}

/**
 * tvw_tensor_get_data_uint8: (skip)
 * @self: a uint8 tensor
 *
 * Returns: the elements, owned by @self
 */
guint8 *
tvw_tensor_get_data_uint8 (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (self->dtype == TVW_DTYPE_UINT8, NULL);

  return (guint8 *) g_bytes_get_data (self->bytes, NULL);
}

/**
 * tvw_tensor_get_data_int64: (skip)
 * @self: an int64 tensor
 *
 * Returns: the elements, owned by @self
 */
gint64 *
tvw_tensor_get_data_int64 (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (self->dtype == TVW_DTYPE_INT64, NULL);

  return (gint64 *) g_bytes_get_data (self->bytes, NULL);
}

/**
 * tvw_tensor_to_float:
 * @self: a tensor
 *
 * Converts uint8 or int64 values to float32 without scaling (like
 * PyTorch's `tensor.float()`).
 *
 * Returns: (transfer full): @self if it is float32 already, else a new tensor
 */
TvwTensor *
tvw_tensor_to_float (TvwTensor *self)
{
  TvwTensor *out;
  float *dst;

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);

  if (self->dtype == TVW_DTYPE_FLOAT32)
    return g_object_ref (self);

  out = tvw_tensor_new (TVW_DTYPE_FLOAT32, self->shape, self->n_dims);
  dst = tvw_tensor_get_data (out);
  for (gsize i = 0; i < self->n_elements; i++)
    dst[i] = (float) tvw_tensor_get_item (self, (gint64) i);

  return out;
}

/**
 * tvw_tensor_reshape:
 * @self: a tensor
 * @shape: (array length=n_dims): the new shape
 * @n_dims: the number of dimensions
 * @error: return location for an error
 *
 * Returns a tensor sharing the data of @self with another shape of the same
 * number of elements.
 *
 * Returns: (transfer full): a new tensor, or %NULL if the element counts differ
 */
TvwTensor *
tvw_tensor_reshape (TvwTensor     *self,
                    const gint64  *shape,
                    guint          n_dims,
                    GError       **error)
{
  gsize count;

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);

  if (!shape_count (shape, n_dims, self->dtype, &count, error))
    return NULL;

  if (count != self->n_elements)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Cannot reshape a tensor of %" G_GSIZE_FORMAT " elements to "
                   "one of %" G_GSIZE_FORMAT, self->n_elements, count);
      return NULL;
    }

  return tvw_tensor_new_take (self->dtype, shape, n_dims, g_bytes_ref (self->bytes));
}

/**
 * tvw_tensor_new_from_pixbuf:
 * @pixbuf: an 8-bit RGB or RGBA image
 *
 * The image's pixels as a 3×H×W uint8 tensor, channels first and any alpha
 * dropped: torchvision's `pil_to_tensor()` of the same image.
 *
 * Returns: (transfer full): a new tensor
 */
TvwTensor *
tvw_tensor_new_from_pixbuf (GdkPixbuf *pixbuf)
{
  int width, height, bpp, stride;
  const guint8 *pixels;
  gsize plane;
  guint8 *data;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8, NULL);
  g_return_val_if_fail (gdk_pixbuf_get_n_channels (pixbuf) >= 3, NULL);

  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  bpp = gdk_pixbuf_get_n_channels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  plane = (gsize) width * height;
  data = g_malloc (MAX (plane * 3, 1));

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < 3; c++)
        data[c * plane + (gsize) y * width + x] = pixels[(gsize) y * stride + (gsize) x * bpp + c];

  return tvw_tensor_new_take (TVW_DTYPE_UINT8, (gint64[]) { 3, height, width }, 3,
                              g_bytes_new_take (data, plane * 3));
}

/**
 * tvw_tensor_unsqueeze:
 * @self: a tensor
 * @dim: where to insert a dimension of size 1; negative values count from
 *   the end
 *
 * Like PyTorch's `tensor.unsqueeze(dim)`; `unsqueeze (img, 0)` makes a batch
 * of one image.
 *
 * Returns: (transfer full): a new tensor sharing the data of @self
 */
TvwTensor *
tvw_tensor_unsqueeze (TvwTensor *self,
                      int        dim)
{
  gint64 shape[TVW_TENSOR_MAX_DIMS];

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (self->n_dims < TVW_TENSOR_MAX_DIMS, NULL);

  if (dim < 0)
    dim += (int) self->n_dims + 1;
  g_return_val_if_fail (dim >= 0 && dim <= (int) self->n_dims, NULL);

  for (int i = 0, j = 0; i < (int) self->n_dims + 1; i++)
    shape[i] = i == dim ? 1 : self->shape[j++];

  return tvw_tensor_new_take (self->dtype, shape, self->n_dims + 1, g_bytes_ref (self->bytes));
}

/**
 * tvw_tensor_squeeze:
 * @self: a tensor
 * @dim: the dimension to remove if its size is 1; negative values count from
 *   the end
 *
 * Like PyTorch's `tensor.squeeze(dim)`: a dimension whose size is not 1 is
 * kept.
 *
 * Returns: (transfer full): a tensor sharing the data of @self
 */
TvwTensor *
tvw_tensor_squeeze (TvwTensor *self,
                    int        dim)
{
  gint64 shape[TVW_TENSOR_MAX_DIMS];

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);

  if (dim < 0)
    dim += (int) self->n_dims;
  g_return_val_if_fail (dim >= 0 && dim < (int) self->n_dims, NULL);

  if (self->shape[dim] != 1)
    return g_object_ref (self);

  for (int i = 0, j = 0; i < (int) self->n_dims; i++)
    if (i != dim)
      shape[j++] = self->shape[i];

  return tvw_tensor_new_take (self->dtype, shape, self->n_dims - 1, g_bytes_ref (self->bytes));
}

/**
 * tvw_tensor_softmax:
 * @self: a float32 tensor
 * @dim: the dimension to normalise over; negative values count from the end
 *
 * Like PyTorch's `tensor.softmax(dim)`, computed stably (the maximum is
 * subtracted first).
 *
 * Returns: (transfer full): a new tensor
 */
TvwTensor *
tvw_tensor_softmax (TvwTensor *self,
                    int        dim)
{
  TvwTensor *out;
  const float *src;
  float *dst;
  gsize outer = 1, inner = 1, len;

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (self->dtype == TVW_DTYPE_FLOAT32, NULL);

  if (dim < 0)
    dim += (int) self->n_dims;
  g_return_val_if_fail (dim >= 0 && dim < (int) self->n_dims, NULL);

  for (int i = 0; i < dim; i++)
    outer *= (gsize) self->shape[i];
  for (int i = dim + 1; i < (int) self->n_dims; i++)
    inner *= (gsize) self->shape[i];
  len = (gsize) self->shape[dim];

  out = tvw_tensor_new (TVW_DTYPE_FLOAT32, self->shape, self->n_dims);
  src = tvw_tensor_get_data (self);
  dst = tvw_tensor_get_data (out);

  for (gsize o = 0; o < outer; o++)
    for (gsize in = 0; in < inner; in++)
      {
        const float *s = src + o * len * inner + in;
        float *d = dst + o * len * inner + in;
        float max = -INFINITY;
        double sum = 0;

        for (gsize k = 0; k < len; k++)
          max = MAX (max, s[k * inner]);
        for (gsize k = 0; k < len; k++)
          {
            d[k * inner] = expf (s[k * inner] - max);
            sum += d[k * inner];
          }
        for (gsize k = 0; k < len; k++)
          d[k * inner] = (float) (d[k * inner] / sum);
      }

  return out;
}

/**
 * tvw_tensor_index:
 * @self: a tensor with at least one dimension
 * @index: an index into the first dimension; negative values count from the
 *   end
 *
 * Like PyTorch's `tensor[index]`.
 *
 * Returns: (transfer full): a new tensor with one dimension less, sharing the
 *   data of @self
 */
TvwTensor *
tvw_tensor_index (TvwTensor *self,
                  gint64     index)
{
  gsize row, esize;

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (self->n_dims > 0, NULL);

  if (index < 0)
    index += self->shape[0];
  g_return_val_if_fail (index >= 0 && index < self->shape[0], NULL);

  esize = dtype_size (self->dtype);
  row = self->n_elements / (gsize) self->shape[0];

  return tvw_tensor_new_take (self->dtype, self->shape + 1, self->n_dims - 1,
                              g_bytes_new_from_bytes (self->bytes, (gsize) index * row * esize,
                                                      row * esize));
}

/**
 * tvw_tensor_get_item:
 * @self: a tensor
 * @index: a flat (row-major) index; negative values count from the end
 *
 * Returns: the element at @index as a double
 */
double
tvw_tensor_get_item (TvwTensor *self,
                     gint64     index)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), 0.);

  if (index < 0)
    index += (gint64) self->n_elements;
  g_return_val_if_fail (index >= 0 && (gsize) index < self->n_elements, 0.);

  if (self->dtype == TVW_DTYPE_UINT8)
    return tvw_tensor_get_data_uint8 (self)[index];
  if (self->dtype == TVW_DTYPE_INT64)
    return (double) tvw_tensor_get_data_int64 (self)[index];

  return tvw_tensor_get_data (self)[index];
}

/**
 * tvw_tensor_item:
 * @self: a tensor of one element
 *
 * Like PyTorch's `tensor.item()`.
 *
 * Returns: the only element of @self
 */
double
tvw_tensor_item (TvwTensor *self)
{
  g_return_val_if_fail (TVW_IS_TENSOR (self), 0.);
  g_return_val_if_fail (self->n_elements == 1, 0.);

  return tvw_tensor_get_item (self, 0);
}

/**
 * tvw_tensor_argmax:
 * @self: a tensor with at least one element
 *
 * Like PyTorch's `tensor.argmax()`: the flat index of the largest element
 * (the first one on ties).
 *
 * Returns: the index
 */
gint64
tvw_tensor_argmax (TvwTensor *self)
{
  gint64 best = 0;

  g_return_val_if_fail (TVW_IS_TENSOR (self), -1);
  g_return_val_if_fail (self->n_elements > 0, -1);

  for (gsize i = 1; i < self->n_elements; i++)
    if (tvw_tensor_get_item (self, i) > tvw_tensor_get_item (self, best))
      best = i;

  return best;
}

/* The order of torch.topk: larger first, NaN above everything, the lower
 * index first among equal values. */
static gboolean
ranks_before (double  a,
              gint64  ia,
              double  b,
              gint64  ib)
{
  if (isnan (a) || isnan (b))
    return isnan (a) && (!isnan (b) || ia < ib);
  return a > b || (a == b && ia < ib);
}

/**
 * tvw_tensor_topk:
 * @self: a float32 tensor with at least one dimension
 * @k: how many elements to keep along the last dimension
 * @indices: (out) (optional) (transfer full) (element-type gint64): return
 *   location for the indices of the kept elements along the last dimension,
 *   in the same row-major order as the values
 * @error: return location for an error
 *
 * Like PyTorch's `tensor.topk(k)`: the @k largest elements along the last
 * dimension, largest first (NaN counts as the largest value, as in
 * PyTorch). Equal values keep their order. A @k larger than the last
 * dimension is %TVW_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): a new tensor of the values, shaped like @self
 *   with @k as its last dimension, or %NULL with @error set
 */
TvwTensor *
tvw_tensor_topk (TvwTensor  *self,
                 guint       k,
                 GArray    **indices,
                 GError    **error)
{
  g_autoptr(GArray) order = NULL;
  g_autofree gint64 *row = NULL;
  gint64 shape[TVW_TENSOR_MAX_DIMS];
  TvwTensor *out;
  const float *src;
  float *dst;
  gsize len, rows;

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->dtype != TVW_DTYPE_FLOAT32 || self->n_dims == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "topk needs a float32 tensor with at least one dimension");
      return NULL;
    }
  len = (gsize) self->shape[self->n_dims - 1];
  if (k > len)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "topk: k (%u) is larger than the last dimension (%" G_GSIZE_FORMAT ")",
                   k, len);
      return NULL;
    }

  memcpy (shape, self->shape, self->n_dims * sizeof (gint64));
  shape[self->n_dims - 1] = k;
  out = tvw_tensor_new (TVW_DTYPE_FLOAT32, shape, self->n_dims);
  rows = len > 0 ? self->n_elements / len : 0;
  order = g_array_sized_new (FALSE, FALSE, sizeof (gint64), (guint) (rows * k));
  row = g_new (gint64, MAX (k, 1));
  src = tvw_tensor_get_data (self);
  dst = tvw_tensor_get_data (out);

  for (gsize r = 0; r < rows; r++)
    {
      const float *s = src + r * len;
      guint n = 0;

      /* Insertion into the k best so far: k is small (top-5) next to len. */
      for (gsize i = 0; i < len; i++)
        {
          guint at = n;

          while (at > 0 && ranks_before (s[i], (gint64) i, s[row[at - 1]], row[at - 1]))
            at--;
          if (at >= k)
            continue;
          if (n < k)
            n++;
          memmove (row + at + 1, row + at, (n - 1 - at) * sizeof (gint64));
          row[at] = (gint64) i;
        }
      for (guint j = 0; j < k; j++)
        dst[r * k + j] = s[row[j]];
      g_array_append_vals (order, row, k);
    }

  if (indices != NULL)
    *indices = g_steal_pointer (&order);

  return out;
}

/**
 * tvw_tensor_stack:
 * @tensors: (array length=n_tensors): tensors of one shape and type
 * @n_tensors: the number of tensors, at least one
 * @error: return location for an error
 *
 * Like `torch.stack(tensors)`: joins the tensors along a new first dimension,
 * e.g. several CHW images into an NCHW batch.
 *
 * Returns: (transfer full): a new tensor, or %NULL if the shapes differ
 */
TvwTensor *
tvw_tensor_stack (TvwTensor **tensors,
                  guint       n_tensors,
                  GError    **error)
{
  TvwTensor *first, *out;
  gint64 shape[TVW_TENSOR_MAX_DIMS];
  gsize row;
  guint8 *dst;

  g_return_val_if_fail (tensors != NULL && n_tensors > 0, NULL);

  first = tensors[0];
  g_return_val_if_fail (TVW_IS_TENSOR (first), NULL);

  if (first->n_dims >= TVW_TENSOR_MAX_DIMS)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Cannot stack tensors of %u dimensions", first->n_dims);
      return NULL;
    }

  for (guint i = 1; i < n_tensors; i++)
    {
      g_return_val_if_fail (TVW_IS_TENSOR (tensors[i]), NULL);

      if (tensors[i]->dtype != first->dtype || tensors[i]->n_dims != first->n_dims ||
          memcmp (tensors[i]->shape, first->shape, first->n_dims * sizeof (gint64)) != 0)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "Cannot stack tensor %u: its shape or type differs from the first one", i);
          return NULL;
        }
    }

  shape[0] = n_tensors;
  memcpy (shape + 1, first->shape, first->n_dims * sizeof (gint64));
  out = tvw_tensor_new (first->dtype, shape, first->n_dims + 1);
  if (out == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT, "The stacked tensor is too large");
      return NULL;
    }

  row = first->n_elements * dtype_size (first->dtype);
  dst = (guint8 *) g_bytes_get_data (out->bytes, NULL);
  for (guint i = 0; i < n_tensors; i++)
    if (row > 0)
      memcpy (dst + i * row, g_bytes_get_data (tensors[i]->bytes, NULL), row);

  return out;
}

/**
 * tvw_tensor_to_string:
 * @self: a tensor
 *
 * Describes the tensor for debugging, e.g. `tensor(float32, [1, 1000])`.
 *
 * Returns: (transfer full): a new string
 */
char *
tvw_tensor_to_string (TvwTensor *self)
{
  GString *str;

  g_return_val_if_fail (TVW_IS_TENSOR (self), NULL);

  str = g_string_new ("tensor(");
  g_string_append (str, self->dtype == TVW_DTYPE_UINT8 ? "uint8" :
                        self->dtype == TVW_DTYPE_INT64 ? "int64" : "float32");
  g_string_append (str, ", [");
  for (guint i = 0; i < self->n_dims; i++)
    g_string_append_printf (str, "%s%" G_GINT64_FORMAT, i ? ", " : "", self->shape[i]);
  g_string_append (str, "])");

  return g_string_free (str, FALSE);
}
