/* tvw-op-se.c — torchvision.ops.SqueezeExcitation as one node
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * x · gate_act (fc2 (act (fc1 (mean of x over the map)))), fc1 and fc2
 * being 1×1 convolutions with bias: one pass for the means, one for the
 * scale, the two tiny matrix products in between.
 */

#include "config.h"

#include "tvw-kernels-se-private.h"
#include "tvw-ops-private.h"

static gboolean
se_infer (TvwOpCall  *call,
          GError    **error)
{
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (x->shape[1] != call->weights[0].shape[1])
    {
      g_autofree char *have = tvw_array_shape_string (x);

      tvw_op_set_error (call, error, "expects %" G_GINT64_FORMAT " channels, got a tensor of shape %s",
                        call->weights[0].shape[1], have);
      return FALSE;
    }

  call->out[0] = *x;
  return TRUE;
}

static gboolean
se_prepare (TvwOpCall  *call,
            GError    **error)
{
  const TvwSqueezeExcitationParams *p = call->params;
  float *w2t = g_new (float, tvw_array_numel (&call->weights[2]));

  tvw_squeeze_excitation_pack (call->weights[2].data, (int) call->weights[2].shape[0],
                               p->squeeze, w2t);
  call->prepared = w2t;
  return TRUE;
}

static void
se_release (TvwOpCall *call)
{
  g_clear_pointer (&call->prepared, g_free);
}

static void
se_params (const TvwOpCall *call,
           TvwSeParams     *sp)
{
  const TvwSqueezeExcitationParams *p = call->params;
  const TvwArray *x = &call->in[0];

  *sp = (TvwSeParams) {
    .n = (int) x->shape[0], .c = (int) x->shape[1], .squeeze = p->squeeze,
    .hw = (gsize) (x->shape[2] * x->shape[3]),
    .w1 = call->weights[0].data, .b1 = call->weights[1].data,
    .w2t = call->prepared, .b2 = call->weights[3].data,
    .act = p->act, .gate_act = p->gate_act,
  };
}

/* The kernel runs once, not per thread, and uses the scratch of all of
 * them from the first slice on. */
static gsize
se_scratch (const TvwOpCall *call)
{
  TvwSeParams sp;

  se_params (call, &sp);
  return (tvw_squeeze_excitation_scratch_floats (&sp) + call->n_threads - 1) /
         call->n_threads * sizeof (float);
}

static void
se_run (TvwOpCall *call)
{
  TvwSeParams sp;

  se_params (call, &sp);
  tvw_kernel_squeeze_excitation (&sp, call->in[0].data, call->out[0].data,
                                 (float *) call->scratch, call->n_threads);
}

const TvwOpClass tvw_op_squeeze_excitation = {
  .name = "squeeze_excitation",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = se_infer,
  .prepare = se_prepare,
  .release = se_release,
  .scratch = se_scratch,
  .run = se_run,
};

TvwVal
tvw_net_squeeze_excitation (TvwNet        *net,
                            TvwVal         x,
                            const char    *prefix,
                            int            squeeze_channels,
                            TvwActivation  act,
                            TvwActivation  gate_act)
{
  const int c = tvw_net_channels (net, x);
  TvwSqueezeExcitationParams params = { squeeze_channels, act, gate_act };
  TvwWeightSpec weights[4] = {
    { "fc1.weight", 4, { squeeze_channels, c, 1, 1 } },
    { "fc1.bias", 1, { squeeze_channels } },
    { "fc2.weight", 4, { c, squeeze_channels, 1, 1 } },
    { "fc2.bias", 1, { c } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_squeeze_excitation, .name = prefix,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = 4, .weights = weights,
    .n_out = 1,
  };

  g_return_val_if_fail (squeeze_channels > 0, -1);

  return tvw_net_add_node (net, &node, NULL);
}
