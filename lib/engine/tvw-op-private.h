/* tvw-op-private.h — what an engine op is
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An op is a TvwOpClass: shape inference, optional weight preparation and
 * packing, scratch size and a kernel.  One file per op family under
 * lib/engine/ops/ defines the classes, their parameter structs and their
 * graph constructors (tvw_net_softmax () and friends, declared in
 * tvw-ops-private.h); ops/tvw-ops.c lists every class (the op table).
 *
 * A node of the graph calls its class through a TvwOpCall: the node's
 * parameter blob, its input and output arrays (shapes, strides, and data
 * pointers into the activation arena once planned), its bound weights and
 * what prepare made of them.  The executor owns layouts: before a node
 * runs, any input whose strides its class does not accept is copied
 * (“staged”) into an arena buffer of the layout it needs, the way
 * `.contiguous()` would be.
 */

#pragma once

#include <gio/gio.h>

#include "tvw-array-private.h"
#include "tvw-engine-private.h"
#include "tvw-error.h"

G_BEGIN_DECLS

typedef struct _TvwOpClass TvwOpClass;
typedef struct _TvwOpCall  TvwOpCall;

typedef enum
{
  /* Every input contiguous row-major; the executor makes the outputs
   * row-major after infer.  The default. */
  TVW_OP_ROW_MAJOR     = 0,
  /* Input 0 channels-last (rank 4 or 5), the other inputs row-major; the
   * outputs are made channels-last (rank 4/5) after infer. */
  TVW_OP_CHANNELS_LAST = 1 << 0,
  /* The kernel reads any strides: inputs are never staged, and infer sets
   * the outputs' strides (tvw_array_set_contiguous () or a layout like an
   * input's). */
  TVW_OP_STRIDED       = 1 << 1,
  /* Every output is a view of input 0's storage: infer sets the outputs'
   * strides and view_offset[]; there is no run.  With TVW_OP_ROW_MAJOR
   * (reshape) input 0 is made contiguous first; with TVW_OP_STRIDED
   * (permute, slice, split) it is taken as it is. */
  TVW_OP_VIEW          = 1 << 2,
  /* Data-dependent output sizes (NMS, top-k over a threshold, detections):
   * infer gives an upper bound, which the arena is planned for; run may
   * lower each output's shape[0] and the nodes after it are inferred again
   * with the shapes it produced.  Runs once, on the calling thread (it may
   * still use n_threads for parallel loops). */
  TVW_OP_HOST          = 1 << 3,
  /* Like TVW_OP_CHANNELS_LAST, for every rank 4/5 input (a convolution's
   * residual). */
  TVW_OP_CHANNELS_LAST_ALL = 1 << 4,
  /* With TVW_OP_CHANNELS_LAST: input 0 may also be a channel slice of a
   * wider channels-last buffer (tvw_array_channels_last_pitch ()), as a
   * concatenation's output is when the planner writes its inputs in
   * place. */
  TVW_OP_PITCHED_INPUT = 1 << 5,
  /* Row-major, but input 0 may also be channels-last (rank 4/5), and then
   * so is output 0 (GroupNorm between convolutions). */
  TVW_OP_CHANNELS_LAST_OK = 1 << 6,
} TvwOpFlags;

/* A parameter an op declares, found in checkpoints as “@node_name.@suffix”
 * (or exactly @suffix when the node has no name). */
typedef enum
{
  TVW_WEIGHT_BUFFER   = 1 << 0,  /* running stats: not counted as a parameter */
  TVW_WEIGHT_OPTIONAL = 1 << 1,  /* may be missing from a checkpoint */
  TVW_WEIGHT_INT      = 1 << 2,  /* an integer (num_batches_tracked): checked, not read */
  TVW_WEIGHT_INIT_ONES = 1 << 3, /* random initialisation: ones (norm scales, running_var) */
  /* A quantized tensor's integers (with “.q_scales” and “.q_zero_points”
   * declared next to it): a checkpoint must hold a quantized tensor
   * there, and only there. */
  TVW_WEIGHT_QUANTIZED = 1 << 4,
} TvwWeightFlags;

typedef struct
{
  const char *suffix;
  int         rank;
  gint64      shape[TVW_MAX_RANK];
  guint       flags;
} TvwWeightSpec;

struct _TvwOpCall
{
  const TvwOpClass *cls;
  const char       *name;          /* torchvision module name, for messages (nullable) */
  gpointer          params;        /* the node's parameter struct (a copy the node owns) */

  int               n_in, n_out;
  TvwArray         *in;            /* [n_in] */
  TvwArray         *out;           /* [n_out] */
  gint64           *view_offset;   /* [n_out], TVW_OP_VIEW only: elements into input 0 */

  /* Declared weights in declaration order: shape as declared; once bound,
   * f32 contiguous data (NULL for an optional weight the checkpoint did
   * not have, and for TVW_WEIGHT_INT ones). */
  int               n_weights;
  TvwArray         *weights;

  gpointer          prepared;      /* what prepare made (release frees it) */
  gpointer          packed;        /* packed_bytes () of packed weights, owned
                                    * by the graph, filled by pack () */

  /* While running: scratch (cls->scratch () bytes, 64-byte aligned) for
   * each of n_threads threads, back to back. */
  guint8           *scratch;
  gsize             scratch_bytes;
  int               n_threads;
};

struct _TvwOpClass
{
  const char *name;                /* “conv2d”, “softmax”, … */
  guint       flags;               /* TvwOpFlags */

  /* Sets the outputs' rank, shape and element type (and quantization)
   * from the inputs, params and declared weights; strides and view
   * offsets too for TVW_OP_STRIDED and TVW_OP_VIEW.  A mismatch is a
   * TVW_ERROR_SHAPE_MISMATCH (or INVALID_ARGUMENT) naming call->name and
   * the shapes.  Called when the node is built (with build-time shapes)
   * and whenever its inputs' shapes change; must not allocate. */
  gboolean  (*infer)      (TvwOpCall       *call,
                           GError         **error);

  /* Optional.  After weights are bound: checks them and makes
   * call->prepared (release frees it).  On failure nothing is changed. */
  gboolean  (*prepare)    (TvwOpCall       *call,
                           GError         **error);
  void      (*release)    (TvwOpCall       *call);

  /* Optional, for big weights: the graph puts every op's packed weights in
   * one mapping (huge pages) and packs them in parallel pieces.
   * packed_bytes () says how much this node needs (called after prepare),
   * pack_pieces () in how many independent pieces, and pack () fills
   * pieces [begin, end) of call->packed (it may read call->prepared). */
  gsize     (*packed_bytes) (const TvwOpCall *call);
  int       (*pack_pieces)  (const TvwOpCall *call);
  void      (*pack)         (const TvwOpCall *call,
                             int              begin,
                             int              end);

  /* Optional: scratch bytes per thread for the current shapes. */
  gsize     (*scratch)    (const TvwOpCall *call);

  /* Optional: whether run can write output 0 (rank 4, channels-last) as a
   * channel slice of a wider buffer, pixels tvw_array_channels_last_pitch ()
   * apart, for the current shapes and prepared weights.  The planner then
   * lets a concatenation's input be written straight into its output. */
  gboolean  (*writes_pitched) (const TvwOpCall *call);

  /* The kernel: reads call->in[].data, writes call->out[].data.  Never
   * allocates.  NULL for views. */
  void      (*run)        (TvwOpCall       *call);
};

/* What a graph constructor hands to tvw_net_add_node (). */
typedef struct
{
  const TvwOpClass    *cls;
  const char          *name;       /* module name: weights are “@name.suffix” */
  gconstpointer        params;
  gsize                params_size;
  int                  n_in;
  const TvwVal        *in;
  int                  n_weights;
  const TvwWeightSpec *weights;
  int                  n_out;      /* at least 1 */
} TvwNodeSpec;

/* Adds a node and infers its outputs' shapes at once (build-time shapes).
 * The first error is kept in the net and later constructors do nothing
 * (they return -1); builders check tvw_net_check () at the end.  @outputs
 * (nullable) receives the n_out values; the first is returned. */
TvwVal          tvw_net_add_node   (TvwNet            *net,
                                    const TvwNodeSpec *spec,
                                    TvwVal            *outputs);
/* Declares weights that no node runs, named “@prefix.@suffix” with their
 * flags (buffers, optional ones): parameters a checkpoint carries and
 * inference never reads, such as the auxiliary heads of GoogLeNet and
 * Inception v3.  They are checked and bound like any other. */
void            tvw_net_declare_weights (TvwNet              *net,
                                         const char          *prefix,
                                         int                  n_weights,
                                         const TvwWeightSpec *specs);
/* The build-time array of @v (no data): shape, element type. */
const TvwArray *tvw_net_array      (TvwNet            *net,
                                    TvwVal             v);

/* Helpers for infer functions. */
gboolean        tvw_op_check_rank  (const TvwOpCall   *call,
                                    int                input,
                                    int                min_rank,
                                    int                max_rank,
                                    GError           **error);
gboolean        tvw_op_check_elem  (const TvwOpCall   *call,
                                    int                input,
                                    TvwElem            elem,
                                    GError           **error);
/* Sets a TVW_ERROR_SHAPE_MISMATCH “@name (op): printf…”. */
void            tvw_op_set_error   (const TvwOpCall   *call,
                                    GError           **error,
                                    const char        *format,
                                    ...) G_GNUC_PRINTF (3, 4);
/* The same as a TVW_ERROR_INVALID_ARGUMENT (a bad parameter, not a shape). */
void            tvw_op_set_invalid (const TvwOpCall   *call,
                                    GError           **error,
                                    const char        *format,
                                    ...) G_GNUC_PRINTF (3, 4);
/* @dim in [-rank, rank) made non-negative, or -1. */
int             tvw_op_resolve_dim (int                dim,
                                    int                rank);
/* tvw_op_resolve_dim () or an INVALID_ARGUMENT naming input 0's shape. */
gboolean        tvw_op_check_dim   (const TvwOpCall   *call,
                                    int                dim,
                                    int                rank,
                                    int               *resolved,
                                    GError           **error);

/* Whether input 0 is channels-last and not also contiguous (rank 4 or 5,
 * more than one channel and pixel). */
gboolean        tvw_op_input_channels_last (const TvwOpCall *call);
/* The strides the executor gives a non-strided, non-view class's outputs
 * after infer. */
void            tvw_op_layout_outputs (TvwOpCall      *call);
/* Whether input @i can be read as it is; else tvw_op_input_layout () says
 * the layout it is staged into (shape kept, strides changed). */
gboolean        tvw_op_input_ok    (const TvwOpCall   *call,
                                    int                i);
void            tvw_op_input_layout (const TvwOpCall  *call,
                                    int                i,
                                    TvwArray          *staged);

/* Runs one op alone, outside any graph (tests, host-side code): stages the
 * inputs it cannot read as they are, infers, allocates the outputs
 * (g_malloc0; the caller frees out[i].data — except for views, whose
 * outputs point into in[0]), prepares and packs the weights (f32
 * contiguous, data set) and runs with @n_threads (≤ 0: all).  On error
 * nothing is left allocated. */
gboolean        tvw_op_eager       (const TvwOpClass  *cls,
                                    const char        *name,
                                    gconstpointer      params,
                                    int                n_in,
                                    const TvwArray    *in,
                                    int                n_weights,
                                    const TvwArray    *weights,
                                    int                n_out,
                                    TvwArray          *out,
                                    int                n_threads,
                                    GError           **error);

G_END_DECLS
