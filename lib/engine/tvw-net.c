/* tvw-net.c — graph construction and parameters
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-graph-private.h"

void
tvw_engine_init (void)
{
  static gsize initialised;

  if (g_once_init_enter (&initialised))
    {
      tvw_engine_blas_init ();
      g_once_init_leave (&initialised, 1);
    }
}

int
tvw_engine_default_threads (void)
{
  return MAX (1, (int) g_get_num_processors ());
}

static void
param_free (gpointer data)
{
  TvwParam *p = data;

  g_free (p->name);
  g_free (p->owned);
  g_free (p);
}

static void
node_free (gpointer data)
{
  TvwNode *n = data;

  if (n->call.cls->release != NULL)
    n->call.cls->release (&n->call);
  g_free (n->call.params);
  g_free (n->call.in);
  g_free (n->call.out);
  g_free (n->call.view_offset);
  g_free (n->call.weights);
  g_free ((char *) n->call.name);
  g_free (n->in);
  g_free (n->out);
  g_free (n->weight);
  g_free (n->stage);
  g_free (n->staged);
  g_free (n);
}

static void
port_clear (gpointer data)
{
  g_free (((TvwPort *) data)->name);
}

TvwNet *
tvw_net_new (void)
{
  TvwNet *net = g_new0 (TvwNet, 1);

  tvw_engine_init ();

  net->values = g_array_new (FALSE, TRUE, sizeof (TvwValue));
  net->nodes = g_ptr_array_new_with_free_func (node_free);
  net->params = g_ptr_array_new_with_free_func (param_free);
  net->param_index = g_hash_table_new (g_str_hash, g_str_equal);
  net->inputs = g_array_new (FALSE, TRUE, sizeof (TvwPort));
  g_array_set_clear_func (net->inputs, port_clear);
  net->outputs = g_array_new (FALSE, TRUE, sizeof (TvwPort));
  g_array_set_clear_func (net->outputs, port_clear);
  /* Per-node timings on stderr, for whoever tunes the kernels. */
  net->profile = g_getenv ("TVW_PROFILE") != NULL;

  return net;
}

void
tvw_net_free (TvwNet *net)
{
  if (net == NULL)
    return;

  g_ptr_array_unref (net->nodes);
  g_array_unref (net->values);
  g_hash_table_unref (net->param_index);
  g_ptr_array_unref (net->params);
  g_array_unref (net->inputs);
  g_array_unref (net->outputs);
  g_clear_error (&net->error);
  g_free (net->plan_shapes);
  tvw_net_big_free (net->arena, net->arena_bytes);
  tvw_net_big_free (net->scratch, net->scratch_alloc);
  tvw_net_big_free (net->weights, net->weights_bytes);
  g_free (net);
}

/* Construction */

int
tvw_net_new_value (TvwNet         *net,
                   const TvwArray *a,
                   int             producer)
{
  TvwValue v = { .a = *a, .producer = producer, .root = -1, .last_use = -1, .alias = -1 };

  v.a.data = NULL;
  g_array_append_val (net->values, v);
  return (int) net->values->len - 1;
}

static gboolean
valid_value (TvwNet *net,
             TvwVal  v)
{
  return v >= 0 && (guint) v < net->values->len;
}

TvwVal
tvw_net_input_full (TvwNet       *net,
                    const char   *name,
                    TvwElem       elem,
                    int           rank,
                    const gint64 *example_shape)
{
  TvwPort port;
  TvwArray a;

  g_return_val_if_fail (rank >= 1 && rank <= TVW_MAX_RANK, -1);

  tvw_array_init (&a, elem, rank, example_shape);
  port.name = g_strdup (name);
  port.value = tvw_net_new_value (net, &a, -1);
  g_array_append_val (net->inputs, port);
  net->finalized = FALSE;

  return port.value;
}

TvwVal
tvw_net_input (TvwNet *net,
               int     channels)
{
  const gint64 shape[4] = { 1, channels, 224, 224 };

  return tvw_net_input_full (net, "input", TVW_ELEM_F32, 4, shape);
}

const TvwArray *
tvw_net_array (TvwNet *net,
               TvwVal  v)
{
  /* -1 is what constructors return after an error: not a bug. */
  g_return_val_if_fail (valid_value (net, v) || (v == -1 && net->error != NULL), NULL);

  return valid_value (net, v) ? &tvw_net_value (net, v)->a : NULL;
}

int
tvw_net_channels (TvwNet *net,
                  TvwVal  x)
{
  const TvwArray *a;

  if (!valid_value (net, x))
    return 0;

  a = &tvw_net_value (net, x)->a;
  return a->rank >= 2 ? (int) a->shape[1] : 0;
}

static TvwParam *
add_param (TvwNet              *net,
           const char          *prefix,
           const TvwWeightSpec *spec)
{
  TvwParam *p = g_new0 (TvwParam, 1);

  if (prefix != NULL && *prefix != '\0' && spec->suffix != NULL)
    p->name = g_strconcat (prefix, ".", spec->suffix, NULL);
  else
    p->name = g_strdup (spec->suffix != NULL ? spec->suffix : prefix);
  tvw_array_init (&p->desc, TVW_ELEM_F32, spec->rank, spec->shape);
  p->numel = tvw_array_numel (&p->desc);
  p->flags = spec->flags;

  if (g_hash_table_contains (net->param_index, p->name))
    {
      /* Model code declared a key twice: a bug, not user data. */
      g_critical ("Parameter “%s” declared twice", p->name);
      param_free (p);
      return NULL;
    }

  g_ptr_array_add (net->params, p);
  g_hash_table_insert (net->param_index, p->name, p);
  net->prepared = FALSE;

  return p;
}

/* With sharing on, a parameter declared again under the same name and
 * shape is the same parameter (a module applied several times, as RAFT's
 * update block); NULL when there is none yet. */
static TvwParam *
shared_param (TvwNet              *net,
              const char          *prefix,
              const TvwWeightSpec *spec)
{
  g_autofree char *name = NULL;
  TvwParam *p;

  if (prefix != NULL && *prefix != '\0' && spec->suffix != NULL)
    name = g_strconcat (prefix, ".", spec->suffix, NULL);
  else
    name = g_strdup (spec->suffix != NULL ? spec->suffix : prefix);

  p = g_hash_table_lookup (net->param_index, name);
  if (p == NULL || p->desc.rank != spec->rank ||
      memcmp (p->desc.shape, spec->shape, spec->rank * sizeof (gint64)) != 0)
    return NULL;

  return p;
}

static int
param_position (TvwNet   *net,
                TvwParam *p)
{
  guint index = 0;

  g_ptr_array_find (net->params, p, &index);
  return (int) index;
}

void
tvw_net_set_param_sharing (TvwNet   *net,
                           gboolean  share)
{
  net->share_params = share;
}

TvwVal
tvw_net_add_node (TvwNet            *net,
                  const TvwNodeSpec *spec,
                  TvwVal            *outputs)
{
  TvwNode *n;
  int index = (int) net->nodes->len;

  g_return_val_if_fail (spec->cls != NULL && spec->n_out >= 1, -1);

  if (net->error != NULL)
    return -1;

  for (int i = 0; i < spec->n_in; i++)
    if (!valid_value (net, spec->in[i]))
      {
        g_set_error (&net->error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     "%s (%s): input %d is not a value of this graph",
                     spec->name != NULL ? spec->name : "(unnamed)", spec->cls->name, i);
        return -1;
      }

  n = g_new0 (TvwNode, 1);
  n->call.cls = spec->cls;
  n->call.name = g_strdup (spec->name);
  n->call.params = spec->params_size > 0 ? g_memdup2 (spec->params, spec->params_size) : NULL;
  n->params_size = spec->params_size;
  n->call.n_in = spec->n_in;
  n->call.in = g_new0 (TvwArray, MAX (spec->n_in, 1));
  n->call.n_out = spec->n_out;
  n->call.out = g_new0 (TvwArray, spec->n_out);
  n->call.view_offset = g_new0 (gint64, spec->n_out);
  n->call.n_weights = spec->n_weights;
  n->call.weights = g_new0 (TvwArray, MAX (spec->n_weights, 1));
  n->in = g_new (int, MAX (spec->n_in, 1));
  n->out = g_new (int, spec->n_out);
  n->weight = g_new (int, MAX (spec->n_weights, 1));
  n->stage = g_new (int, MAX (spec->n_in, 1));
  n->staged = g_new0 (gboolean, MAX (spec->n_in, 1));

  for (int i = 0; i < spec->n_in; i++)
    {
      n->in[i] = spec->in[i];
      n->stage[i] = -1;
      n->call.in[i] = tvw_net_value (net, spec->in[i])->a;
    }

  for (int i = 0; i < spec->n_weights; i++)
    {
      TvwParam *p = net->share_params ? shared_param (net, spec->name, &spec->weights[i]) : NULL;

      if (p != NULL)
        {
          net->params_shared = TRUE;
          n->weight[i] = param_position (net, p);
          n->call.weights[i] = p->desc;
          continue;
        }

      p = add_param (net, spec->name, &spec->weights[i]);
      if (p == NULL)
        {
          node_free (n);
          g_set_error (&net->error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s: a parameter is declared twice", spec->name);
          return -1;
        }
      n->weight[i] = (int) net->params->len - 1;
      n->call.weights[i] = p->desc;
    }

  /* Build-time shapes: mismatches show here, named after the module. */
  if (!spec->cls->infer (&n->call, &net->error))
    {
      node_free (n);
      return -1;
    }
  tvw_op_layout_outputs (&n->call);

  g_ptr_array_add (net->nodes, n);
  for (int i = 0; i < spec->n_out; i++)
    {
      n->out[i] = tvw_net_new_value (net, &n->call.out[i], index);
      if (outputs != NULL)
        outputs[i] = n->out[i];
    }
  net->finalized = FALSE;
  net->prepared = FALSE;
  net->planned = FALSE;

  return n->out[0];
}

gboolean
tvw_net_check (TvwNet  *net,
               GError **error)
{
  if (net->error != NULL)
    {
      g_propagate_error (error, g_error_copy (net->error));
      return FALSE;
    }

  if (net->outputs->len == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT, "The graph has no output");
      return FALSE;
    }

  return TRUE;
}

void
tvw_net_output (TvwNet     *net,
                const char *name,
                TvwVal      x)
{
  TvwPort port;

  if (net->error != NULL)
    return;
  g_return_if_fail (valid_value (net, x));

  port.name = g_strdup (name);
  port.value = x;
  g_array_append_val (net->outputs, port);
  net->finalized = FALSE;
}

void
tvw_net_set_output (TvwNet *net,
                    TvwVal  x)
{
  tvw_net_output (net, "out", x);
}

guint
tvw_net_get_n_inputs (TvwNet *net)
{
  return net->inputs->len;
}

const TvwArray *
tvw_net_get_input (TvwNet *net,
                   guint   index,
                   const char **name)
{
  const TvwPort *port;

  g_return_val_if_fail (index < net->inputs->len, NULL);

  port = &g_array_index (net->inputs, TvwPort, index);
  if (name != NULL)
    *name = port->name;
  return tvw_net_array (net, port->value);
}

guint
tvw_net_get_n_outputs (TvwNet *net)
{
  return net->outputs->len;
}

const char *
tvw_net_get_output_name (TvwNet *net,
                         guint   index)
{
  g_return_val_if_fail (index < net->outputs->len, NULL);

  return g_array_index (net->outputs, TvwPort, index).name;
}

void
tvw_net_replace_uses (TvwNet *net,
                      int     from,
                      int     to)
{
  for (guint i = 0; i < net->nodes->len; i++)
    {
      TvwNode *n = tvw_net_node (net, i);

      for (int j = 0; j < n->call.n_in; j++)
        if (n->in[j] == from)
          n->in[j] = to;
    }

  for (guint i = 0; i < net->outputs->len; i++)
    if (g_array_index (net->outputs, TvwPort, i).value == from)
      g_array_index (net->outputs, TvwPort, i).value = to;
}

/* Parameters */

void
tvw_net_declare_param (TvwNet       *net,
                       const char   *name,
                       guint         n_dims,
                       const gint64 *shape,
                       gboolean      optional)
{
  TvwWeightSpec spec = { NULL, (int) n_dims, { 0 }, optional ? TVW_WEIGHT_OPTIONAL : 0 };

  g_return_if_fail (n_dims <= TVW_MAX_RANK);

  memcpy (spec.shape, shape, n_dims * sizeof (gint64));
  add_param (net, name, &spec);
}

void
tvw_net_declare_weights (TvwNet              *net,
                         const char          *prefix,
                         int                  n_weights,
                         const TvwWeightSpec *specs)
{
  for (int i = 0; i < n_weights; i++)
    add_param (net, prefix, &specs[i]);
}

float *
tvw_net_lookup_param (TvwNet     *net,
                      const char *name,
                      gint64     *numel)
{
  TvwParam *p = g_hash_table_lookup (net->param_index, name);

  if (p == NULL || p->owned == NULL)
    return NULL;

  net->prepared = FALSE;
  if (numel != NULL)
    *numel = p->numel;

  return p->owned;
}

gint64
tvw_net_count_parameters (TvwNet *net)
{
  gint64 total = 0;

  for (guint i = 0; i < net->params->len; i++)
    {
      TvwParam *p = tvw_net_param (net, i);

      if (!(p->flags & (TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT)))
        total += p->numel;
    }

  return total;
}

guint
tvw_net_get_n_params (TvwNet *net)
{
  return net->params->len;
}

const char *
tvw_net_get_param_info (TvwNet         *net,
                        guint           index,
                        guint          *n_dims,
                        const gint64  **shape,
                        gboolean       *optional,
                        gboolean       *is_float)
{
  TvwParam *p = tvw_net_param (net, index);

  *n_dims = (guint) p->desc.rank;
  *shape = p->desc.shape;
  *optional = (p->flags & TVW_WEIGHT_OPTIONAL) != 0;
  *is_float = !(p->flags & TVW_WEIGHT_INT);

  return p->name;
}

gboolean
tvw_net_param_is_quantized (TvwNet *net,
                            guint   index)
{
  return (tvw_net_param (net, index)->flags & TVW_WEIGHT_QUANTIZED) != 0;
}

gboolean
tvw_net_has_param (TvwNet     *net,
                   const char *name)
{
  return g_hash_table_contains (net->param_index, name);
}

gboolean
tvw_net_param_is_buffer (TvwNet *net,
                         guint   index)
{
  return (tvw_net_param (net, index)->flags & (TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT)) != 0;
}

void
tvw_net_set_param_data (TvwNet      *net,
                        guint        index,
                        const float *data)
{
  TvwParam *p = tvw_net_param (net, index);

  g_clear_pointer (&p->owned, g_free);
  p->data = data;
  net->prepared = FALSE;
}

/* splitmix64: fast, seedable, good enough for test weights. */
static inline guint64
next_random (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void
tvw_net_init_random (TvwNet  *net,
                     guint32  seed)
{
  guint64 state = seed;

  for (guint i = 0; i < net->params->len; i++)
    {
      TvwParam *p = tvw_net_param (net, i);
      gsize count = MAX (p->numel, 1);
      double bound = 0.0;

      if (p->flags & TVW_WEIGHT_INT)
        continue;

      g_free (p->owned);
      p->owned = g_new (float, count);
      p->data = p->owned;

      /* Kaiming-uniform style bound from the fan-in of weights; norms start
       * as identities, biases at zero, like torchvision's initialisation. */
      if (p->desc.rank >= 2)
        bound = 1.0 / sqrt ((double) MAX (p->numel / p->desc.shape[0], 1));

      if (p->flags & TVW_WEIGHT_INIT_ONES)
        for (gsize j = 0; j < count; j++)
          p->owned[j] = 1.f;
      else if (bound == 0.0)
        memset (p->owned, 0, count * sizeof (float));
      else
        for (gsize j = 0; j < count; j++)
          p->owned[j] = (float) ((((next_random (&state) >> 11) * 0x1.0p-53) * 2.0 - 1.0) * bound);
    }

  net->prepared = FALSE;
}

TvwVal
tvw_net_flatten (TvwNet *net,
                 TvwVal  x)
{
  return tvw_net_flatten_dims (net, x, 1, -1);
}
