/* tvw-engine-private.h — the inference engine's internal API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A TvwNet is a graph of op nodes built once per model by lib/models/ (in
 * the order torchvision's modules run), with parameters declared under
 * torchvision's state_dict key names.  Values are n-d arrays (any element
 * type, rank 1–5, strided: views share storage); a graph has named inputs
 * and outputs.  Parameters are bound from a checkpoint (or filled
 * randomly), then prepared: passes fold BatchNorm into the producing
 * convolution and fuse activations and residual additions into epilogues,
 * and weights are re-packed for the kernels.  Running plans the shapes,
 * layouts and one activation arena per input shape; kernels never
 * allocate.
 *
 * Users see torchvision's layouts (N×C×H×W, row-major); inside, the engine
 * picks its own (channels-last for convolutions).  The op set and its
 * constructors are in ops/tvw-ops-private.h.
 */

#pragma once

#include <gio/gio.h>

#include "tvw-array-private.h"


G_BEGIN_DECLS

typedef struct _TvwNet TvwNet;

/* A value (activation) of the graph. */
typedef int TvwVal;

typedef enum
{
  TVW_ACT_NONE,
  TVW_ACT_RELU,
  TVW_ACT_RELU6,
  TVW_ACT_SILU,
  TVW_ACT_SIGMOID,
  TVW_ACT_HARDSWISH,
  TVW_ACT_HARDSIGMOID,
  TVW_ACT_GELU,
  TVW_ACT_TANH,
} TvwActivation;


typedef struct
{
  int      kernel_h, kernel_w;
  int      stride_h, stride_w;
  int      pad_h, pad_w;
  int      dilation_h, dilation_w;
  int      groups;
  gboolean bias;
} TvwConvSpec;

TvwNet   *tvw_net_new                  (void);
void      tvw_net_free                 (TvwNet              *net);

/* Graph construction.  Each constructor infers its output's shape at once
 * from build-time shapes (the inputs' example shapes); the first error
 * (a shape mismatch, named after the torchvision module) is kept and the
 * constructors after it do nothing.  tvw_net_check () reports it. */

/* A named input of @elem and rank @rank; @example_shape gives the
 * build-time shapes (the batch and sizes real inputs have may differ). */
TvwVal    tvw_net_input_full           (TvwNet              *net,
                                        const char          *name,
                                        TvwElem              elem,
                                        int                  rank,
                                        const gint64        *example_shape);
/* An N×@channels×H×W image batch named “input” (224×224 at build time). */
TvwVal    tvw_net_input                (TvwNet              *net,
                                        int                  channels);
/* Size of dimension 1 of @x at build time. */
int       tvw_net_channels             (TvwNet              *net,
                                        TvwVal               x);
gboolean  tvw_net_check                (TvwNet              *net,
                                        GError             **error);
TvwVal    tvw_net_conv2d               (TvwNet              *net,
                                        TvwVal               x,
                                        const char          *name,
                                        int                  out_channels,
                                        int                  kernel,
                                        int                  stride,
                                        int                  padding,
                                        int                  dilation,
                                        int                  groups,
                                        gboolean             bias);
TvwVal    tvw_net_conv2d_full          (TvwNet              *net,
                                        TvwVal               x,
                                        const char          *name,
                                        int                  out_channels,
                                        const TvwConvSpec   *spec);
/* Folded into the convolution that produced @x when it can be. */
TvwVal    tvw_net_batch_norm           (TvwNet              *net,
                                        TvwVal               x,
                                        const char          *name,
                                        double               eps);
/* Fused into the producing convolution, linear or add when it can be. */
TvwVal    tvw_net_activation           (TvwNet              *net,
                                        TvwVal               x,
                                        TvwActivation        act);
/* Elementwise a + b; fused into the convolution that produced @a (a
 * residual epilogue) when it can be. */
TvwVal    tvw_net_add                  (TvwNet              *net,
                                        TvwVal               a,
                                        TvwVal               b);
/* x * gate, gate being N×C (a squeeze-excitation scale). */
TvwVal    tvw_net_scale_channels       (TvwNet              *net,
                                        TvwVal               x,
                                        TvwVal               gate);
TvwVal    tvw_net_max_pool2d           (TvwNet              *net,
                                        TvwVal               x,
                                        int                  kernel,
                                        int                  stride,
                                        int                  padding,
                                        gboolean             ceil_mode);
TvwVal    tvw_net_avg_pool2d           (TvwNet              *net,
                                        TvwVal               x,
                                        int                  kernel,
                                        int                  stride,
                                        int                  padding,
                                        gboolean             ceil_mode,
                                        gboolean             count_include_pad);
TvwVal    tvw_net_adaptive_avg_pool2d  (TvwNet              *net,
                                        TvwVal               x,
                                        int                  out_h,
                                        int                  out_w);
/* torch.flatten(x, 1) of an NCHW tensor: C-major order. */
TvwVal    tvw_net_flatten              (TvwNet              *net,
                                        TvwVal               x);
TvwVal    tvw_net_linear               (TvwNet              *net,
                                        TvwVal               x,
                                        const char          *name,
                                        int                  out_features,
                                        gboolean             bias);
/* Marks @x as the graph output @name (torchvision's key: “out”, “aux”,
 * “boxes”, …); outputs come back in the order they were added. */
void      tvw_net_output               (TvwNet              *net,
                                        const char          *name,
                                        TvwVal               x);
/* tvw_net_output (net, "out", x) */
void      tvw_net_set_output           (TvwNet              *net,
                                        TvwVal               x);
guint       tvw_net_get_n_inputs       (TvwNet              *net);
/* While on, nodes that declare a parameter already declared (same name and
 * shape) use that one: a module applied several times. */
void        tvw_net_set_param_sharing  (TvwNet              *net,
                                        gboolean             share);
/* Input @index as built: its name, element type, rank and example shape. */
const TvwArray *tvw_net_get_input      (TvwNet              *net,
                                        guint                index,
                                        const char         **name);
guint       tvw_net_get_n_outputs      (TvwNet              *net);
const char *tvw_net_get_output_name    (TvwNet              *net,
                                        guint                index);
/* torchvision.ops.SqueezeExcitation as one node:
 * x · gate_act (fc2 (act (fc1 (mean of x over the map)))), fc1 and fc2
 * being 1×1 convolutions with bias named “@prefix.fc1”, “@prefix.fc2”. */
TvwVal    tvw_net_squeeze_excitation   (TvwNet              *net,
                                        TvwVal               x,
                                        const char          *prefix,
                                        int                  squeeze_channels,
                                        TvwActivation        act,
                                        TvwActivation        gate_act);

/* Declares a parameter the model must find in a checkpoint, for tensors
 * that no op owns (they are only checked).  Optional ones may be missing. */
void      tvw_net_declare_param        (TvwNet              *net,
                                        const char          *name,
                                        guint                n_dims,
                                        const gint64        *shape,
                                        gboolean             optional);

/* The values of a parameter after tvw_net_init_random(), writable until
 * the next prepare (tests use it to set non-trivial BatchNorm values). */
float    *tvw_net_lookup_param         (TvwNet              *net,
                                        const char          *name,
                                        gint64              *numel);

/* Number of parameters, as torchvision counts them (sum of numel over
 * parameters, buffers excluded). */
gint64    tvw_net_count_parameters     (TvwNet              *net);

/* Parameters in declaration order, for binding (lib/models/ binds
 * checkpoints: the engine knows nothing of file formats). */
guint       tvw_net_get_n_params       (TvwNet              *net);
const char *tvw_net_get_param_info     (TvwNet              *net,
                                        guint                index,
                                        guint               *n_dims,
                                        const gint64       **shape,
                                        gboolean            *optional,
                                        gboolean            *is_float);
gboolean    tvw_net_has_param          (TvwNet              *net,
                                        const char          *name);
/* Running statistics and integer counters: state_dict entries that
 * torchvision's parameters() leaves out. */
gboolean    tvw_net_param_is_buffer    (TvwNet              *net,
                                        guint                index);
/* Whether parameter @index holds a quantized tensor's integers. */
gboolean    tvw_net_param_is_quantized (TvwNet              *net,
                                        guint                index);
/* Borrows @data (n_elements floats) until the next bind or the net's end. */
void        tvw_net_set_param_data     (TvwNet              *net,
                                        guint                index,
                                        const float         *data);

/* Fills every parameter deterministically from @seed like torchvision's
 * initialisation would (random weights, identity BatchNorm). */
void      tvw_net_init_random          (TvwNet              *net,
                                        guint32              seed);
/* Folds and packs.  Must be called after binding, before running.  Nodes
 * applying the same shared parameters (tvw_net_set_param_sharing ()) the
 * same way share one copy of their packed weights. */
gboolean  tvw_net_prepare              (TvwNet              *net,
                                        GError             **error);
/* Bytes of packed weights tvw_net_prepare () made (before rounding the
 * mapping up to whole pages). */
gsize     tvw_net_get_packed_bytes     (TvwNet              *net);

/* Runs the network.  @inputs: one contiguous row-major array per graph
 * input, in order (f32).  @outputs: one per graph output, filled with
 * new contiguous row-major arrays whose data (g_malloc) the caller frees.
 * Cancellation is checked between nodes.  Not reentrant: callers
 * serialise runs of one net. */
gboolean  tvw_net_run_arrays           (TvwNet              *net,
                                        const TvwArray      *inputs,
                                        int                  n_threads,
                                        GCancellable        *cancellable,
                                        TvwArray            *outputs,
                                        GError             **error);

/* tvw_net_run_arrays () for a one-input network on an NCHW float32 batch:
 * the first output, row-major, as a new buffer the caller owns
 * (@output_shape has room for TVW_MAX_RANK dimensions). */
gboolean  tvw_net_run                  (TvwNet              *net,
                                        const float         *input,
                                        int                  n,
                                        int                  h,
                                        int                  w,
                                        int                  n_threads,
                                        GCancellable        *cancellable,
                                        float              **output,
                                        gint64              *output_shape,
                                        guint               *output_n_dims,
                                        GError             **error);


void      tvw_engine_init              (void);
int       tvw_engine_default_threads   (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwNet, tvw_net_free)

G_END_DECLS
