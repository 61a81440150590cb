/* tvw-flow.c — optical flow as colours, as torchvision.utils.flow_to_image
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <float.h>
#include <math.h>

#include "tvw-error.h"
#include "tvw-video.h"

/* The 55 colours of the Middlebury wheel, _make_colorwheel (): red → yellow
 * → green → cyan → blue → magenta → red, in float32 as torchvision computes
 * them (floor (255 · i / n), the division in float32). */
#define WHEEL_SIZE 55

static void
make_colorwheel (float wheel[WHEEL_SIZE][3])
{
  static const struct { int n, ramp_channel; gboolean down; int full_channel; } segments[] = {
    { 15, 1, FALSE, 0 },   /* RY: red full, green rising */
    {  6, 0, TRUE,  1 },   /* YG: red falling, green full */
    {  4, 2, FALSE, 1 },   /* GC: green full, blue rising */
    { 11, 1, TRUE,  2 },   /* CB: green falling, blue full */
    { 13, 0, FALSE, 2 },   /* BM: blue full, red rising */
    {  6, 2, TRUE,  0 },   /* MR: blue falling, red full */
  };
  int col = 0;

  for (int i = 0; i < WHEEL_SIZE; i++)
    wheel[i][0] = wheel[i][1] = wheel[i][2] = 0.f;

  for (gsize s = 0; s < G_N_ELEMENTS (segments); s++)
    {
      for (int i = 0; i < segments[s].n; i++)
        {
          float ramp = floorf ((float) (255 * i) / (float) segments[s].n);

          wheel[col + i][segments[s].full_channel] = 255.f;
          wheel[col + i][segments[s].ramp_channel] = segments[s].down ? 255.f - ramp : ramp;
        }
      col += segments[s].n;
    }
}

/**
 * tvw_flow_to_image:
 * @flow: a float32 optical flow, `(2, H, W)` or `(1, 2, H, W)`: horizontal
 *   then vertical displacements in pixels, as RAFT returns them
 * @error: return location for an error
 *
 * Draws @flow in the colour coding of `torchvision.utils.flow_to_image`
 * (the Middlebury colour wheel of Baker et al.): the direction of each
 * pixel's motion is the hue, its length relative to the longest one in the
 * image the saturation, so white is no motion.  The arithmetic is
 * torchvision's, in float32: every colour matches except, rarely, by one
 * where `atan2` rounds differently on each side of a colour boundary.
 *
 * Returns: (transfer full): an 8-bit RGB image of W×H, or %NULL if @flow
 *   has another shape or type, or values that are not finite
 */
GdkPixbuf *
tvw_flow_to_image (TvwTensor  *flow,
                   GError    **error)
{
  g_autoptr(GdkPixbuf) image = NULL;
  float wheel[WHEEL_SIZE][3];
  const gint64 *shape;
  guint n_dims;
  gint64 h, w;
  gsize plane;
  const float *u, *v;
  float max_norm = 0.f, scale;
  guint8 *pixels;
  int stride;

  g_return_val_if_fail (TVW_IS_TENSOR (flow), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  shape = tvw_tensor_get_shape (flow, &n_dims);
  if (tvw_tensor_get_dtype (flow) != TVW_DTYPE_FLOAT32 ||
      !((n_dims == 3 && shape[0] == 2) || (n_dims == 4 && shape[0] == 1 && shape[1] == 2)))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A flow image needs a float32 flow of shape (2, H, W) or (1, 2, H, W)");
      return NULL;
    }
  h = shape[n_dims - 2];
  w = shape[n_dims - 1];
  if (h < 1 || w < 1 || h > G_MAXINT / 4 || w > G_MAXINT / 4 / MAX (h, 1))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Cannot draw a flow of %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT, w, h);
      return NULL;
    }

  plane = (gsize) h * (gsize) w;
  u = tvw_tensor_get_data (flow);
  v = u + plane;
  for (gsize i = 0; i < plane; i++)
    {
      float norm = sqrtf (u[i] * u[i] + v[i] * v[i]);

      if (!isfinite (norm))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "The flow has values that are not finite");
          return NULL;
        }
      max_norm = MAX (max_norm, norm);
    }

  image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) w, (int) h);
  if (image == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                   "No memory for a flow image of %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT, w, h);
      return NULL;
    }
  pixels = gdk_pixbuf_get_pixels (image);
  stride = gdk_pixbuf_get_rowstride (image);
  make_colorwheel (wheel);

  /* flow / (max_norm + eps), then _normalized_flow_to_image. */
  scale = max_norm + FLT_EPSILON;
  for (gint64 y = 0; y < h; y++)
    for (gint64 x = 0; x < w; x++)
      {
        gsize i = (gsize) y * (gsize) w + (gsize) x;
        float nu = u[i] / scale, nv = v[i] / scale;
        float norm = sqrtf (nu * nu + nv * nv);
        float a = atan2f (-nv, -nu) / (float) G_PI;
        float fk = (a + 1.f) / 2.f * (float) (WHEEL_SIZE - 1);
        float k0f = floorf (fk);
        int k0 = (int) k0f;
        int k1 = k0 + 1 == WHEEL_SIZE ? 0 : k0 + 1;
        float f = fk - k0f;
        guint8 *p = pixels + y * stride + x * 3;

        k0 = CLAMP (k0, 0, WHEEL_SIZE - 1);
        for (int c = 0; c < 3; c++)
          {
            float col0 = wheel[k0][c] / 255.f;
            float col1 = wheel[k1][c] / 255.f;
            float col = (1.f - f) * col0 + f * col1;

            col = 1.f - norm * (1.f - col);
            p[c] = (guint8) CLAMP (floorf (255.f * col), 0.f, 255.f);
          }
      }

  return g_steal_pointer (&image);
}
