/* tvw-net-passes.c — graph rewrites: folding and fusion
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Models are built op by op, as torchvision's modules run; these passes
 * then make the graph cheaper, once, before it is first planned:
 *   - a BatchNorm after a convolution is folded into it (its weights join
 *     the convolution's, prepare folds them);
 *   - an addition of a value computed earlier to a convolution's or a
 *     linear layer's output becomes its residual epilogue (ResNet's
 *     blocks, a transformer's two residual connections per layer);
 *   - an activation becomes the epilogue of the convolution, linear layer,
 *     BatchNorm or binary op that produced its input;
 *   - a channel shuffle of two groups reads the two halves of a
 *     concatenation that only it reads, instead of the concatenation.
 * A value can only be fused into its producer when nothing else reads it.
 * One sweep in execution order suffices: conv → bn → add → relu folds
 * step by step into the convolution.
 */

#include "config.h"

#include <string.h>

#include "tvw-graph-private.h"

static void
count_consumers (TvwNet *net)
{
  for (guint i = 0; i < net->values->len; i++)
    tvw_net_value (net, i)->n_consumers = 0;

  for (guint i = 0; i < net->nodes->len; i++)
    {
      TvwNode *n = tvw_net_node (net, i);

      if (!n->dead)
        for (int j = 0; j < n->call.n_in; j++)
          tvw_net_value (net, n->in[j])->n_consumers++;
    }

  /* An output is read by the caller: never fused away. */
  for (guint i = 0; i < net->outputs->len; i++)
    tvw_net_value (net, g_array_index (net->outputs, TvwPort, i).value)->n_consumers++;
}

/* The node that produced @v if @v has no other reader than the node
 * being fused. */
static TvwNode *
sole_producer (TvwNet *net,
               int     v)
{
  TvwValue *value = tvw_net_value (net, v);

  if (value->n_consumers != 1 || value->producer < 0)
    return NULL;

  return tvw_net_node (net, value->producer);
}

/* @n's output now comes from @producer's output @v. */
static void
remove_node (TvwNet  *net,
             TvwNode *n,
             int      v)
{
  TvwValue *value = tvw_net_value (net, v);

  value->n_consumers += tvw_net_value (net, n->out[0])->n_consumers - 1;
  tvw_net_replace_uses (net, n->out[0], v);
  n->dead = TRUE;
}

static void
append_weights (TvwNode       *to,
                const TvwNode *from)
{
  int n = to->call.n_weights + from->call.n_weights;

  to->weight = g_renew (int, to->weight, n);
  to->call.weights = g_renew (TvwArray, to->call.weights, n);
  memcpy (to->weight + to->call.n_weights, from->weight, from->call.n_weights * sizeof (int));
  memcpy (to->call.weights + to->call.n_weights, from->call.weights,
          from->call.n_weights * sizeof (TvwArray));
  to->call.n_weights = n;
}

static gboolean
fold_batch_norm (TvwNet  *net,
                 TvwNode *bn)
{
  const TvwBatchNormParams *bp = bn->call.params;
  TvwNode *conv = sole_producer (net, bn->in[0]);
  TvwConvOpParams *cp;

  if (conv == NULL || conv->call.cls != &tvw_op_conv2d)
    return FALSE;
  cp = conv->call.params;
  if (cp->batch_norm || cp->residual || cp->act != TVW_ACT_NONE || bp->act != TVW_ACT_NONE)
    return FALSE;

  append_weights (conv, bn);
  cp->batch_norm = TRUE;
  cp->bn_eps = bp->eps;
  remove_node (net, bn, bn->in[0]);
  return TRUE;
}

static gboolean
fuse_residual (TvwNet  *net,
               TvwNode *add)
{
  const TvwBinaryParams *bp = add->call.params;

  if (bp->op != TVW_BINARY_ADD || bp->act != TVW_ACT_NONE)
    return FALSE;

  for (int i = 0; i < 2; i++)
    {
      int main = add->in[i], other = add->in[1 - i];
      TvwNode *conv = sole_producer (net, main);
      TvwConvOpParams *cp;
      int other_producer = tvw_net_value (net, other)->producer;

      if (conv == NULL || (conv->call.cls != &tvw_op_conv2d && conv->call.cls != &tvw_op_linear))
        continue;
      cp = conv->call.params;
      if (cp->residual || cp->act != TVW_ACT_NONE ||
          !tvw_array_same_shape (&tvw_net_value (net, main)->a, &tvw_net_value (net, other)->a))
        continue;
      /* The residual must exist when the convolution runs. */
      if (other_producer >= 0 && other_producer >= tvw_net_value (net, main)->producer)
        continue;

      conv->in = g_renew (int, conv->in, 2);
      conv->stage = g_renew (int, conv->stage, 2);
      conv->staged = g_renew (gboolean, conv->staged, 2);
      conv->staged[1] = FALSE;
      conv->call.in = g_renew (TvwArray, conv->call.in, 2);
      conv->in[1] = other;
      conv->stage[1] = -1;
      conv->call.in[1] = tvw_net_value (net, other)->a;
      conv->call.n_in = 2;
      cp->residual = TRUE;
      /* @other keeps one reader: the convolution instead of the add. */
      remove_node (net, add, main);
      return TRUE;
    }

  return FALSE;
}

static gboolean
fuse_activation (TvwNet  *net,
                 TvwNode *act)
{
  const TvwActivationParams *ap = act->call.params;
  TvwNode *p = sole_producer (net, act->in[0]);
  TvwActivation *slot = NULL;

  if (p == NULL)
    return FALSE;

  if (p->call.cls == &tvw_op_conv2d || p->call.cls == &tvw_op_linear)
    slot = &((TvwConvOpParams *) p->call.params)->act;
  else if (p->call.cls == &tvw_op_batch_norm)
    slot = &((TvwBatchNormParams *) p->call.params)->act;
  else if (p->call.cls == &tvw_op_binary)
    slot = &((TvwBinaryParams *) p->call.params)->act;

  if (slot == NULL || *slot != TVW_ACT_NONE)
    return FALSE;

  *slot = ap->act;
  remove_node (net, act, act->in[0]);
  return TRUE;
}

/* torch.cat ((a, b), 1) read only by a channel shuffle of two groups
 * (ShuffleNet V2's blocks): the shuffle reads a and b itself, which saves
 * the concatenation's copy. */
static gboolean
fuse_concat_shuffle (TvwNet  *net,
                     TvwNode *shuffle)
{
  const TvwShuffleParams *sp = shuffle->call.params;
  TvwNode *cat = sole_producer (net, shuffle->in[0]);
  const TvwArray *a, *b;

  if (cat == NULL || cat->call.cls != &tvw_op_concat || cat->call.n_in != 2 ||
      shuffle->call.n_in != 1 || sp->groups != 2)
    return FALSE;
  a = &tvw_net_value (net, cat->in[0])->a;
  b = &tvw_net_value (net, cat->in[1])->a;
  if (a->rank != 4 || tvw_op_resolve_dim (((const TvwDimParams *) cat->call.params)->dim, 4) != 1 ||
      !tvw_array_same_shape (a, b) || a->elem != b->elem || a->quantized || b->quantized)
    return FALSE;

  shuffle->in = g_renew (int, shuffle->in, 2);
  shuffle->stage = g_renew (int, shuffle->stage, 2);
  shuffle->staged = g_renew (gboolean, shuffle->staged, 2);
  shuffle->call.in = g_renew (TvwArray, shuffle->call.in, 2);
  for (int i = 0; i < 2; i++)
    {
      shuffle->in[i] = cat->in[i];
      shuffle->stage[i] = -1;
      shuffle->staged[i] = FALSE;
      shuffle->call.in[i] = tvw_net_value (net, cat->in[i])->a;
    }
  shuffle->call.n_in = 2;
  /* a and b keep one reader each: the shuffle instead of the
   * concatenation, whose output nothing reads any more. */
  tvw_net_value (net, cat->out[0])->n_consumers = 0;
  cat->dead = TRUE;
  return TRUE;
}

void
tvw_net_run_passes (TvwNet *net)
{
  count_consumers (net);

  for (guint i = 0; i < net->nodes->len; i++)
    {
      TvwNode *n = tvw_net_node (net, i);

      if (n->dead)
        continue;
      if (n->call.cls == &tvw_op_batch_norm)
        fold_batch_norm (net, n);
      else if (n->call.cls == &tvw_op_binary)
        fuse_residual (net, n);
      else if (n->call.cls == &tvw_op_activation)
        fuse_activation (net, n);
      else if (n->call.cls == &tvw_op_channel_shuffle)
        fuse_concat_shuffle (net, n);
    }

  net->finalized = TRUE;
}
