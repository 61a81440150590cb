/* tvw-op-affine.c — a per-channel affine map by constants
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * x[:, c] · scale[c] + shift[c] with the constants in the node's
 * parameters, not in a checkpoint: GoogLeNet's and Inception v3's
 * transform_input, which re-normalises an ImageNet-normalised batch to
 * the [-1, 1] scaling the ported weights were trained with.  Channels-last
 * like the convolution after it, so it costs one pass over the input.
 */

#include "config.h"

#include <string.h>

#include "tvw-ops-private.h"

static gboolean
channel_affine_infer (TvwOpCall  *call,
                      GError    **error)
{
  const TvwChannelAffineParams *p = call->params;
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (x->shape[1] != p->channels)
    {
      g_autofree char *have = tvw_array_shape_string (x);

      tvw_op_set_error (call, error, "expects %d channels, got a tensor of shape %s",
                        p->channels, have);
      return FALSE;
    }

  call->out[0] = *x;
  return TRUE;
}

static void
channel_affine_run (TvwOpCall *call)
{
  const TvwChannelAffineParams *p = call->params;
  const float *scale = p->values, *shift = p->values + p->channels;
  const float *x = call->in[0].data;
  float *y = call->out[0].data;
  const gint64 pixels = tvw_array_numel (&call->in[0]) / MAX (p->channels, 1);

  /* Dense channels-last: the channels of a pixel are adjacent. */
  for (gint64 i = 0; i < pixels; i++)
    for (int c = 0; c < p->channels; c++)
      y[i * p->channels + c] = x[i * p->channels + c] * scale[c] + shift[c];
}

const TvwOpClass tvw_op_channel_affine = {
  .name = "channel_affine",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = channel_affine_infer,
  .run = channel_affine_run,
};

TvwVal
tvw_net_channel_affine (TvwNet      *net,
                        TvwVal       x,
                        int          channels,
                        const float *scale,
                        const float *shift)
{
  gsize size = sizeof (TvwChannelAffineParams) + 2 * (gsize) channels * sizeof (float);
  g_autofree TvwChannelAffineParams *params = g_malloc0 (size);
  TvwNodeSpec node = {
    .cls = &tvw_op_channel_affine, .name = "transform_input",
    .params = params, .params_size = size,
    .n_in = 1, .in = &x,
    .n_out = 1,
  };

  g_return_val_if_fail (channels > 0, -1);

  params->channels = channels;
  memcpy (params->values, scale, channels * sizeof (float));
  memcpy (params->values + channels, shift, channels * sizeof (float));

  return tvw_net_add_node (net, &node, NULL);
}
