/* test-tensor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <tvw.h>

static TvwTensor *
make_row (const float *values,
          gsize        n)
{
  gint64 shape[2] = { 1, (gint64) n };

  return tvw_tensor_new_from_data (values, shape, 2);
}

/* The blog's "model(batch).squeeze(0).softmax(0)", argmax, item. */
static void
test_blog_snippet (void)
{
  const float logits[4] = { 1.f, 3.f, -2.f, 0.5f };
  g_autoptr(TvwTensor) out = make_row (logits, 4);
  g_autoptr(TvwTensor) row = tvw_tensor_squeeze (out, 0);
  g_autoptr(TvwTensor) prediction = tvw_tensor_softmax (row, 0);
  double sum = 0, denom = 0;
  gint64 class_id;

  g_assert_cmpuint (tvw_tensor_get_n_dims (row), ==, 1);
  for (int i = 0; i < 4; i++)
    {
      sum += tvw_tensor_get_item (prediction, i);
      denom += exp (logits[i]);
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);

  class_id = tvw_tensor_argmax (prediction);
  g_assert_cmpint (class_id, ==, 1);
  g_assert_cmpfloat_with_epsilon (tvw_tensor_get_item (prediction, class_id), exp (3.0) / denom, 1e-6);

  g_assert_finalize_object (g_steal_pointer (&prediction));
}

static void
test_shapes (void)
{
  gint64 shape[3] = { 3, 4, 5 };
  g_autoptr(TvwTensor) t = tvw_tensor_new (TVW_DTYPE_FLOAT32, shape, 3);
  g_autoptr(TvwTensor) u = tvw_tensor_unsqueeze (t, 0);
  g_autoptr(TvwTensor) v = tvw_tensor_unsqueeze (t, -1);
  g_autoptr(TvwTensor) same = tvw_tensor_squeeze (t, 0);
  g_autoptr(TvwTensor) row = tvw_tensor_index (t, -1);
  g_autoptr(GError) error = NULL;
  gint64 bad[2] = { 7, 9 };
  g_autoptr(TvwTensor) reshaped = tvw_tensor_reshape (t, bad, 2, &error);

  g_assert_cmpuint (tvw_tensor_get_n_dims (u), ==, 4);
  g_assert_cmpint (tvw_tensor_get_dim (u, 0), ==, 1);
  g_assert_cmpint (tvw_tensor_get_dim (v, -1), ==, 1);
  g_assert_cmpint (tvw_tensor_get_dim (v, 0), ==, 3);
  /* squeeze keeps a dimension whose size is not 1, like PyTorch */
  g_assert_cmpuint (tvw_tensor_get_n_dims (same), ==, 3);
  g_assert_cmpuint (tvw_tensor_get_n_dims (row), ==, 2);
  g_assert_cmpuint (tvw_tensor_get_n_elements (row), ==, 20);

  g_assert_null (reshaped);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

static void
test_index_shares_rows (void)
{
  const float values[6] = { 0, 1, 2, 3, 4, 5 };
  gint64 shape[2] = { 3, 2 };
  g_autoptr(TvwTensor) t = tvw_tensor_new_from_data (values, shape, 2);
  g_autoptr(TvwTensor) second = tvw_tensor_index (t, 1);

  g_assert_cmpfloat (tvw_tensor_get_item (second, 0), ==, 2);
  g_assert_cmpfloat (tvw_tensor_get_item (second, 1), ==, 3);
}

static void
test_stack (void)
{
  const float a[2] = { 1, 2 }, b[2] = { 3, 4 };
  gint64 shape[1] = { 2 }, other[1] = { 3 };
  g_autoptr(TvwTensor) ta = tvw_tensor_new_from_data (a, shape, 1);
  g_autoptr(TvwTensor) tb = tvw_tensor_new_from_data (b, shape, 1);
  g_autoptr(TvwTensor) tc = tvw_tensor_new (TVW_DTYPE_FLOAT32, other, 1);
  TvwTensor *pair[2] = { ta, tb };
  TvwTensor *mismatched[2] = { ta, tc };
  g_autoptr(TvwTensor) stacked = tvw_tensor_stack (pair, 2, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (tvw_tensor_get_dim (stacked, 0), ==, 2);
  g_assert_cmpfloat (tvw_tensor_get_item (stacked, 3), ==, 4);

  g_assert_null (tvw_tensor_stack (mismatched, 2, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

static void
test_from_bytes_size_mismatch (void)
{
  gint64 shape[2] = { 2, 2 };
  g_autoptr(GBytes) bytes = g_bytes_new_static ("abcdefghijklmno", 15);
  g_autoptr(GError) error = NULL;

  g_assert_null (tvw_tensor_new_from_bytes (TVW_DTYPE_FLOAT32, shape, 2, bytes, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

static void
test_uint8_to_float (void)
{
  gint64 shape[1] = { 3 };
  g_autoptr(GBytes) bytes = g_bytes_new_static ("\x00\x7f\xff", 3);
  g_autoptr(TvwTensor) t = tvw_tensor_new_from_bytes (TVW_DTYPE_UINT8, shape, 1, bytes, NULL);
  g_autoptr(TvwTensor) f = tvw_tensor_to_float (t);
  g_autofree char *desc = tvw_tensor_to_string (f);

  g_assert_cmpfloat (tvw_tensor_get_item (f, 2), ==, 255);
  g_assert_cmpstr (desc, ==, "tensor(float32, [3])");
}

/* torch.topk's order on ties (the lower index first) and NaN (largest),
 * row by row along the last dimension; the values the indices point at. */
static void
test_topk (void)
{
  const float values[12] = { 1.f, 5.f, 3.f, 5.f, -1.f, 0.f,
                             NAN, 2.f, 7.f, 2.f, -3.f, 8.f };
  const gint64 want[6] = { 1, 3, 2, 0, 5, 2 };
  gint64 shape[2] = { 2, 6 };
  g_autoptr(TvwTensor) t = tvw_tensor_new_from_data (values, shape, 2);
  g_autoptr(GArray) indices = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) top = tvw_tensor_topk (t, 3, &indices, &error);
  g_autoptr(TvwTensor) none = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (tvw_tensor_get_n_dims (top), ==, 2);
  g_assert_cmpint (tvw_tensor_get_dim (top, 0), ==, 2);
  g_assert_cmpint (tvw_tensor_get_dim (top, 1), ==, 3);
  g_assert_cmpuint (indices->len, ==, 6);
  g_assert_cmpmem (indices->data, 6 * sizeof (gint64), want, sizeof want);
  g_assert_cmpfloat (tvw_tensor_get_item (top, 0), ==, 5.f);
  g_assert_cmpfloat (tvw_tensor_get_item (top, 2), ==, 3.f);
  g_assert_true (isnan (tvw_tensor_get_item (top, 3)));
  g_assert_cmpfloat (tvw_tensor_get_item (top, 4), ==, 8.f);
  g_assert_cmpfloat (tvw_tensor_get_item (top, 5), ==, 7.f);

  none = tvw_tensor_topk (t, 7, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_finalize_object (g_steal_pointer (&top));
}

/* pil_to_tensor: channels first, alpha dropped, rows honouring the
 * pixbuf's rowstride. */
static void
test_from_pixbuf (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 3, 2);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  const int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autoptr(TvwTensor) t = NULL;
  const guint8 *data;
  guint n_dims;
  const gint64 *shape;

  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 3; x++)
      for (int c = 0; c < 4; c++)
        pixels[y * stride + x * 4 + c] = (guint8) (100 * c + 10 * y + x);

  t = tvw_tensor_new_from_pixbuf (pixbuf);
  shape = tvw_tensor_get_shape (t, &n_dims);
  g_assert_cmpuint (n_dims, ==, 3);
  g_assert_cmpint (shape[0], ==, 3);
  g_assert_cmpint (shape[1], ==, 2);
  g_assert_cmpint (shape[2], ==, 3);
  g_assert_cmpint (tvw_tensor_get_dtype (t), ==, TVW_DTYPE_UINT8);
  data = tvw_tensor_get_data_uint8 (t);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 3; x++)
        g_assert_cmpuint (data[c * 6 + y * 3 + x], ==, 100 * c + 10 * y + x);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/tensor/blog-snippet", test_blog_snippet);
  g_test_add_func ("/tvw/tensor/shapes", test_shapes);
  g_test_add_func ("/tvw/tensor/index-shares-rows", test_index_shares_rows);
  g_test_add_func ("/tvw/tensor/stack", test_stack);
  g_test_add_func ("/tvw/tensor/from-bytes-size-mismatch", test_from_bytes_size_mismatch);
  g_test_add_func ("/tvw/tensor/uint8-to-float", test_uint8_to_float);
  g_test_add_func ("/tvw/tensor/topk", test_topk);
  g_test_add_func ("/tvw/tensor/from-pixbuf", test_from_pixbuf);

  return g_test_run ();
}
