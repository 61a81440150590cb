/* tvw-op-batchnorm.c — BatchNorm 1/2/3-D in eval mode
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * y = (x − running_mean) / sqrt (running_var + eps) · weight + bias over
 * dimension 1, as one per-channel scale and shift.  After a convolution
 * the passes fold it into the convolution instead; this op is what is
 * left when they cannot (a BatchNorm after a pooling or a concatenation).
 */

#include "config.h"

#include <math.h>

#include "tvw-kernels-private.h"
#include "tvw-ops-private.h"

typedef struct
{
  float *scale, *shift;
} Affine;

void
tvw_batch_norm_weights (gint64         channels,
                        TvwWeightSpec *specs)
{
  const TvwWeightSpec w[TVW_BATCH_NORM_N_WEIGHTS] = {
    { "weight", 1, { channels }, TVW_WEIGHT_INIT_ONES },
    { "bias", 1, { channels }, 0 },
    { "running_mean", 1, { channels }, TVW_WEIGHT_BUFFER },
    { "running_var", 1, { channels }, TVW_WEIGHT_BUFFER | TVW_WEIGHT_INIT_ONES },
    /* Absent from checkpoints saved before PyTorch 0.4.1 (torchvision's
     * original ResNet files among them); PyTorch accepts that too. */
    { "num_batches_tracked", 0, { 0 }, TVW_WEIGHT_BUFFER | TVW_WEIGHT_OPTIONAL | TVW_WEIGHT_INT },
  };

  for (int i = 0; i < TVW_BATCH_NORM_N_WEIGHTS; i++)
    specs[i] = w[i];
}

static gboolean
batch_norm_infer (TvwOpCall  *call,
                  GError    **error)
{
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 2, 5, error) || !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (x->shape[1] != call->weights[0].shape[0])
    {
      g_autofree char *have = tvw_array_shape_string (x);

      tvw_op_set_error (call, error, "expects %" G_GINT64_FORMAT " channels, got a tensor of shape %s",
                        call->weights[0].shape[0], have);
      return FALSE;
    }

  call->out[0] = *x;
  return TRUE;
}

static void
batch_norm_release (TvwOpCall *call)
{
  Affine *a = call->prepared;

  if (a == NULL)
    return;
  g_free (a->scale);
  g_free (a->shift);
  g_clear_pointer (&call->prepared, g_free);
}

static gboolean
batch_norm_prepare (TvwOpCall  *call,
                    GError    **error)
{
  const TvwBatchNormParams *p = call->params;
  const gint64 c = call->weights[0].shape[0];
  const float *gamma = call->weights[0].data, *beta = call->weights[1].data;
  const float *mean = call->weights[2].data, *var = call->weights[3].data;
  Affine *a = g_new0 (Affine, 1);

  a->scale = g_new (float, c);
  a->shift = g_new (float, c);
  for (gint64 i = 0; i < c; i++)
    {
      double s = gamma[i] / sqrt ((double) var[i] + p->eps);

      a->scale[i] = (float) s;
      a->shift[i] = (float) (beta[i] - mean[i] * s);
    }

  call->prepared = a;
  return TRUE;
}

static void
batch_norm_run (TvwOpCall *call)
{
  const TvwBatchNormParams *p = call->params;
  const Affine *a = call->prepared;
  const TvwArray *x = &call->in[0];
  const float *in = x->data;
  float *out = call->out[0].data;
  const gint64 c = x->shape[1];

  /* Channels innermost (channels-last maps, N×C): one row per position,
   * rows a pitch apart in a channel slice of a wider map. */
  if (x->rank != 3)
    {
      gint64 pitch = tvw_array_channels_last_pitch (x);

      tvw_kernel_channel_affine (in, pitch > 0 ? pitch : c, out,
                                 (gsize) (tvw_array_numel (x) / MAX (c, 1)), (int) c,
                                 a->scale, a->shift, p->act, call->n_threads);
      return;
    }

  /* N×C×L, row-major: runs of L per channel. */
  for (gint64 n = 0; n < x->shape[0]; n++)
    for (gint64 ch = 0; ch < c; ch++)
      {
        const gint64 l = x->shape[2];
        const float *src = in + (n * c + ch) * l;
        float *dst = out + (n * c + ch) * l;

        for (gint64 i = 0; i < l; i++)
          dst[i] = tvw_activation_apply (src[i] * a->scale[ch] + a->shift[ch], p->act);
      }
}

const TvwOpClass tvw_op_batch_norm = {
  .name = "batch_norm",
  .flags = TVW_OP_CHANNELS_LAST | TVW_OP_PITCHED_INPUT,
  .infer = batch_norm_infer,
  .prepare = batch_norm_prepare,
  .release = batch_norm_release,
  .run = batch_norm_run,
};

TvwVal
tvw_net_batch_norm (TvwNet     *net,
                    TvwVal      x,
                    const char *name,
                    double      eps)
{
  TvwBatchNormParams params = { eps, TVW_ACT_NONE };
  TvwWeightSpec weights[TVW_BATCH_NORM_N_WEIGHTS];
  TvwNodeSpec node = {
    .cls = &tvw_op_batch_norm, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = TVW_BATCH_NORM_N_WEIGHTS, .weights = weights,
    .n_out = 1,
  };

  tvw_batch_norm_weights (tvw_net_channels (net, x), weights);
  return tvw_net_add_node (net, &node, NULL);
}
