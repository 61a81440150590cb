/* tvw-net.c — graph, parameters, planning and execution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__AVX2__)
# include <immintrin.h>
#endif

#include "tvw-error.h"
#include "tvw-engine-private.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-kernels-private.h"
#include "tvw-kernels-grouped-private.h"
#include "tvw-kernels-se-private.h"
#include "tvw-kernels-winograd-private.h"

#define ARENA_ALIGN 16   /* floats: 64 bytes */

typedef enum
{
  OP_INPUT,
  OP_CONV,
  OP_AFFINE,      /* a BatchNorm that could not be folded */
  OP_ACT,
  OP_ADD,
  OP_SCALE,
  OP_MAX_POOL,
  OP_AVG_POOL,
  OP_ADAPTIVE_AVG_POOL,
  OP_FLATTEN,
  OP_SQUEEZE_EXCITE,   /* pool, fc1, act, fc2, gate, scale (issue 6) */
} OpType;

typedef struct
{
  char     *name;
  guint     n_dims;
  gint64    shape[4];
  gint64    numel;
  gboolean  buffer;      /* running stats: not counted as parameters */
  gboolean  optional;
  gboolean  is_int;      /* num_batches_tracked */
  const float *data;     /* into a checkpoint, or @owned */
  float    *owned;
} Param;

typedef struct
{
  int    c;              /* known when building */
  int    n, h, w;        /* known when planning */
  gsize  offset;         /* in the arena, floats */
  int    producer;
  int    last_use;
  int    n_consumers;
} Value;

typedef struct
{
  OpType         type;
  int            in[2];
  int            out;
  char          *name;
  TvwActivation  act;

  /* OP_CONV (also linear layers, as 1×1 convolutions over 1×1 maps) */
  TvwConvSpec    conv;
  int            cin, cout;
  gboolean       linear;
  int            residual;
  Param         *weight, *bias;
  Param         *bn_weight, *bn_bias, *bn_mean, *bn_var;
  double         bn_eps;
  float         *packed;
  float         *packed_bias;
  TvwConvParams  kp;
  gsize          scratch;

  /* OP_AFFINE */
  float         *scale, *shift;

  /* pools */
  int            kernel, stride, padding;
  gboolean       ceil_mode, count_include_pad;
  int            out_h, out_w;
  TvwPoolParams  pp;

  /* OP_SQUEEZE_EXCITE: fc1 in weight/bias, fc2 here, fc2 transposed in
   * packed */
  Param         *weight2, *bias2;
  TvwActivation  gate_act;
  int            squeeze;
  TvwSeParams    sp;
} Node;

struct _TvwNet
{
  GArray     *values;    /* Value */
  GPtrArray  *nodes;     /* Node */
  GPtrArray  *params;    /* Param, declaration order */
  GHashTable *param_index;
  int         output;
  gboolean    prepared;
  gboolean    profile;

  /* The plan for the last input shape. */
  int         plan_n, plan_h, plan_w, plan_threads;
  float      *arena;
  gsize       arena_floats;
  float      *scratch;
  gsize       scratch_alloc;

  /* Every convolution's packed weights (weights_arena_new()). */
  float      *weights;
  gsize       weights_bytes;
  gsize       scratch_per_thread;
};

/* All packed convolution weights live in one anonymous mapping, in
 * transparent huge pages where the system allows and populated in one call:
 * a resnet50's 100 MB is some 25 000 page faults in 4 KiB pages. */
static float *
weights_arena_new (gsize    floats,
                   gsize   *out_bytes,
                   GError **error)
{
  const gsize huge = 2 << 20;
  gsize bytes = (floats * sizeof (float) + huge - 1) / huge * huge;
  void *p;

  p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Not enough memory for the model’s weights (%" G_GSIZE_FORMAT " MB)",
                   bytes >> 20);
      return NULL;
    }
#ifdef MADV_HUGEPAGE
  madvise (p, bytes, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
  /* Best effort: before Linux 5.14 the pages fault in as they are written. */
  madvise (p, bytes, MADV_POPULATE_WRITE);
#endif

  *out_bytes = bytes;
  return p;
}

static void
weights_arena_free (float *arena,
                    gsize  bytes)
{
  if (arena != NULL)
    munmap (arena, bytes);
}

static inline Value *
value (TvwNet *net,
       TvwVal  v)
{
  return &g_array_index (net->values, Value, v);
}

static inline Node *
node (TvwNet *net,
      int     i)
{
  return g_ptr_array_index (net->nodes, i);
}

static void
param_free (gpointer data)
{
  Param *p = data;

  g_free (p->name);
  g_free (p->owned);
  g_free (p);
}

static void
node_free (gpointer data)
{
  Node *n = data;

  g_free (n->name);
  if (n->type != OP_CONV)   /* a convolution's are in the net's arena */
    g_free (n->packed);
  g_free (n->packed_bias);
  g_free (n->scale);
  g_free (n->shift);
  g_free (n);
}

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

TvwNet *
tvw_net_new (void)
{
  TvwNet *net = g_new0 (TvwNet, 1);

  tvw_engine_init ();

  net->values = g_array_new (FALSE, TRUE, sizeof (Value));
  net->nodes = g_ptr_array_new_with_free_func (node_free);
  net->params = g_ptr_array_new_with_free_func (param_free);
  net->param_index = g_hash_table_new (g_str_hash, g_str_equal);
  net->output = -1;
  /* Per-node timings on stderr, for whoever tunes the kernels. */
  net->profile = g_getenv ("TVW_PROFILE") != NULL;

  return net;
}

void
tvw_net_free (TvwNet *net)
{
  if (net == NULL)
    return;

  g_array_unref (net->values);
  g_ptr_array_unref (net->nodes);
  g_hash_table_unref (net->param_index);
  g_ptr_array_unref (net->params);
  g_free (net->arena);
  g_free (net->scratch);
  weights_arena_free (net->weights, net->weights_bytes);
  g_free (net);
}

/* Graph construction */

static TvwVal
new_value (TvwNet *net,
           int     c,
           int     producer)
{
  Value v = { .c = c, .producer = producer, .last_use = -1 };

  g_array_append_val (net->values, v);
  return (TvwVal) net->values->len - 1;
}

static Node *
new_node (TvwNet     *net,
          OpType      type,
          TvwVal      in0,
          TvwVal      in1,
          int         out_c,
          const char *name)
{
  Node *n = g_new0 (Node, 1);
  int index = (int) net->nodes->len;

  n->type = type;
  n->in[0] = in0;
  n->in[1] = in1;
  n->residual = -1;
  n->name = g_strdup (name);
  if (in0 >= 0)
    value (net, in0)->n_consumers++;
  if (in1 >= 0)
    value (net, in1)->n_consumers++;
  g_ptr_array_add (net->nodes, n);
  n->out = new_value (net, out_c, index);
  net->prepared = FALSE;

  return n;
}

static Param *
add_param (TvwNet       *net,
           const char   *prefix,
           const char   *suffix,
           guint         n_dims,
           const gint64 *shape,
           gboolean      buffer,
           gboolean      optional)
{
  Param *p = g_new0 (Param, 1);

  p->name = suffix != NULL ? g_strconcat (prefix, ".", suffix, NULL) : g_strdup (prefix);
  p->n_dims = n_dims;
  p->numel = 1;
  for (guint i = 0; i < n_dims; i++)
    {
      p->shape[i] = shape[i];
      p->numel *= shape[i];
    }
  p->buffer = buffer;
  p->optional = optional;

  g_return_val_if_fail (!g_hash_table_contains (net->param_index, p->name), p);

  g_ptr_array_add (net->params, p);
  g_hash_table_insert (net->param_index, p->name, p);

  return p;
}

void
tvw_net_declare_param (TvwNet       *net,
                       const char   *name,
                       guint         n_dims,
                       const gint64 *shape,
                       gboolean      optional)
{
  add_param (net, name, NULL, n_dims, shape, FALSE, optional);
}

TvwVal
tvw_net_input (TvwNet *net,
               int     channels)
{
  g_return_val_if_fail (net->nodes->len == 0, -1);

  return new_node (net, OP_INPUT, -1, -1, channels, "input")->out;
}

int
tvw_net_channels (TvwNet *net,
                  TvwVal  x)
{
  return value (net, x)->c;
}

TvwVal
tvw_net_conv2d_full (TvwNet            *net,
                     TvwVal             x,
                     const char        *name,
                     int                out_channels,
                     const TvwConvSpec *spec)
{
  int cin = value (net, x)->c;
  Node *n;
  gint64 wshape[4];

  g_return_val_if_fail (spec->groups > 0, -1);
  g_return_val_if_fail (cin % spec->groups == 0 && out_channels % spec->groups == 0, -1);

  n = new_node (net, OP_CONV, x, -1, out_channels, name);
  n->conv = *spec;
  n->cin = cin;
  n->cout = out_channels;

  wshape[0] = out_channels;
  wshape[1] = cin / spec->groups;
  wshape[2] = spec->kernel_h;
  wshape[3] = spec->kernel_w;
  n->weight = add_param (net, name, "weight", 4, wshape, FALSE, FALSE);
  if (spec->bias)
    n->bias = add_param (net, name, "bias", 1, wshape, FALSE, FALSE);

  return n->out;
}

TvwVal
tvw_net_conv2d (TvwNet     *net,
                TvwVal      x,
                const char *name,
                int         out_channels,
                int         kernel,
                int         stride,
                int         padding,
                int         dilation,
                int         groups,
                gboolean    bias)
{
  TvwConvSpec spec = {
    kernel, kernel, stride, stride, padding, padding, dilation, dilation, groups, bias
  };

  return tvw_net_conv2d_full (net, x, name, out_channels, &spec);
}

TvwVal
tvw_net_linear (TvwNet     *net,
                TvwVal      x,
                const char *name,
                int         out_features,
                gboolean    bias)
{
  TvwConvSpec spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, bias };
  int in = value (net, x)->c;
  gint64 wshape[2] = { out_features, in };
  Node *n;

  n = new_node (net, OP_CONV, x, -1, out_features, name);
  n->conv = spec;
  n->cin = in;
  n->cout = out_features;
  n->linear = TRUE;
  n->weight = add_param (net, name, "weight", 2, wshape, FALSE, FALSE);
  if (bias)
    n->bias = add_param (net, name, "bias", 1, wshape, FALSE, FALSE);

  return n->out;
}

/* The node that produced @x if nothing has consumed @x yet, so that an
 * operation on @x may be folded into it. */
static Node *
fusable_producer (TvwNet *net,
                  TvwVal  x)
{
  Value *v = value (net, x);

  if (v->n_consumers > 0 || v->producer < 0 || x == net->output)
    return NULL;

  return node (net, v->producer);
}

TvwVal
tvw_net_batch_norm (TvwNet     *net,
                    TvwVal      x,
                    const char *name,
                    double      eps)
{
  int c = value (net, x)->c;
  gint64 shape[1] = { c };
  Node *p = fusable_producer (net, x);
  Node *n;

  if (p == NULL || p->type != OP_CONV || p->linear || p->bn_weight != NULL ||
      p->act != TVW_ACT_NONE || p->residual >= 0)
    {
      n = new_node (net, OP_AFFINE, x, -1, c, name);
      p = n;
    }

  p->bn_eps = eps;
  p->bn_weight = add_param (net, name, "weight", 1, shape, FALSE, FALSE);
  p->bn_bias = add_param (net, name, "bias", 1, shape, FALSE, FALSE);
  p->bn_mean = add_param (net, name, "running_mean", 1, shape, TRUE, FALSE);
  p->bn_var = add_param (net, name, "running_var", 1, shape, TRUE, FALSE);
  /* Absent from checkpoints saved before PyTorch 0.4.1 (torchvision's
   * original ResNet files among them); PyTorch accepts that too. */
  add_param (net, name, "num_batches_tracked", 0, shape, TRUE, TRUE)->is_int = TRUE;

  return p->out;
}

TvwVal
tvw_net_activation (TvwNet        *net,
                    TvwVal         x,
                    TvwActivation  act)
{
  Node *p = fusable_producer (net, x);
  Node *n;

  if (act == TVW_ACT_NONE)
    return x;

  if (p != NULL && p->act == TVW_ACT_NONE &&
      (p->type == OP_CONV || p->type == OP_AFFINE || p->type == OP_ADD))
    {
      p->act = act;
      return x;
    }

  n = new_node (net, OP_ACT, x, -1, value (net, x)->c, NULL);
  n->act = act;
  return n->out;
}

TvwVal
tvw_net_add (TvwNet *net,
             TvwVal  a,
             TvwVal  b)
{
  Node *n;

  g_return_val_if_fail (value (net, a)->c == value (net, b)->c, -1);

  for (int i = 0; i < 2; i++)
    {
      TvwVal main = i == 0 ? a : b;
      TvwVal other = i == 0 ? b : a;
      Node *p = fusable_producer (net, main);

      if (p != NULL && p->type == OP_CONV && !p->linear &&
          p->act == TVW_ACT_NONE && p->residual < 0)
        {
          p->residual = other;
          value (net, other)->n_consumers++;
          return main;
        }
    }

  n = new_node (net, OP_ADD, a, b, value (net, a)->c, NULL);
  return n->out;
}

TvwVal
tvw_net_scale_channels (TvwNet *net,
                        TvwVal  x,
                        TvwVal  gate)
{
  g_return_val_if_fail (value (net, x)->c == value (net, gate)->c, -1);

  return new_node (net, OP_SCALE, x, gate, value (net, x)->c, NULL)->out;
}

static TvwVal
pool (TvwNet   *net,
      OpType    type,
      TvwVal    x,
      int       kernel,
      int       stride,
      int       padding,
      gboolean  ceil_mode,
      gboolean  count_include_pad)
{
  Node *n = new_node (net, type, x, -1, value (net, x)->c, NULL);

  n->kernel = kernel;
  n->stride = stride;
  n->padding = padding;
  n->ceil_mode = ceil_mode;
  n->count_include_pad = count_include_pad;

  return n->out;
}

TvwVal
tvw_net_max_pool2d (TvwNet   *net,
                    TvwVal    x,
                    int       kernel,
                    int       stride,
                    int       padding,
                    gboolean  ceil_mode)
{
  return pool (net, OP_MAX_POOL, x, kernel, stride, padding, ceil_mode, FALSE);
}

TvwVal
tvw_net_avg_pool2d (TvwNet   *net,
                    TvwVal    x,
                    int       kernel,
                    int       stride,
                    int       padding,
                    gboolean  ceil_mode,
                    gboolean  count_include_pad)
{
  return pool (net, OP_AVG_POOL, x, kernel, stride, padding, ceil_mode, count_include_pad);
}

TvwVal
tvw_net_adaptive_avg_pool2d (TvwNet *net,
                             TvwVal  x,
                             int     out_h,
                             int     out_w)
{
  Node *n = new_node (net, OP_ADAPTIVE_AVG_POOL, x, -1, value (net, x)->c, NULL);

  n->out_h = out_h;
  n->out_w = out_w;

  return n->out;
}

TvwVal
tvw_net_flatten (TvwNet *net,
                 TvwVal  x)
{
  Value *v = value (net, x);
  Node *p = v->producer >= 0 ? node (net, v->producer) : NULL;

  /* The layers after a flatten need its size when they are built: it is
   * known when the map comes from an adaptive pooling of a fixed size. */
  g_return_val_if_fail (p != NULL && p->type == OP_ADAPTIVE_AVG_POOL, -1);

  return new_node (net, OP_FLATTEN, x, -1, v->c * p->out_h * p->out_w, NULL)->out;
}

TvwVal
tvw_net_squeeze_excitation (TvwNet        *net,
                            TvwVal         x,
                            const char    *prefix,
                            int            squeeze_channels,
                            TvwActivation  act,
                            TvwActivation  gate_act)
{
  int c = value (net, x)->c;
  g_autofree char *fc1 = g_strconcat (prefix, ".fc1", NULL);
  g_autofree char *fc2 = g_strconcat (prefix, ".fc2", NULL);
  gint64 shape1[4] = { squeeze_channels, c, 1, 1 };
  gint64 shape2[4] = { c, squeeze_channels, 1, 1 };
  Node *n;

  g_return_val_if_fail (squeeze_channels > 0, -1);

  n = new_node (net, OP_SQUEEZE_EXCITE, x, -1, c, prefix);
  n->act = act;
  n->gate_act = gate_act;
  n->squeeze = squeeze_channels;
  n->weight = add_param (net, fc1, "weight", 4, shape1, FALSE, FALSE);
  n->bias = add_param (net, fc1, "bias", 1, shape1, FALSE, FALSE);
  n->weight2 = add_param (net, fc2, "weight", 4, shape2, FALSE, FALSE);
  n->bias2 = add_param (net, fc2, "bias", 1, shape2, FALSE, FALSE);

  return n->out;
}

void
tvw_net_set_output (TvwNet *net,
                    TvwVal  x)
{
  net->output = x;
}

float *
tvw_net_lookup_param (TvwNet     *net,
                      const char *name,
                      gint64     *numel)
{
  Param *p = g_hash_table_lookup (net->param_index, name);

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
      Param *p = g_ptr_array_index (net->params, i);

      if (!p->buffer)
        total += p->numel;
    }

  return total;
}

/* Parameter access, for binding */

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
  Param *p = g_ptr_array_index (net->params, index);

  *n_dims = p->n_dims;
  *shape = p->shape;
  *optional = p->optional;
  *is_float = !p->is_int;

  return p->name;
}

gboolean
tvw_net_has_param (TvwNet     *net,
                   const char *name)
{
  return g_hash_table_contains (net->param_index, name);
}

void
tvw_net_set_param_data (TvwNet      *net,
                        guint        index,
                        const float *data)
{
  Param *p = g_ptr_array_index (net->params, index);

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
      Param *p = g_ptr_array_index (net->params, i);
      const gboolean is_var = g_str_has_suffix (p->name, "running_var");
      const gboolean is_bn = is_var || g_str_has_suffix (p->name, "running_mean");
      double bound;

      if (p->is_int)
        continue;

      g_free (p->owned);
      p->owned = g_new (float, MAX (p->numel, 1));
      p->data = p->owned;

      /* Kaiming-uniform style bound from the fan-in of weights; BatchNorm
       * starts as an identity, like torchvision's initialisation. */
      if (p->n_dims >= 2)
        {
          gint64 fan_in = p->numel / p->shape[0];

          bound = 1.0 / sqrt ((double) MAX (fan_in, 1));
        }
      else
        bound = 0.0;

      if (is_var)
        for (gint64 j = 0; j < p->numel; j++)
          p->owned[j] = 1.f;
      else if (is_bn || bound == 0.0)
        memset (p->owned, 0, MAX (p->numel, 1) * sizeof (float));
      else
        for (gint64 j = 0; j < p->numel; j++)
          p->owned[j] = (float) ((((next_random (&state) >> 11) * 0x1.0p-53) * 2.0 - 1.0) * bound);
    }

  /* BatchNorm weights are ones. */
  for (guint i = 0; i < net->nodes->len; i++)
    {
      Node *n = node (net, i);

      if (n->bn_weight != NULL)
        for (gint64 j = 0; j < n->bn_weight->numel; j++)
          n->bn_weight->owned[j] = 1.f;
    }

  net->prepared = FALSE;
}

/* Preparation: fold BatchNorm, pack weights. */

static gboolean
check_bound (Param   *p,
             GError **error)
{
  if (p != NULL && p->data == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                   "Parameter “%s” has no value", p->name);
      return FALSE;
    }
  return TRUE;
}

/* Decides how a convolution's weights are laid out for its kernel, and
 * returns how many floats they take. */
static gsize
conv_layout (Node *n)
{
  const int groups = n->conv.groups;
  const int cin_g = n->cin / groups;
  const int cout_g = n->cout / groups;
  const gsize k = (gsize) n->conv.kernel_h * n->conv.kernel_w * cin_g;

  n->kp.depthwise = groups > 1 && groups == n->cin && groups == n->cout;
  n->kp.winograd = !n->kp.depthwise &&
    tvw_winograd_supports (n->conv.kernel_h, n->conv.kernel_w,
                           n->conv.stride_h, n->conv.stride_w,
                           n->conv.pad_h, n->conv.pad_w,
                           n->conv.dilation_h, n->conv.dilation_w,
                           groups, n->cin, n->cout);
  /* The GEMM's B in NR-column panels when the kernel reads it so. */
  n->kp.panels = !n->kp.depthwise && !n->kp.winograd &&
    (groups == 1 || cout_g >= TVW_GEMM_NR);

  if (n->kp.winograd)
    return tvw_winograd_packed_floats (n->cin, n->cout);
  if (n->kp.panels)
    return tvw_gemm_packed_floats ((int) k, cout_g) * groups;
  return (gsize) n->cout * k;
}

/* Folds the BatchNorm after a convolution into it: the bias goes into
 * packed_bias, the per-channel factor of the weights into @scale. */
static void
conv_fold (Node   *n,
           double *scale)
{
  g_free (n->packed_bias);
  n->packed_bias = g_new (float, n->cout);
  for (int o = 0; o < n->cout; o++)
    {
      double b = n->bias != NULL ? n->bias->data[o] : 0.0;

      if (n->bn_weight != NULL)
        {
          double s = n->bn_weight->data[o] / sqrt ((double) n->bn_var->data[o] + n->bn_eps);

          scale[o] = s;
          b = (b - n->bn_mean->data[o]) * s + n->bn_bias->data[o];
        }
      else
        scale[o] = 1.0;
      n->packed_bias[o] = (float) b;
    }
}

/* dst[c][j] = src[j][ci + c] · s[j] for c < 8, j < NR: eight columns of a
 * panel from its NR weight rows, in registers (a compiler turns the plain
 * loop into gathers, slow on most x86). */
static inline void
transpose_panel_rows (const float *const src[TVW_GEMM_NR],
                      const double      *s,
                      int                ci,
                      float             *dst)
{
#if defined(__AVX2__)
  for (int half = 0; half < TVW_GEMM_NR / 8; half++)
    {
      __m256 r[8], t[8], u[8];

      for (int j = 0; j < 8; j++)
        {
          const float *row = src[half * 8 + j] + ci;
          __m256d f = _mm256_set1_pd (s[half * 8 + j]);
          __m128 lo = _mm256_cvtpd_ps (_mm256_mul_pd (_mm256_cvtps_pd (_mm_loadu_ps (row)), f));
          __m128 hi = _mm256_cvtpd_ps (_mm256_mul_pd (_mm256_cvtps_pd (_mm_loadu_ps (row + 4)), f));

          r[j] = _mm256_insertf128_ps (_mm256_castps128_ps256 (lo), hi, 1);
        }
      for (int j = 0; j < 8; j += 2)
        {
          t[j] = _mm256_unpacklo_ps (r[j], r[j + 1]);
          t[j + 1] = _mm256_unpackhi_ps (r[j], r[j + 1]);
        }
      for (int j = 0; j < 8; j += 4)
        {
          u[j] = _mm256_shuffle_ps (t[j], t[j + 2], _MM_SHUFFLE (1, 0, 1, 0));
          u[j + 1] = _mm256_shuffle_ps (t[j], t[j + 2], _MM_SHUFFLE (3, 2, 3, 2));
          u[j + 2] = _mm256_shuffle_ps (t[j + 1], t[j + 3], _MM_SHUFFLE (1, 0, 1, 0));
          u[j + 3] = _mm256_shuffle_ps (t[j + 1], t[j + 3], _MM_SHUFFLE (3, 2, 3, 2));
        }
      for (int c = 0; c < 4; c++)
        {
          _mm256_storeu_ps (dst + c * TVW_GEMM_NR + half * 8,
                            _mm256_permute2f128_ps (u[c], u[c + 4], 0x20));
          _mm256_storeu_ps (dst + (c + 4) * TVW_GEMM_NR + half * 8,
                            _mm256_permute2f128_ps (u[c], u[c + 4], 0x31));
        }
    }
#else
  for (int c = 0; c < 8; c++)
    for (int j = 0; j < TVW_GEMM_NR; j++)
      dst[c * TVW_GEMM_NR + j] = (float) ((double) src[j][ci + c] * s[j]);
#endif
}

/* One piece of packing work: a whole convolution, or panels [begin, end)
 * of one in the GEMM layout. */
typedef struct
{
  Node         *n;
  const double *scale;
  int           begin, end;
} PackItem;

static void
pack_item (const PackItem *item)
{
  Node *n = item->n;
  const double *scale = item->scale;
  const float *w = n->weight->data;
  const int groups = n->conv.groups;
  const int cin_g = n->cin / groups;
  const int cout_g = n->cout / groups;
  const int kh = n->conv.kernel_h, kw = n->conv.kernel_w;
  const int taps = kh * kw;
  const gsize k = (gsize) taps * cin_g;

  if (n->kp.depthwise)
    {
      /* [ky·kw + kx][c]: the channel loop is the contiguous one. */
      for (int c = 0; c < n->cout; c++)
        for (int t = 0; t < taps; t++)
          n->packed[(gsize) t * n->cout + c] = (float) (w[(gsize) c * taps + t] * scale[c]);
    }
  else if (n->kp.winograd)
    tvw_winograd_pack (w, scale, n->cin, n->cout, item->begin, item->end, n->packed);
  else if (n->kp.panels)
    {
      /* Straight from PyTorch's [oc][ci][ky][kx] into the panels' rows
       * [(ky·kw + kx)·cin_g + ci][NR], written in order; the NR source rows
       * are read side by side.  Padding columns read a real row times 0. */
      const gsize group_floats = tvw_gemm_packed_floats ((int) k, cout_g);
      const int n_panels = (cout_g + TVW_GEMM_NR - 1) / TVW_GEMM_NR;

      for (int gp = item->begin; gp < item->end; gp++)
        {
          const int g = gp / n_panels, p = gp % n_panels;
          float *dst = n->packed + (gsize) g * group_floats + (gsize) p * TVW_GEMM_NR * k;
          const float *src[TVW_GEMM_NR];
          double s[TVW_GEMM_NR];

          for (int j = 0; j < TVW_GEMM_NR; j++)
            {
              const int o = MIN (p * TVW_GEMM_NR + j, cout_g - 1);

              src[j] = w + (gsize) (g * cout_g + o) * k;
              s[j] = p * TVW_GEMM_NR + j < cout_g ? scale[g * cout_g + o] : 0.0;
            }

          for (int t = 0; t < taps; t++)
            {
              int ci = 0;

              /* 1×1 (most of a ResNet's weights): the rows are contiguous,
               * transpose them eight columns at a time. */
              if (taps == 1)
                for (; ci + 8 <= cin_g; ci += 8)
                  {
                    transpose_panel_rows (src, s, ci, dst);
                    dst += 8 * TVW_GEMM_NR;
                  }

              for (; ci < cin_g; ci++)
                {
                  const gsize from = (gsize) ci * taps + t;

                  for (int j = 0; j < TVW_GEMM_NR; j++)
                    dst[j] = (float) ((double) src[j][from] * s[j]);
                  dst += TVW_GEMM_NR;
                }
            }
        }
    }
  else
    {
      for (int oc = 0; oc < n->cout; oc++)
        {
          const int g = oc / cout_g, o = oc % cout_g;
          const float *src = w + (gsize) oc * k;

          for (int ci = 0; ci < cin_g; ci++)
            for (int t = 0; t < taps; t++)
              n->packed[(gsize) g * k * cout_g + ((gsize) t * cin_g + ci) * cout_g + o] =
                (float) ((double) src[ci * taps + t] * scale[oc]);
        }
    }
}

static void
prepare_affine (Node *n)
{
  int c = (int) n->bn_weight->numel;

  g_free (n->scale);
  g_free (n->shift);
  n->scale = g_new (float, c);
  n->shift = g_new (float, c);
  for (int i = 0; i < c; i++)
    {
      double s = n->bn_weight->data[i] / sqrt ((double) n->bn_var->data[i] + n->bn_eps);

      n->scale[i] = (float) s;
      n->shift[i] = (float) (n->bn_bias->data[i] - n->bn_mean->data[i] * s);
    }
}

static void
pack_task (gpointer data,
           int      task,
           int      thread)
{
  pack_item ((const PackItem *) data + task);
}

static gboolean
check_node_bound (Node    *n,
                  GError **error)
{
  switch (n->type)
    {
    case OP_CONV:
      return check_bound (n->weight, error) && check_bound (n->bias, error) &&
             check_bound (n->bn_weight, error) && check_bound (n->bn_bias, error) &&
             check_bound (n->bn_mean, error) && check_bound (n->bn_var, error);
    case OP_AFFINE:
      return check_bound (n->bn_weight, error) && check_bound (n->bn_bias, error) &&
             check_bound (n->bn_mean, error) && check_bound (n->bn_var, error);
    case OP_SQUEEZE_EXCITE:
      return check_bound (n->weight, error) && check_bound (n->bias, error) &&
             check_bound (n->weight2, error) && check_bound (n->bias2, error);
    case OP_INPUT:
    case OP_ACT:
    case OP_ADD:
    case OP_SCALE:
    case OP_MAX_POOL:
    case OP_AVG_POOL:
    case OP_ADAPTIVE_AVG_POOL:
    case OP_FLATTEN:
    default:
      return TRUE;
    }
}

gboolean
tvw_net_prepare (TvwNet  *net,
                 GError **error)
{
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (PackItem));
  g_autoptr(GPtrArray) scales = g_ptr_array_new_with_free_func (g_free);
  g_autofree gsize *offsets = g_new0 (gsize, net->nodes->len);
  gsize total = 0, arena_bytes = 0;
  float *arena = NULL;

  /* Everything is checked and the memory found before anything changes:
   * a failure leaves the net as it was. */
  for (guint i = 0; i < net->nodes->len; i++)
    {
      Node *n = node (net, i);

      if (!check_node_bound (n, error))
        return FALSE;
      if (n->type == OP_CONV)
        {
          offsets[i] = total;
          total += (conv_layout (n) + ARENA_ALIGN - 1) & ~(gsize) (ARENA_ALIGN - 1);
        }
    }
  if (total > 0 && (arena = weights_arena_new (total, &arena_bytes, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < net->nodes->len; i++)
    {
      Node *n = node (net, i);

      if (n->type == OP_CONV)
        {
          double *scale = g_new (double, n->cout);
          const int cout_g = n->cout / n->conv.groups;
          const int n_panels = (cout_g + TVW_GEMM_NR - 1) / TVW_GEMM_NR;
          const gboolean split = n->kp.panels || n->kp.winograd;
          const int pieces = split ? n->conv.groups * n_panels : 1;
          /* Pieces of about 256 KiB of packed weights (Winograd's are 16/9
           * of the original, near enough). */
          const gsize panel_floats = (gsize) TVW_GEMM_NR * n->conv.kernel_h * n->conv.kernel_w *
                                     n->cin / n->conv.groups;
          const int step = split ? MAX (1, (int) ((64 * 1024) / MAX (panel_floats, 1))) : 1;

          g_ptr_array_add (scales, scale);
          conv_fold (n, scale);
          n->packed = arena + offsets[i];
          for (int b = 0; b < pieces; b += step)
            g_array_append_val (items, ((PackItem) { n, scale, b, MIN (pieces, b + step) }));
        }
      else if (n->type == OP_AFFINE)
        prepare_affine (n);
      else if (n->type == OP_SQUEEZE_EXCITE)
        {
          g_free (n->packed);
          n->packed = g_new (float, n->weight2->numel);
          tvw_squeeze_excitation_pack (n->weight2->data, (int) n->weight2->shape[0],
                                       n->squeeze, n->packed);
        }
    }

  /* One parallel region for the whole model: most layers alone are too
   * small to share out. */
  tvw_parallel_tasks ((int) items->len, tvw_engine_default_threads (), pack_task, items->data);

  weights_arena_free (net->weights, net->weights_bytes);
  net->weights = arena;
  net->weights_bytes = arena_bytes;
  net->prepared = TRUE;
  net->plan_n = 0;   /* packed pointers changed: plan again */

  return TRUE;
}

/* Planning */

static int
pool_out (int      size,
          int      kernel,
          int      stride,
          int      pad,
          int      dilation,
          gboolean ceil_mode)
{
  int num = size + 2 * pad - dilation * (kernel - 1) - 1;
  int out;

  if (num < 0)
    return 0;

  out = (ceil_mode ? (num + stride - 1) / stride : num / stride) + 1;
  /* The last window must start inside the input or the left padding. */
  if (ceil_mode && (out - 1) * stride >= size + pad)
    out--;

  return out;
}

static gboolean
too_small (TvwNet      *net,
           Node        *n,
           GError     **error)
{
  Value *in = value (net, n->in[0]);

  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
               "The input is too small for this architecture: %s gets a %d×%d map "
               "and would produce an empty one (input %d×%d)",
               n->name != NULL ? n->name : "a pooling layer", in->h, in->w,
               value (net, 0)->h, value (net, 0)->w);
  return FALSE;
}

/* First-fit placement of live values in the arena. */
typedef struct
{
  gsize start, end;
  int   value;
} Block;

static gsize
place (GArray *live,
       gsize   size)
{
  gsize at = 0;
  guint i;

  size = (size + ARENA_ALIGN - 1) & ~(gsize) (ARENA_ALIGN - 1);

  for (i = 0; i < live->len; i++)
    {
      Block *b = &g_array_index (live, Block, i);

      if (b->start >= at + size)
        break;
      at = MAX (at, b->end);
    }

  return at;
}

static void
insert_block (GArray *live,
              gsize   start,
              gsize   size,
              int     v)
{
  Block b = { start, start + ((size + ARENA_ALIGN - 1) & ~(gsize) (ARENA_ALIGN - 1)), v };
  guint i;

  for (i = 0; i < live->len; i++)
    if (g_array_index (live, Block, i).start > start)
      break;
  g_array_insert_val (live, i, b);
}

static void
remove_block (GArray *live,
              int     v)
{
  for (guint i = 0; i < live->len; i++)
    if (g_array_index (live, Block, i).value == v)
      {
        g_array_remove_index (live, i);
        return;
      }
}

static gsize
value_floats (Value *v)
{
  return (gsize) v->n * v->h * v->w * v->c;
}

static gboolean
plan (TvwNet  *net,
      int      n,
      int      h,
      int      w,
      int      n_threads,
      GError **error)
{
  g_autoptr(GArray) live = g_array_new (FALSE, FALSE, sizeof (Block));
  gsize arena = 0, scratch = 0;

  if (net->plan_n == n && net->plan_h == h && net->plan_w == w &&
      net->plan_threads == n_threads)
    return TRUE;

  for (guint i = 0; i < net->values->len; i++)
    value (net, i)->last_use = -1;

  /* Shapes, and the last node that reads each value. */
  for (guint i = 0; i < net->nodes->len; i++)
    {
      Node *nd = node (net, i);
      Value *out = value (net, nd->out);
      Value *in = nd->in[0] >= 0 ? value (net, nd->in[0]) : NULL;

      for (int j = 0; j < 2; j++)
        if (nd->in[j] >= 0)
          value (net, nd->in[j])->last_use = i;
      if (nd->residual >= 0)
        value (net, nd->residual)->last_use = i;

      switch (nd->type)
        {
        case OP_INPUT:
          out->n = n;
          out->h = h;
          out->w = w;
          break;

        case OP_CONV:
          {
            const TvwConvSpec *s = &nd->conv;

            out->n = in->n;
            if (nd->linear)
              {
                if (in->h != 1 || in->w != 1)
                  {
                    g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                                 "%s expects a flat input", nd->name);
                    return FALSE;
                  }
                out->h = out->w = 1;
              }
            else
              {
                out->h = pool_out (in->h, s->kernel_h, s->stride_h, s->pad_h, s->dilation_h, FALSE);
                out->w = pool_out (in->w, s->kernel_w, s->stride_w, s->pad_w, s->dilation_w, FALSE);
              }
            if (out->h <= 0 || out->w <= 0)
              return too_small (net, nd, error);

            nd->kp = (TvwConvParams) {
              .n = in->n, .h = in->h, .w = in->w, .cin = nd->cin,
              .oh = out->h, .ow = out->w, .cout = nd->cout,
              .kh = s->kernel_h, .kw = s->kernel_w,
              .sh = s->stride_h, .sw = s->stride_w,
              .ph = s->pad_h, .pw = s->pad_w,
              .dh = s->dilation_h, .dw = s->dilation_w,
              .groups = s->groups,
              .depthwise = nd->kp.depthwise,
              .panels = nd->kp.panels,
              .winograd = nd->kp.winograd,
              .weight = nd->packed, .bias = nd->packed_bias,
              .act = nd->act,
            };
            scratch = MAX (scratch, tvw_conv_scratch_floats (&nd->kp, n_threads));
          }
          break;

        case OP_MAX_POOL:
        case OP_AVG_POOL:
          out->n = in->n;
          out->h = pool_out (in->h, nd->kernel, nd->stride, nd->padding, 1, nd->ceil_mode);
          out->w = pool_out (in->w, nd->kernel, nd->stride, nd->padding, 1, nd->ceil_mode);
          if (out->h <= 0 || out->w <= 0 || nd->padding * 2 > nd->kernel)
            return too_small (net, nd, error);
          nd->pp = (TvwPoolParams) {
            .n = in->n, .h = in->h, .w = in->w, .c = in->c,
            .oh = out->h, .ow = out->w,
            .kh = nd->kernel, .kw = nd->kernel, .sh = nd->stride, .sw = nd->stride,
            .ph = nd->padding, .pw = nd->padding,
            .count_include_pad = nd->count_include_pad,
          };
          break;

        case OP_ADAPTIVE_AVG_POOL:
          out->n = in->n;
          out->h = nd->out_h;
          out->w = nd->out_w;
          nd->pp = (TvwPoolParams) {
            .n = in->n, .h = in->h, .w = in->w, .c = in->c,
            .oh = out->h, .ow = out->w,
          };
          break;

        case OP_FLATTEN:
          out->n = in->n;
          out->h = out->w = 1;
          g_assert (out->c == in->c * in->h * in->w);
          break;

        case OP_SCALE:
          {
            Value *gate = value (net, nd->in[1]);

            if (gate->h != 1 || gate->w != 1 || gate->n != in->n)
              {
                g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                             "Channel gate of the wrong shape");
                return FALSE;
              }
          }
          G_GNUC_FALLTHROUGH;
        case OP_AFFINE:
        case OP_ACT:
          out->n = in->n;
          out->h = in->h;
          out->w = in->w;
          break;

        case OP_ADD:
          {
            Value *b = value (net, nd->in[1]);

            if (b->n != in->n || b->h != in->h || b->w != in->w)
              {
                g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                             "Cannot add maps of %d×%d and %d×%d", in->h, in->w, b->h, b->w);
                return FALSE;
              }
            out->n = in->n;
            out->h = in->h;
            out->w = in->w;
          }
          break;

        case OP_SQUEEZE_EXCITE:
          out->n = in->n;
          out->h = in->h;
          out->w = in->w;
          nd->sp = (TvwSeParams) {
            .n = in->n, .c = in->c, .squeeze = nd->squeeze,
            .hw = (gsize) in->h * in->w,
            .w1 = nd->weight->data, .b1 = nd->bias->data,
            .w2t = nd->packed, .b2 = nd->bias2->data,
            .act = nd->act, .gate_act = nd->gate_act,
          };
          /* Uses the first thread's slice and beyond: the kernel runs
           * once, not per thread. */
          scratch = MAX (scratch, (tvw_squeeze_excitation_scratch_floats (&nd->sp) +
                                   n_threads - 1) / n_threads);
          break;

        default:
          g_assert_not_reached ();
        }

      if (nd->type == OP_CONV && nd->residual >= 0)
        {
          Value *r = value (net, nd->residual);

          if (r->n != out->n || r->h != out->h || r->w != out->w || r->c != out->c)
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                           "Residual of the wrong shape at %s", nd->name);
              return FALSE;
            }
        }
    }

  value (net, net->output)->last_use = G_MAXINT;

  /* Memory: a node's output never overlaps its inputs. */
  for (guint i = 0; i < net->nodes->len; i++)
    {
      Node *nd = node (net, i);
      Value *out = value (net, nd->out);
      gsize size = value_floats (out);
      int ins[3] = { nd->in[0], nd->in[1], nd->residual };

      out->offset = place (live, size);
      insert_block (live, out->offset, size, nd->out);
      arena = MAX (arena, out->offset + size);

      for (int j = 0; j < 3; j++)
        if (ins[j] >= 0 && value (net, ins[j])->last_use == (int) i)
          remove_block (live, ins[j]);
      if (out->last_use < 0)
        remove_block (live, nd->out);
    }

  if (arena > net->arena_floats)
    {
      g_free (net->arena);
      net->arena = g_try_malloc (arena * sizeof (float));
      if (net->arena == NULL)
        {
          net->arena_floats = 0;
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "Not enough memory for a batch of %d images of %d×%d", n, h, w);
          return FALSE;
        }
      net->arena_floats = arena;
    }

  if (MAX (scratch, 1) * n_threads > net->scratch_alloc)
    {
      g_free (net->scratch);
      net->scratch_alloc = MAX (scratch, 1) * n_threads;
      net->scratch = g_malloc (net->scratch_alloc * sizeof (float));
    }
  net->scratch_per_thread = scratch;

  net->plan_n = n;
  net->plan_h = h;
  net->plan_w = w;
  net->plan_threads = n_threads;

  return TRUE;
}

/* Execution */

static void
run_node (TvwNet      *net,
          Node        *nd,
          const float *input,
          int          nt)
{
  float *arena = net->arena;
  Value *out = value (net, nd->out);
  Value *in = nd->in[0] >= 0 ? value (net, nd->in[0]) : NULL;
  float *o = arena + out->offset;
  const float *x = in != NULL ? arena + in->offset : NULL;

  switch (nd->type)
    {
    case OP_INPUT:
      tvw_kernel_nchw_to_nhwc (input, o, out->n, out->c, out->h, out->w, nt);
      break;

    case OP_CONV:
      /* Depthwise and narrow grouped convolutions: direct kernels (issue 6). */
      if (tvw_kernel_grouped_supports (&nd->kp))
        tvw_kernel_grouped_conv2d (&nd->kp, x,
                                   nd->residual >= 0 ? arena + value (net, nd->residual)->offset : NULL,
                                   o, nt);
      else
        tvw_kernel_conv2d (&nd->kp, x,
                           nd->residual >= 0 ? arena + value (net, nd->residual)->offset : NULL,
                           o, net->scratch, net->scratch_per_thread, nt);
      break;

    case OP_AFFINE:
      tvw_kernel_channel_affine (x, o, (gsize) out->n * out->h * out->w, out->c,
                                 nd->scale, nd->shift, nd->act, nt);
      break;

    case OP_ACT:
      memcpy (o, x, value_floats (out) * sizeof (float));
      tvw_kernel_activation (o, value_floats (out), nd->act, nt);
      break;

    case OP_ADD:
      tvw_kernel_add (x, arena + value (net, nd->in[1])->offset, o,
                      value_floats (out), nd->act, nt);
      break;

    case OP_SCALE:
      tvw_kernel_scale_channels (x, arena + value (net, nd->in[1])->offset, o,
                                 out->n, (gsize) out->h * out->w, out->c, nt);
      break;

    case OP_MAX_POOL:
      tvw_kernel_max_pool2d (&nd->pp, x, o, nt);
      break;

    case OP_AVG_POOL:
      tvw_kernel_avg_pool2d (&nd->pp, x, o, nt);
      break;

    case OP_ADAPTIVE_AVG_POOL:
      tvw_kernel_adaptive_avg_pool2d (&nd->pp, x, o, nt);
      break;

    case OP_FLATTEN:
      /* NHWC → the C-major order of torch.flatten on NCHW. */
      tvw_kernel_nhwc_to_nchw (x, o, in->n, in->h, in->w, in->c, nt);
      break;

    case OP_SQUEEZE_EXCITE:
      tvw_kernel_squeeze_excitation (&nd->sp, x, o, net->scratch, nt);
      break;

    default:
      g_assert_not_reached ();
    }
}

gboolean
tvw_net_run (TvwNet        *net,
             const float   *input,
             int            n,
             int            h,
             int            w,
             int            n_threads,
             GCancellable  *cancellable,
             float        **output,
             gint64        *output_shape,
             guint         *output_n_dims,
             GError       **error)
{
  Value *out;
  float *result;
  unsigned int fp_mode;

  g_return_val_if_fail (net->output >= 0, FALSE);
  g_return_val_if_fail (net->prepared, FALSE);

  if (n_threads <= 0)
    n_threads = tvw_engine_default_threads ();

  if (n <= 0 || h <= 0 || w <= 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The input batch is empty (%d×%d×%d)", n, h, w);
      return FALSE;
    }

  if (!plan (net, n, h, w, n_threads, error))
    return FALSE;

  /* Denormals flushed while the engine runs here; the caller's mode back
   * after. */
  fp_mode = tvw_engine_fp_enter ();

  for (guint i = 0; i < net->nodes->len; i++)
    {
      gint64 start = net->profile ? g_get_monotonic_time () : 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          tvw_engine_fp_leave (fp_mode);
          return FALSE;
        }
      run_node (net, node (net, i), input, n_threads);

      if (net->profile)
        {
          Node *nd = node (net, i);
          Value *o = value (net, nd->out);

          g_printerr ("tvw-profile: %-28s type %d  %3dx%-3d c=%-5d %8.3f ms\n",
                      nd->name != NULL ? nd->name : "-", nd->type, o->h, o->w, o->c,
                      (g_get_monotonic_time () - start) / 1000.0);
        }
    }

  out = value (net, net->output);
  result = g_new (float, MAX (value_floats (out), 1));

  if (out->h == 1 && out->w == 1)
    {
      memcpy (result, net->arena + out->offset, value_floats (out) * sizeof (float));
      output_shape[0] = out->n;
      output_shape[1] = out->c;
      *output_n_dims = 2;
    }
  else
    {
      tvw_kernel_nhwc_to_nchw (net->arena + out->offset, result, out->n, out->h, out->w, out->c, n_threads);
      output_shape[0] = out->n;
      output_shape[1] = out->c;
      output_shape[2] = out->h;
      output_shape[3] = out->w;
      *output_n_dims = 4;
    }

  tvw_engine_fp_leave (fp_mode);
  *output = result;
  return TRUE;
}

/* Naive reference: the definition of a convolution, for tests. */
void
tvw_reference_conv2d (const float       *input,
                      int                n,
                      int                c,
                      int                h,
                      int                w,
                      const float       *weight,
                      const float       *bias,
                      int                out_channels,
                      const TvwConvSpec *s,
                      float             *output,
                      int               *out_h,
                      int               *out_w)
{
  int oh = pool_out (h, s->kernel_h, s->stride_h, s->pad_h, s->dilation_h, FALSE);
  int ow = pool_out (w, s->kernel_w, s->stride_w, s->pad_w, s->dilation_w, FALSE);
  int cin_g = c / s->groups, cout_g = out_channels / s->groups;

  *out_h = oh;
  *out_w = ow;

  for (int b = 0; b < n; b++)
    for (int o = 0; o < out_channels; o++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          {
            int g = o / cout_g;
            double acc = bias != NULL ? bias[o] : 0.0;

            for (int ci = 0; ci < cin_g; ci++)
              for (int ky = 0; ky < s->kernel_h; ky++)
                for (int kx = 0; kx < s->kernel_w; kx++)
                  {
                    int iy = y * s->stride_h - s->pad_h + ky * s->dilation_h;
                    int ix = x * s->stride_w - s->pad_w + kx * s->dilation_w;

                    if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                      continue;
                    acc += (double) input[(((gsize) b * c + g * cin_g + ci) * h + iy) * w + ix] *
                           weight[(((gsize) o * cin_g + ci) * s->kernel_h + ky) * s->kernel_w + kx];
                  }
            output[(((gsize) b * out_channels + o) * oh + y) * ow + x] = (float) acc;
          }
}
