/* test-ops-shape.c — views, copies, reductions and indexing ops against
 * naive references
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every op class of tvw-op-shape.c, tvw-op-reduce.c and tvw-op-index.c
 * runs alone (tvw_op_eager () through test_run_op (), at 1, 2 and 3
 * threads) on random shapes, every TestLayout and several seeds, and is
 * compared with a reference written here from PyTorch's definition of
 * the op.  Data movement is exact (atol 0), for every element type it
 * moves; arithmetic tolerances are stated where they are used.
 */

#include "config.h"

#include <stdlib.h>

#include "tvw-error.h"
#include "tvw-op-test.h"

#define N_SEEDS 8

/* ---- helpers ------------------------------------------------------------- */

/* The element types data movement is checked with (by size: 4, 8, 4, 1, 1). */
static const TvwElem move_elems[] = {
  TVW_ELEM_F32, TVW_ELEM_I64, TVW_ELEM_I32, TVW_ELEM_U8, TVW_ELEM_BOOL,
};

static TvwElem
pick_elem (int i)
{
  return move_elems[i % G_N_ELEMENTS (move_elems)];
}

/* Sizes in [1, max]; every fourth seed bigger, so that the parallel paths
 * (≥ 32768 elements) run too. */
static void
random_shape (GRand  *rng,
              int     seed,
              int     rank,
              gint64 *shape)
{
  int max = seed % 4 == 3 ? 14 : 5;

  for (int i = 0; i < rank; i++)
    shape[i] = g_rand_int_range (rng, 1, max + 1);
}

static void
make_input (TestArray    *t,
            GRand        *rng,
            TvwElem       elem,
            int           rank,
            const gint64 *shape,
            TestLayout    layout)
{
  switch (elem)
    {
    case TVW_ELEM_U8:
      test_array_random (t, rng, elem, rank, shape, layout, 0, 256);
      break;
    case TVW_ELEM_BOOL:
      test_array_random (t, rng, elem, rank, shape, layout, 0, 1);
      break;
    case TVW_ELEM_F32:
      test_array_random (t, rng, elem, rank, shape, layout, -100, 100);
      break;
    default:
      test_array_random (t, rng, elem, rank, shape, layout, -100000, 100000);
      break;
    }
}

/* A row-major copy of @src, as the executor stages an input for a class
 * that wants row-major ones. */
static void
make_contiguous (const TestArray *src,
                 TestArray       *dst)
{
  memset (dst, 0, sizeof *dst);
  dst->a = src->a;
  tvw_array_set_contiguous (&dst->a);
  dst->storage = g_malloc0 (MAX (tvw_array_extent_bytes (&dst->a), 1));
  dst->a.data = dst->storage;
  tvw_array_copy (&src->a, &dst->a, 1);
}

static void
free_outputs (const TvwOpClass *cls,
              int               n_out,
              TvwArray         *out)
{
  if (cls->flags & TVW_OP_VIEW)
    return;
  for (int i = 0; i < n_out; i++)
    g_free (out[i].data);
}

/* A view's output lies inside its input's storage. */
static void
assert_view_of (const TestArray *in,
                const TvwArray  *out)
{
  const guint8 *lo = in->a.data;
  const guint8 *p = out->data;

  g_assert_true (p >= lo);
  if (tvw_array_numel (out) > 0)
    g_assert_true (p + tvw_array_extent_bytes (out) <= lo + tvw_array_extent_bytes (&in->a));
}

/* For data movement: which input element output index @oi copies into
 * @ii, or FALSE for a fill value. */
typedef gboolean (*SourceFunc) (const gint64  *oi,
                                gint64        *ii,
                                gconstpointer  data);

/* Checks @got exactly against @in moved by @source. */
static void
check_moved (const char     *what,
             const TvwArray *in,
             const TvwArray *got,
             int             rank,
             const gint64   *shape,
             SourceFunc      source,
             gconstpointer   data,
             double          fill)
{
  TvwArray ref;
  gint64 n, oi[TVW_MAX_RANK], ii[TVW_MAX_RANK];
  g_autofree double *want = NULL;

  tvw_array_init (&ref, got->elem, rank, shape);
  n = tvw_array_numel (&ref);
  want = g_new (double, MAX (n, 1));
  for (gint64 f = 0; f < n; f++)
    {
      test_unflatten (&ref, f, oi);
      want[f] = source (oi, ii, data) ? test_array_get (in, ii) : fill;
    }

  g_assert_cmpint (got->elem, ==, in->elem);
  test_assert_close (what, got, rank, shape, want, 0, 0);
}

/* infer refuses @in with @code and a message naming the node and op. */
static void
assert_refused (const TvwOpClass *cls,
                gconstpointer     params,
                int               n_in,
                const TvwArray   *in,
                int               n_out,
                int               code)
{
  g_autoptr(GError) error = NULL;
  TvwArray out[4] = { 0 };

  g_assert_false (tvw_op_eager (cls, "features.3", params, n_in, in, 0, NULL, n_out, out, 1,
                                &error));
  g_assert_error (error, TVW_ERROR, code);
  g_assert_nonnull (strstr (error->message, "features.3"));
  g_assert_nonnull (strstr (error->message, cls->name));
  g_test_message ("%s", error->message);
}

static TvwArray
shape_only (TvwElem      elem,
            int          rank,
            const gint64 *shape)
{
  TvwArray a;

  tvw_array_init (&a, elem, rank, shape);
  return a;
}

/* Shuffles dims[0..n). */
static void
shuffle (GRand *rng,
         int   *dims,
         int    n)
{
  for (int i = n - 1; i > 0; i--)
    {
      int j = g_rand_int_range (rng, 0, i + 1), t = dims[i];

      dims[i] = dims[j];
      dims[j] = t;
    }
}

/* A dim in [0, rank) given as itself or counted from the end. */
static int
random_dim (GRand *rng,
            int    rank,
            int   *resolved)
{
  *resolved = g_rand_int_range (rng, 0, rank);
  return g_rand_boolean (rng) ? *resolved - rank : *resolved;
}

/* ---- reshape, flatten ---------------------------------------------------- */

static gboolean
source_reshape (const gint64  *oi,
                gint64        *ii,
                gconstpointer  data)
{
  const TvwArray *pair = data;   /* [0] the input shape, [1] the output's */
  gint64 flat = 0;

  for (int i = 0; i < pair[1].rank; i++)
    flat = flat * pair[1].shape[i] + oi[i];
  test_unflatten (&pair[0], flat, ii);
  return TRUE;
}

static void
test_reshape_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), order[TVW_MAX_RANK];
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK];
        TvwReshapeParams p = { 0 };
        TestArray x, staged;
        TvwArray out, pair[2];
        int want_rank = 0;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        /* The executor makes a reshape's input row-major first. */
        make_contiguous (&x, &staged);

        if (seed % 2 == 0)
          {
            /* The sizes in another order, two of them merged, one -1. */
            for (int i = 0; i < rank; i++)
              order[i] = i;
            shuffle (rng, order, rank);
            for (int i = 0; i < rank; i++)
              want[want_rank++] = shape[order[i]];
            if (want_rank > 1 && g_rand_boolean (rng))
              {
                want[0] *= want[want_rank - 1];
                want_rank--;
              }
            p.rank = want_rank;
            memcpy (p.shape, want, sizeof want);
            if (g_rand_boolean (rng))
              p.shape[g_rand_int_range (rng, 0, want_rank)] = -1;
          }
        else
          {
            int start = g_rand_int_range (rng, 0, rank);
            int end = g_rand_int_range (rng, start, rank);

            p.flatten = TRUE;
            p.start_dim = g_rand_boolean (rng) ? start : start - rank;
            p.end_dim = g_rand_boolean (rng) ? end : end - rank;
            for (int i = 0; i < start; i++)
              want[want_rank++] = shape[i];
            want[want_rank] = 1;
            for (int i = start; i <= end; i++)
              want[want_rank] *= shape[i];
            want_rank++;
            for (int i = end + 1; i < rank; i++)
              want[want_rank++] = shape[i];
          }

        test_run_op (&tvw_op_reshape, &p, 1, &staged.a, 0, NULL, 1, &out, 0);
        assert_view_of (&staged, &out);
        g_assert_true (tvw_array_is_contiguous (&out));
        pair[0] = x.a;
        pair[1] = shape_only (x.a.elem, want_rank, want);
        check_moved ("reshape", &x.a, &out, want_rank, want, source_reshape, pair, 0);

        test_array_clear (&staged);
        test_array_clear (&x);
      }
}

static void
test_reshape_errors (void)
{
  const gint64 shape[] = { 2, 3, 4 };
  TvwArray x = shape_only (TVW_ELEM_F32, 3, shape);
  TvwReshapeParams wrong_numel = { .rank = 2, .shape = { 5, 5 } };
  TvwReshapeParams two_holes = { .rank = 2, .shape = { -1, -1 } };
  TvwReshapeParams no_fit = { .rank = 2, .shape = { 5, -1 } };
  TvwReshapeParams backwards = { .flatten = TRUE, .start_dim = 2, .end_dim = 1 };
  TvwReshapeParams bad_dim = { .flatten = TRUE, .start_dim = 0, .end_dim = 3 };

  assert_refused (&tvw_op_reshape, &wrong_numel, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);
  assert_refused (&tvw_op_reshape, &two_holes, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_reshape, &no_fit, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);
  assert_refused (&tvw_op_reshape, &backwards, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_reshape, &bad_dim, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- permute, transpose -------------------------------------------------- */

static gboolean
source_permute (const gint64  *oi,
                gint64        *ii,
                gconstpointer  data)
{
  const int *perm = data;   /* [0] rank, then the permutation */

  for (int i = 0; i < perm[0]; i++)
    ii[perm[1 + i]] = oi[i];
  return TRUE;
}

static void
test_permute_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1);
        int perm[1 + TVW_MAX_RANK] = { rank };
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK];
        TvwPermuteParams p = { .n_dims = rank };
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);

        for (int i = 0; i < rank; i++)
          perm[1 + i] = i;
        if (seed % 2 == 0)
          {
            shuffle (rng, perm + 1, rank);
            for (int i = 0; i < rank; i++)
              p.dims[i] = g_rand_boolean (rng) ? perm[1 + i] : perm[1 + i] - rank;
          }
        else
          {
            int a, b;

            p.transpose = TRUE;
            p.dims[0] = random_dim (rng, rank, &a);
            p.dims[1] = random_dim (rng, rank, &b);
            perm[1 + a] = b;
            perm[1 + b] = a;
          }
        for (int i = 0; i < rank; i++)
          want[i] = shape[perm[1 + i]];

        test_run_op (&tvw_op_permute, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        assert_view_of (&x, &out);
        check_moved ("permute", &x.a, &out, rank, want, source_permute, perm, 0);
        test_array_clear (&x);
      }
}

static void
test_permute_errors (void)
{
  const gint64 shape[] = { 2, 3, 4 };
  TvwArray x = shape_only (TVW_ELEM_F32, 3, shape);
  TvwPermuteParams repeated = { .n_dims = 3, .dims = { 0, 1, -2 } };
  TvwPermuteParams too_few = { .n_dims = 2, .dims = { 1, 0 } };
  TvwPermuteParams out_of_range = { .transpose = TRUE, .dims = { 0, 3 } };

  assert_refused (&tvw_op_permute, &repeated, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_permute, &too_few, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_permute, &out_of_range, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- unsqueeze, squeeze -------------------------------------------------- */

/* The output index with dim @data[0] dropped (unsqueeze: @data[1] = 1)
 * or inserted (squeeze of a 1: @data[1] = -1), or kept (@data[1] = 0). */
static gboolean
source_squeeze (const gint64  *oi,
                gint64        *ii,
                gconstpointer  data)
{
  const int *p = data;   /* dim, change, output rank */
  int j = 0;

  for (int i = 0; i < p[2]; i++)
    {
      if (p[1] == 1 && i == p[0])
        continue;
      if (p[1] == -1 && i == p[0])
        ii[j++] = 0;
      ii[j++] = oi[i];
    }
  if (p[1] == -1 && p[0] == p[2])
    ii[j] = 0;
  return TRUE;
}

static void
test_unsqueeze_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK), dim, sq[3];
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK];
        TvwDimParams p;
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        p.dim = random_dim (rng, rank + 1, &dim);
        for (int i = 0, j = 0; i <= rank; i++)
          want[i] = i == dim ? 1 : shape[j++];

        test_run_op (&tvw_op_unsqueeze, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        assert_view_of (&x, &out);
        sq[0] = dim;
        sq[1] = 1;
        sq[2] = rank + 1;
        check_moved ("unsqueeze", &x.a, &out, rank + 1, want, source_squeeze, sq, 0);
        test_array_clear (&x);
      }
}

static void
test_squeeze_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim, sq[3], want_rank = 0;
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK];
        TvwDimParams p;
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, rank, shape);
        p.dim = random_dim (rng, rank, &dim);
        /* Half the time the dim is a 1 and goes; else it stays. */
        if (seed % 2 == 0)
          shape[dim] = 1;
        else
          shape[dim] = MAX (shape[dim], 2);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        for (int i = 0; i < rank; i++)
          if (i != dim || shape[dim] != 1)
            want[want_rank++] = shape[i];

        test_run_op (&tvw_op_squeeze, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        assert_view_of (&x, &out);
        sq[0] = dim;
        sq[1] = shape[dim] == 1 ? -1 : 0;
        sq[2] = want_rank;
        check_moved ("squeeze", &x.a, &out, want_rank, want, source_squeeze, sq, 0);
        test_array_clear (&x);
      }
}

static void
test_squeeze_errors (void)
{
  const gint64 shape[] = { 2, 1, 4, 1, 3 };
  TvwArray x = shape_only (TVW_ELEM_F32, 5, shape);
  TvwDimParams too_far = { 5 }, too_far_back = { -6 };

  assert_refused (&tvw_op_squeeze, &too_far, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_squeeze, &too_far_back, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  /* Rank 5 is the most an array has. */
  assert_refused (&tvw_op_unsqueeze, &too_far_back, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  x.rank = 3;
  assert_refused (&tvw_op_unsqueeze, &too_far, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- slice --------------------------------------------------------------- */

typedef struct
{
  int    dim;
  gint64 start, step;
} SliceRef;

static gboolean
source_slice (const gint64  *oi,
              gint64        *ii,
              gconstpointer  data)
{
  const SliceRef *s = data;

  for (int i = 0; i < TVW_MAX_RANK; i++)
    ii[i] = oi[i];
  ii[s->dim] = s->start + oi[s->dim] * s->step;
  return TRUE;
}

static void
test_slice_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim;
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK], size, start, end, n = 0;
        TvwSliceParams p;
        SliceRef ref;
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        p.dim = random_dim (rng, rank, &dim);
        size = shape[dim];
        /* Bounds past either end and negative ones, clamped as Python does. */
        p.start = g_rand_int_range (rng, -size - 2, size + 3);
        p.end = seed == 5 ? G_MAXINT64 : g_rand_int_range (rng, -size - 2, size + 3);
        p.step = g_rand_int_range (rng, 1, 4);

        start = CLAMP (p.start < 0 ? p.start + size : p.start, 0, size);
        end = CLAMP (p.end < 0 ? p.end + size : p.end, 0, size);
        for (gint64 i = start; i < end; i += p.step)
          n++;
        memcpy (want, shape, sizeof want);
        want[dim] = n;

        test_run_op (&tvw_op_slice, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        assert_view_of (&x, &out);
        ref = (SliceRef) { dim, start, p.step };
        check_moved ("slice", &x.a, &out, rank, want, source_slice, &ref, 0);
        test_array_clear (&x);
      }
}

static void
test_slice_errors (void)
{
  const gint64 shape[] = { 2, 3, 4 };
  TvwArray x = shape_only (TVW_ELEM_F32, 3, shape);
  TvwSliceParams zero_step = { 1, 0, 2, 0 }, bad_dim = { -4, 0, 2, 1 };

  assert_refused (&tvw_op_slice, &zero_step, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_slice, &bad_dim, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- split --------------------------------------------------------------- */

static void
test_split_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim, n_out;
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK], left, at = 0;
        g_autofree TvwSplitParams *p = NULL;
        TvwArray out[8];
        TestArray x;

        random_shape (rng, seed, rank, shape);
        dim = g_rand_int_range (rng, 0, rank);
        shape[dim] = MAX (shape[dim], 3);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);

        /* Random sizes adding up to the dim, empty ones included. */
        n_out = g_rand_int_range (rng, 1, 5);
        p = g_malloc0 (sizeof (TvwSplitParams) + n_out * sizeof (gint64));
        p->dim = g_rand_boolean (rng) ? dim : dim - rank;
        p->n = n_out;
        left = shape[dim];
        for (int i = 0; i < n_out - 1; i++)
          {
            p->sizes[i] = g_rand_int_range (rng, 0, left + 1);
            left -= p->sizes[i];
          }
        p->sizes[n_out - 1] = left;

        test_run_op (&tvw_op_split, p, 1, &x.a, 0, NULL, n_out, out, 0);
        for (int i = 0; i < n_out; i++)
          {
            SliceRef ref = { dim, at, 1 };

            memcpy (want, shape, sizeof want);
            want[dim] = p->sizes[i];
            assert_view_of (&x, &out[i]);
            check_moved ("split", &x.a, &out[i], rank, want, source_slice, &ref, 0);
            at += p->sizes[i];
          }
        test_array_clear (&x);
      }
}

static void
test_split_errors (void)
{
  const gint64 shape[] = { 2, 6 };
  TvwArray x = shape_only (TVW_ELEM_F32, 2, shape);
  g_autofree TvwSplitParams *p = g_malloc0 (sizeof (TvwSplitParams) + 2 * sizeof (gint64));

  p->dim = 1;
  p->n = 2;
  p->sizes[0] = 2;
  p->sizes[1] = 3;
  assert_refused (&tvw_op_split, p, 1, &x, 2, TVW_ERROR_SHAPE_MISMATCH);
  p->sizes[1] = 4;
  assert_refused (&tvw_op_split, p, 1, &x, 3, TVW_ERROR_INVALID_ARGUMENT);
  p->sizes[0] = 7;
  p->sizes[1] = -1;
  assert_refused (&tvw_op_split, p, 1, &x, 2, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- contiguous ---------------------------------------------------------- */

static gboolean
source_same (const gint64  *oi,
             gint64        *ii,
             gconstpointer  data)
{
  memcpy (ii, oi, TVW_MAX_RANK * sizeof (gint64));
  return TRUE;
}

static void
test_contiguous_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1);
        gint64 shape[TVW_MAX_RANK];
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);

        test_run_op (&tvw_op_contiguous, NULL, 1, &x.a, 0, NULL, 1, &out, 0);
        g_assert_true (tvw_array_is_contiguous (&out));
        check_moved ("contiguous", &x.a, &out, rank, shape, source_same, NULL, 0);
        free_outputs (&tvw_op_contiguous, 1, &out);
        test_array_clear (&x);
      }
}

/* ---- concat -------------------------------------------------------------- */

static void
test_concat_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim, n_in;
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK], at = 0;
        TvwElem elem = pick_elem (seed + layout);
        TestArray x[4];
        TvwArray in[4], out;
        gboolean all_channels_last = TRUE;
        TvwDimParams p;

        random_shape (rng, seed, rank, shape);
        p.dim = random_dim (rng, rank, &dim);
        n_in = g_rand_int_range (rng, 1, 5);
        memcpy (want, shape, sizeof want);
        want[dim] = 0;
        /* Inputs of different layouts (each its own), empty ones too. */
        for (int i = 0; i < n_in; i++)
          {
            shape[dim] = g_rand_int_range (rng, 0, 5);
            /* Every input channels-last in half the channels-last runs. */
            make_input (&x[i], rng, elem, rank, shape,
                        i == 0 || (layout == TEST_LAYOUT_CHANNELS_LAST && seed % 2 == 0)
                        ? layout : (TestLayout) g_rand_int_range (rng, 0, TEST_N_LAYOUTS));
            in[i] = x[i].a;
            want[dim] += shape[dim];
            all_channels_last &= tvw_array_is_channels_last (&in[i]);
          }

        test_run_op (&tvw_op_concat, &p, n_in, in, 0, NULL, 1, &out, 0);
        /* Channels-last inputs give a channels-last output; else row-major. */
        g_assert_true (all_channels_last && !tvw_array_is_contiguous (&in[0])
                       ? tvw_array_is_channels_last (&out)
                       : tvw_array_is_contiguous (&out));
        for (int i = 0; i < n_in; i++)
          {
            /* Input i is the slab [at, at + size) of the output. */
            TvwArray slab = out;

            slab.shape[dim] = in[i].shape[dim];
            slab.data = (guint8 *) out.data + at * out.stride[dim] * (gint64) tvw_elem_size (elem);
            check_moved ("concat", &in[i], &slab, rank, in[i].shape, source_same, NULL, 0);
            at += in[i].shape[dim];
          }
        g_assert_cmpint (at, ==, want[dim]);
        g_assert_cmpint (out.rank, ==, rank);
        for (int d = 0; d < rank; d++)
          g_assert_cmpint (out.shape[d], ==, want[d]);
        free_outputs (&tvw_op_concat, 1, &out);
        for (int i = 0; i < n_in; i++)
          test_array_clear (&x[i]);
      }
}

static void
test_concat_errors (void)
{
  const gint64 a_shape[] = { 2, 3, 4 }, b_shape[] = { 2, 5, 5 };
  TvwArray in[2] = { shape_only (TVW_ELEM_F32, 3, a_shape), shape_only (TVW_ELEM_F32, 3, b_shape) };
  TvwDimParams along_1 = { 1 }, along_3 = { 3 };

  assert_refused (&tvw_op_concat, &along_1, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
  in[1] = shape_only (TVW_ELEM_I64, 3, a_shape);
  assert_refused (&tvw_op_concat, &along_1, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
  in[1] = in[0];
  assert_refused (&tvw_op_concat, &along_3, 2, in, 1, TVW_ERROR_INVALID_ARGUMENT);
  in[1].rank = 2;
  assert_refused (&tvw_op_concat, &along_1, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
}

/* ---- pad ----------------------------------------------------------------- */

static gboolean
source_pad (const gint64  *oi,
            gint64        *ii,
            gconstpointer  data)
{
  const TvwArray *x = data;
  const gint64 *before = (const gint64 *) (x + 1);

  for (int i = 0; i < x->rank; i++)
    {
      ii[i] = oi[i] - before[i];
      if (ii[i] < 0 || ii[i] >= x->shape[i])
        return FALSE;
    }
  return TRUE;
}

static void
test_pad_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1);
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK];
        /* The input's descriptor, then the amounts before each dim. */
        struct { TvwArray x; gint64 before[TVW_MAX_RANK]; } ref = { 0 };
        TvwElem elem = pick_elem (seed + layout);
        TvwPadParams p = { 0 };
        TestArray x;
        TvwArray out;
        double fill;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, elem, rank, shape, layout);
        p.n_pads = g_rand_int_range (rng, 1, rank + 1);
        /* Whole numbers that every element type holds. */
        p.value = elem == TVW_ELEM_BOOL ? 1 : g_rand_int_range (rng, 0, 100);
        fill = p.value;

        memcpy (want, shape, sizeof want);
        for (int i = 0; i < p.n_pads; i++)
          {
            int d = rank - 1 - i;

            /* Negative pads crop; never below an empty dimension. */
            p.pads[2 * i] = g_rand_int_range (rng, -(int) shape[d], 4);
            p.pads[2 * i + 1] = g_rand_int_range (rng, -(int) (shape[d] + p.pads[2 * i]), 4);
            ref.before[d] = p.pads[2 * i];
            want[d] = shape[d] + p.pads[2 * i] + p.pads[2 * i + 1];
          }
        ref.x = x.a;

        test_run_op (&tvw_op_pad, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        g_assert_true (tvw_array_is_contiguous (&out));
        check_moved ("pad", &x.a, &out, rank, want, source_pad, &ref, fill);
        free_outputs (&tvw_op_pad, 1, &out);
        test_array_clear (&x);
      }
}

static void
test_pad_errors (void)
{
  const gint64 shape[] = { 2, 3 };
  TvwArray x = shape_only (TVW_ELEM_F32, 2, shape);
  TvwPadParams too_many = { .n_pads = 3 }, negative = { .n_pads = 1, .pads = { -2, -2 } };

  assert_refused (&tvw_op_pad, &too_many, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_pad, &negative, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);
}

/* ---- roll ---------------------------------------------------------------- */

static gboolean
source_roll (const gint64  *oi,
             gint64        *ii,
             gconstpointer  data)
{
  const TvwArray *x = data;
  const gint64 *shift = (const gint64 *) (x + 1);

  for (int i = 0; i < x->rank; i++)
    {
      gint64 s = shift[i] % x->shape[i];

      ii[i] = ((oi[i] - s) % x->shape[i] + x->shape[i]) % x->shape[i];
    }
  return TRUE;
}

static void
test_roll_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim;
        gint64 shape[TVW_MAX_RANK];
        struct { TvwArray x; gint64 shift[TVW_MAX_RANK]; } ref = { 0 };
        TvwRollParams p = { 0 };
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        /* Several dims, repeats adding up, shifts of either sign and
         * larger than the dim. */
        p.n_dims = g_rand_int_range (rng, 1, 7);
        for (int i = 0; i < p.n_dims; i++)
          {
            p.dims[i] = random_dim (rng, rank, &dim);
            p.shifts[i] = g_rand_int_range (rng, -20, 21);
            ref.shift[dim] += p.shifts[i];
          }
        ref.x = x.a;

        test_run_op (&tvw_op_roll, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        check_moved ("roll", &x.a, &out, rank, shape, source_roll, &ref, 0);
        free_outputs (&tvw_op_roll, 1, &out);
        test_array_clear (&x);
      }
}

static void
test_roll_errors (void)
{
  const gint64 shape[] = { 2, 3 };
  TvwArray x = shape_only (TVW_ELEM_F32, 2, shape);
  TvwRollParams none = { 0 }, bad_dim = { .n_dims = 1, .shifts = { 1 }, .dims = { 2 } };

  assert_refused (&tvw_op_roll, &none, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_roll, &bad_dim, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- channel shuffle ----------------------------------------------------- */

static gboolean
source_shuffle (const gint64  *oi,
                gint64        *ii,
                gconstpointer  data)
{
  const gint64 *gc = data;   /* groups, channels */
  gint64 per_group = gc[1] / gc[0];

  /* view (N, g, C/g, H, W).transpose (1, 2): output channel a·g + b is
   * input channel b·(C/g) + a. */
  memcpy (ii, oi, 4 * sizeof (gint64));
  ii[1] = oi[1] % gc[0] * per_group + oi[1] / gc[0];
  return TRUE;
}

static void
test_channel_shuffle_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        gint64 shape[4], gc[2];
        TvwShuffleParams p;
        TestArray x;
        TvwArray out;

        random_shape (rng, seed, 4, shape);
        p.groups = g_rand_int_range (rng, 1, 5);
        shape[1] = p.groups * g_rand_int_range (rng, 1, seed % 4 == 3 ? 30 : 6);
        make_input (&x, rng, pick_elem (seed + layout), 4, shape, layout);

        test_run_op (&tvw_op_channel_shuffle, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        /* ShuffleNet's channels-last maps stay channels-last. */
        if (tvw_array_is_channels_last (&x.a) && !tvw_array_is_contiguous (&x.a))
          g_assert_true (tvw_array_is_channels_last (&out));
        else
          g_assert_true (tvw_array_is_contiguous (&out));
        gc[0] = p.groups;
        gc[1] = shape[1];
        check_moved ("channel_shuffle", &x.a, &out, 4, shape, source_shuffle, gc, 0);
        free_outputs (&tvw_op_channel_shuffle, 1, &out);
        test_array_clear (&x);
      }
}

/* ShuffleNet's case, two groups of floats on channels-last maps (the
 * interleaving loop): odd and even halves, ShuffleNet V2's widths. */
static void
test_channel_shuffle_two_groups (void)
{
  const gint64 halves[] = { 1, 3, 8, 17, 58, 116 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (2);

  for (gsize i = 0; i < G_N_ELEMENTS (halves); i++)
    {
      gint64 shape[4] = { 1 + (gint64) i % 2, 2 * halves[i], 3 + (gint64) i, i == 4 ? 28 : 5 };
      gint64 gc[2] = { 2, shape[1] };
      TvwShuffleParams p = { 2 };
      TestArray x;
      TvwArray out;

      make_input (&x, rng, TVW_ELEM_F32, 4, shape, TEST_LAYOUT_CHANNELS_LAST);
      test_run_op (&tvw_op_channel_shuffle, &p, 1, &x.a, 0, NULL, 1, &out, 0);
      g_assert_true (tvw_array_is_channels_last (&out));
      check_moved ("channel_shuffle", &x.a, &out, 4, shape, source_shuffle, gc, 0);
      free_outputs (&tvw_op_channel_shuffle, 1, &out);
      test_array_clear (&x);
    }
}

/* Two inputs (the fused torch.cat + channel_shuffle of two groups):
 * output channel 2a + b is input b's channel a.  Channels-last inputs
 * (the interleaving loop), one channels-last and one not, and other
 * layouts (one plane at a time); floats and a wider type. */
static void
test_channel_shuffle_two_inputs (void)
{
  const TestLayout layouts[][2] = {
    { TEST_LAYOUT_CHANNELS_LAST, TEST_LAYOUT_CHANNELS_LAST },
    { TEST_LAYOUT_CHANNELS_LAST, TEST_LAYOUT_CONTIGUOUS },
    { TEST_LAYOUT_PERMUTED, TEST_LAYOUT_GAPPED },
  };
  const gint64 halves[] = { 1, 17, 58 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (3);

  for (gsize l = 0; l < G_N_ELEMENTS (layouts); l++)
    for (gsize i = 0; i < G_N_ELEMENTS (halves); i++)
      {
        const TvwElem elem = i == 1 ? TVW_ELEM_I64 : TVW_ELEM_F32;
        gint64 shape[4] = { 1 + (gint64) i % 2, halves[i], 2 + (gint64) l, 3 + (gint64) i };
        gint64 oshape[4] = { shape[0], 2 * shape[1], shape[2], shape[3] };
        TvwShuffleParams p = { 2 };
        TestArray x[2];
        TvwArray in[2], out, ref;
        g_autofree double *want = NULL;
        gint64 oi[4];

        for (int k = 0; k < 2; k++)
          {
            make_input (&x[k], rng, elem, 4, shape, layouts[l][k]);
            in[k] = x[k].a;
          }
        test_run_op (&tvw_op_channel_shuffle, &p, 2, in, 0, NULL, 1, &out, 0);
        /* Channels-last inputs (not also contiguous: one channel) give a
         * channels-last output, one contiguous input a contiguous one; a
         * random permutation may be either. */
        if (l == 0 && halves[i] > 1)
          g_assert_true (tvw_array_is_channels_last (&out));
        else if (l == 1 && halves[i] > 1)
          g_assert_true (tvw_array_is_contiguous (&out));

        tvw_array_init (&ref, elem, 4, oshape);
        want = g_new (double, tvw_array_numel (&ref));
        for (gint64 f = 0; f < tvw_array_numel (&ref); f++)
          {
            test_unflatten (&ref, f, oi);
            {
              gint64 ii[4] = { oi[0], oi[1] / 2, oi[2], oi[3] };

              want[f] = test_array_get (&x[oi[1] % 2].a, ii);
            }
          }
        test_assert_close ("channel_shuffle", &out, 4, oshape, want, 0, 0);
        free_outputs (&tvw_op_channel_shuffle, 1, &out);
        test_array_clear (&x[0]);
        test_array_clear (&x[1]);
      }
}

static void
test_channel_shuffle_errors (void)
{
  const gint64 shape[] = { 1, 6, 2, 2 };
  TvwArray x = shape_only (TVW_ELEM_F32, 4, shape);
  TvwShuffleParams four = { 4 }, zero = { 0 };

  assert_refused (&tvw_op_channel_shuffle, &four, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_channel_shuffle, &zero, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  x.rank = 3;
  assert_refused (&tvw_op_channel_shuffle, &four, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);

  /* Two inputs: two groups of the same shape and type. */
  {
    const gint64 other[] = { 1, 4, 2, 2 };
    TvwShuffleParams two = { 2 };
    TvwArray pair[2] = { shape_only (TVW_ELEM_F32, 4, shape), shape_only (TVW_ELEM_F32, 4, shape) };

    assert_refused (&tvw_op_channel_shuffle, &four, 2, pair, 1, TVW_ERROR_INVALID_ARGUMENT);
    pair[1] = shape_only (TVW_ELEM_F32, 4, other);
    assert_refused (&tvw_op_channel_shuffle, &two, 2, pair, 1, TVW_ERROR_INVALID_ARGUMENT);
    pair[1] = shape_only (TVW_ELEM_I64, 4, shape);
    assert_refused (&tvw_op_channel_shuffle, &two, 2, pair, 1, TVW_ERROR_SHAPE_MISMATCH);
  }
  {
    TvwArray three[3] = { shape_only (TVW_ELEM_F32, 4, shape), shape_only (TVW_ELEM_F32, 4, shape),
                          shape_only (TVW_ELEM_F32, 4, shape) };
    TvwShuffleParams two = { 2 };

    assert_refused (&tvw_op_channel_shuffle, &two, 3, three, 1, TVW_ERROR_INVALID_ARGUMENT);
  }
}

/* ---- reductions ---------------------------------------------------------- */

/* mean/sum/max of @x over @mask by the definition: every input element
 * added (in double) to the output element it belongs to. */
static void
reference_reduce (const TvwArray *x,
                  TvwReduceOp     op,
                  guint           mask,
                  gboolean        keepdim,
                  int            *out_rank,
                  gint64         *out_shape,
                  double        **want)
{
  TvwArray o;
  gint64 idx[TVW_MAX_RANK], oshape[TVW_MAX_RANK], n = tvw_array_numel (x), count = 1;
  int r = 0;

  for (int d = 0; d < x->rank; d++)
    oshape[d] = mask & (1u << d) ? 1 : x->shape[d];
  tvw_array_init (&o, TVW_ELEM_F32, x->rank, oshape);
  *want = g_new (double, MAX (tvw_array_numel (&o), 1));
  for (gint64 f = 0; f < tvw_array_numel (&o); f++)
    (*want)[f] = op == TVW_REDUCE_MAX ? -INFINITY : 0;

  for (gint64 f = 0; f < n; f++)
    {
      gint64 of = 0;
      double v;

      test_unflatten (x, f, idx);
      v = test_array_get (x, idx);
      for (int d = 0; d < x->rank; d++)
        of = of * oshape[d] + (mask & (1u << d) ? 0 : idx[d]);
      if (op == TVW_REDUCE_MAX)
        (*want)[of] = MAX ((*want)[of], v);
      else
        (*want)[of] += v;
    }

  for (int d = 0; d < x->rank; d++)
    if (mask & (1u << d))
      count *= x->shape[d];
  if (op == TVW_REDUCE_MEAN)
    for (gint64 f = 0; f < tvw_array_numel (&o); f++)
      (*want)[f] /= count;

  for (int d = 0; d < x->rank; d++)
    if (!(mask & (1u << d)) || keepdim)
      out_shape[r++] = oshape[d];
  *out_rank = r;
}

static const char *const reduce_names[] = { "mean", "sum", "max" };

static void
test_reduce_random (void)
{
  double worst[3] = { 0 };

  for (int seed = 0; seed < 3 * N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), out_rank;
        gint64 shape[TVW_MAX_RANK], out_shape[TVW_MAX_RANK];
        g_autofree double *want = NULL;
        TvwReduceParams p;
        TestArray x;
        TvwArray out;
        double err;

        random_shape (rng, seed, rank, shape);
        test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -1, 1);
        p.op = seed % 3;
        p.dims_mask = g_rand_int_range (rng, 1, 1 << rank);
        p.keepdim = g_rand_boolean (rng);
        reference_reduce (&x.a, p.op, p.dims_mask, p.keepdim, &out_rank, out_shape, &want);

        test_run_op (&tvw_op_reduce, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        /* Sums are exact in double before the one rounding to float:
         * 1e-6 relative (+ 1e-6 for sums that cancel to about 0); max is
         * an element, exact. */
        if (p.op == TVW_REDUCE_MAX)
          err = test_assert_close (reduce_names[p.op], &out, out_rank, out_shape, want, 0, 0);
        else
          err = test_assert_close (reduce_names[p.op], &out, out_rank, out_shape, want, 1e-6, 1e-6);
        worst[p.op] = MAX (worst[p.op], err);
        free_outputs (&tvw_op_reduce, 1, &out);
        test_array_clear (&x);
      }

  g_test_message ("max error: mean %.3g, sum %.3g, max %.3g", worst[0], worst[1], worst[2]);
}

/* 2^22 values near 1: a float accumulator is off by ~1e-4 relative (each
 * addition rounds at 0.25–0.5 once the sum passes 2^21); a double one is
 * within the final rounding to float. */
static void
test_reduce_large_sum (void)
{
  const gint64 shape[] = { 2, 1 << 21 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (42);
  g_autofree double *want = NULL;
  TestArray x;
  int out_rank;
  gint64 out_shape[TVW_MAX_RANK];

  test_array_random (&x, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, 0.5, 1.5);
  for (TvwReduceOp op = TVW_REDUCE_MEAN; op <= TVW_REDUCE_SUM; op++)
    for (guint mask = 1; mask <= 3; mask++)
      {
        TvwReduceParams p = { op, mask, FALSE };
        TvwArray out;
        double err;

        g_clear_pointer (&want, g_free);
        reference_reduce (&x.a, op, mask, FALSE, &out_rank, out_shape, &want);
        test_run_op (&tvw_op_reduce, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        err = test_assert_close ("large sum", &out, out_rank, out_shape, want, 0, 1e-6);
        g_test_message ("%s over mask %u: max error %.3g", reduce_names[op], mask, err);
        free_outputs (&tvw_op_reduce, 1, &out);
      }
  test_array_clear (&x);
}

static void
test_reduce_errors (void)
{
  const gint64 shape[] = { 2, 0, 3 };
  TvwArray x = shape_only (TVW_ELEM_F32, 3, shape);
  TvwReduceParams none = { TVW_REDUCE_SUM, 0, FALSE }, past = { TVW_REDUCE_SUM, 8, FALSE };
  TvwReduceParams empty_max = { TVW_REDUCE_MAX, 2, FALSE }, ints = { TVW_REDUCE_SUM, 1, FALSE };

  assert_refused (&tvw_op_reduce, &none, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_reduce, &past, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_reduce, &empty_max, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);
  x.elem = TVW_ELEM_I64;
  assert_refused (&tvw_op_reduce, &ints, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);
}

/* ---- softmax ------------------------------------------------------------- */

/* softmax / log_softmax along @dim in double, from the definition
 * (shifted by the max, which changes nothing mathematically). */
static double *
reference_softmax (const TvwArray *x,
                   int             dim,
                   gboolean        log_)
{
  gint64 n = tvw_array_numel (x), idx[TVW_MAX_RANK];
  double *want = g_new (double, MAX (n, 1));

  for (gint64 f = 0; f < n; f++)
    {
      double max = -INFINITY, sum = 0, v;

      test_unflatten (x, f, idx);
      v = test_array_get (x, idx);
      for (idx[dim] = 0; idx[dim] < x->shape[dim]; idx[dim]++)
        max = MAX (max, test_array_get (x, idx));
      for (idx[dim] = 0; idx[dim] < x->shape[dim]; idx[dim]++)
        sum += exp (test_array_get (x, idx) - max);
      want[f] = log_ ? v - max - log (sum) : exp (v - max) / sum;
    }

  return want;
}

static void
run_softmax (const TestArray *x,
             int              dim,
             int              given_dim,
             gboolean         log_,
             double          *worst)
{
  TvwSoftmaxParams p = { given_dim, log_ };
  g_autofree double *want = reference_softmax (&x->a, dim, log_);
  TvwArray out;
  double err;

  test_run_op (&tvw_op_softmax, &p, 1, &x->a, 0, NULL, 1, &out, 0);
  /* softmax: expf and the float rounding of x − max (inputs up to ±8)
   * give a few 1e-7 relative; log_softmax: x − (max + log Σ) rounds at
   * the magnitude of its terms (≤ ~20), a few 1e-6 absolute. */
  if (log_)
    err = test_assert_close ("log_softmax", &out, x->a.rank, x->a.shape, want, 4e-6, 1e-6);
  else
    err = test_assert_close ("softmax", &out, x->a.rank, x->a.shape, want, 1e-9, 2e-6);
  *worst = MAX (*worst, err);
  free_outputs (&tvw_op_softmax, 1, &out);
}

static void
test_softmax_random (void)
{
  double worst[2] = { 0 };

  for (int seed = 0; seed < 2 * N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim, given;
        gint64 shape[TVW_MAX_RANK];
        gboolean log_ = seed % 2;
        TestArray x;

        random_shape (rng, seed / 2, rank, shape);
        test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -8, 8);
        given = random_dim (rng, rank, &dim);
        run_softmax (&x, dim, given, log_, &worst[log_]);
        test_array_clear (&x);
      }

  g_test_message ("max error: softmax %.3g, log_softmax %.3g", worst[0], worst[1]);
}

/* Logits around 1e4 overflow expf unless the max is subtracted first;
 * one row of equal values checks the uniform case exactly.  Rows of 70
 * and 50 run the vector paths and their tails. */
static void
test_softmax_large_logits (void)
{
  const gint64 shape[] = { 3, 50, 70 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (7);
  double worst = 0;
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_F32, 3, shape, TEST_LAYOUT_CONTIGUOUS, 9990, 10010);
  for (int i = 0; i < 50; i++)
    ((float *) x.a.data)[i * 70] = 10000;
  for (int dim = 0; dim < 3; dim++)
    for (int log_ = 0; log_ <= 1; log_++)
      run_softmax (&x, dim, dim, log_, &worst);
  g_test_message ("max error: %.3g", worst);
  test_array_clear (&x);
}

/* A NaN makes its whole row NaN and leaves the others alone, as in
 * PyTorch, along the last dim and an outer one.  (Run directly: the
 * harness's comparison across thread counts is false for NaN.) */
static void
test_softmax_nan (void)
{
  const gint64 shape[] = { 20, 20 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (11);
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, -3, 3);
  ((float *) x.a.data)[1 * 20 + 13] = NAN;
  for (int dim = 0; dim < 2; dim++)
    for (int log_ = 0; log_ <= 1; log_++)
      {
        TvwSoftmaxParams p = { dim, log_ };
        g_autoptr(GError) error = NULL;
        TvwArray out;
        /* Row 1 (dim 1) or column 13 (dim 0) holds the NaN. */
        const int nan_line = dim == 1 ? 1 : 13;

        g_assert_true (tvw_op_eager (&tvw_op_softmax, "test", &p, 1, &x.a, 0, NULL, 1, &out, 1,
                                     &error));
        for (int i = 0; i < 20; i++)
          {
            double total = 0;

            for (int j = 0; j < 20; j++)
              {
                const float *y = out.data;
                float v = dim == 1 ? y[i * 20 + j] : y[j * 20 + i];

                g_assert_true (isnan (v) == (i == nan_line));
                total += log_ ? exp (v) : v;
              }
            if (i != nan_line)
              g_assert_cmpfloat_with_epsilon (total, 1, 1e-5);
          }
        g_free (out.data);
      }
  test_array_clear (&x);
}

static void
test_softmax_errors (void)
{
  const gint64 shape[] = { 2, 3 };
  TvwArray x = shape_only (TVW_ELEM_F32, 2, shape);
  TvwSoftmaxParams bad_dim = { 2, FALSE }, ok = { -1, TRUE };

  assert_refused (&tvw_op_softmax, &bad_dim, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  x.elem = TVW_ELEM_I32;
  assert_refused (&tvw_op_softmax, &ok, 1, &x, 1, TVW_ERROR_SHAPE_MISMATCH);
}

/* ---- index_select -------------------------------------------------------- */

typedef struct
{
  int             dim;
  const TvwArray *index;
  gint64          size;
} IndexRef;

static gboolean
source_index_select (const gint64  *oi,
                     gint64        *ii,
                     gconstpointer  data)
{
  const IndexRef *r = data;
  gint64 j = oi[r->dim];

  memcpy (ii, oi, TVW_MAX_RANK * sizeof (gint64));
  ii[r->dim] = (gint64) test_array_get (r->index, &j);
  /* Out of range: zeros (documented in tvw-op-index.c). */
  return ii[r->dim] >= 0 && ii[r->dim] < r->size;
}

static void
test_index_select_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim;
        gint64 shape[TVW_MAX_RANK], want[TVW_MAX_RANK], n_index;
        TestArray x, index;
        TvwArray in[2], out;
        TvwDimParams p;
        IndexRef ref;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        p.dim = random_dim (rng, rank, &dim);
        /* Repeats, any order, and about one in ten out of range. */
        n_index = g_rand_int_range (rng, 0, 9);
        test_array_random (&index, rng, TVW_ELEM_I64, 1, &n_index,
                           (TestLayout) g_rand_int_range (rng, 0, TEST_N_LAYOUTS),
                           -0.1 * shape[dim], 1.1 * shape[dim]);
        memcpy (want, shape, sizeof want);
        want[dim] = n_index;
        in[0] = x.a;
        in[1] = index.a;

        test_run_op (&tvw_op_index_select, &p, 2, in, 0, NULL, 1, &out, 0);
        ref = (IndexRef) { dim, &index.a, shape[dim] };
        check_moved ("index_select", &x.a, &out, rank, want, source_index_select, &ref, 0);
        free_outputs (&tvw_op_index_select, 1, &out);
        test_array_clear (&index);
        test_array_clear (&x);
      }
}

static void
test_index_select_errors (void)
{
  const gint64 shape[] = { 2, 3 }, index_shape[] = { 2, 2 };
  TvwArray in[2] = {
    shape_only (TVW_ELEM_F32, 2, shape), shape_only (TVW_ELEM_I64, 2, index_shape),
  };
  TvwDimParams dim1 = { 1 }, dim2 = { 2 };

  assert_refused (&tvw_op_index_select, &dim1, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
  in[1] = shape_only (TVW_ELEM_I32, 1, index_shape);
  assert_refused (&tvw_op_index_select, &dim1, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
  in[1].elem = TVW_ELEM_I64;
  assert_refused (&tvw_op_index_select, &dim2, 2, in, 1, TVW_ERROR_INVALID_ARGUMENT);
}

/* ---- gather -------------------------------------------------------------- */

static gboolean
source_gather (const gint64  *oi,
               gint64        *ii,
               gconstpointer  data)
{
  const IndexRef *r = data;

  memcpy (ii, oi, TVW_MAX_RANK * sizeof (gint64));
  ii[r->dim] = (gint64) test_array_get (r->index, oi);
  return ii[r->dim] >= 0 && ii[r->dim] < r->size;
}

static void
test_gather_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim;
        gint64 shape[TVW_MAX_RANK], index_shape[TVW_MAX_RANK];
        TestArray x, index;
        TvwArray in[2], out;
        TvwDimParams p;
        IndexRef ref;

        random_shape (rng, seed, rank, shape);
        make_input (&x, rng, pick_elem (seed + layout), rank, shape, layout);
        p.dim = random_dim (rng, rank, &dim);
        /* No larger than the input outside @dim, any size along it. */
        for (int d = 0; d < rank; d++)
          index_shape[d] = d == dim ? g_rand_int_range (rng, 0, 7)
                                    : g_rand_int_range (rng, 1, shape[d] + 1);
        test_array_random (&index, rng, TVW_ELEM_I64, rank, index_shape,
                           (TestLayout) g_rand_int_range (rng, 0, TEST_N_LAYOUTS),
                           -0.1 * shape[dim], 1.1 * shape[dim]);
        in[0] = x.a;
        in[1] = index.a;

        test_run_op (&tvw_op_gather, &p, 2, in, 0, NULL, 1, &out, 0);
        ref = (IndexRef) { dim, &index.a, shape[dim] };
        check_moved ("gather", &x.a, &out, rank, index_shape, source_gather, &ref, 0);
        free_outputs (&tvw_op_gather, 1, &out);
        test_array_clear (&index);
        test_array_clear (&x);
      }
}

static void
test_gather_errors (void)
{
  const gint64 shape[] = { 2, 3 }, index_shape[] = { 3, 1 };
  TvwArray in[2] = {
    shape_only (TVW_ELEM_F32, 2, shape), shape_only (TVW_ELEM_I64, 2, index_shape),
  };
  TvwDimParams dim1 = { 1 }, dim0 = { 0 };

  /* Larger than the input outside dim 1; along dim 0 it may be. */
  assert_refused (&tvw_op_gather, &dim1, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
  in[1].rank = 1;
  assert_refused (&tvw_op_gather, &dim0, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
  in[1] = shape_only (TVW_ELEM_I32, 2, shape);
  assert_refused (&tvw_op_gather, &dim0, 2, in, 1, TVW_ERROR_SHAPE_MISMATCH);
}

/* ---- top-k --------------------------------------------------------------- */

typedef struct
{
  double value;
  gint64 index;
} TopEntry;

/* Larger first, NaN largest, equal values lower index first. */
static int
compare_top (const void *pa,
             const void *pb)
{
  const TopEntry *a = pa, *b = pb;

  if (isnan (a->value) != isnan (b->value))
    return isnan (a->value) ? -1 : 1;
  if (!isnan (a->value) && a->value != b->value)
    return a->value > b->value ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static void
check_topk (const TvwArray *x,
            int             dim,
            int             given_dim,
            gint64          k)
{
  TvwTopkParams p = { k, given_dim };
  gint64 want_shape[TVW_MAX_RANK], idx[TVW_MAX_RANK];
  g_autofree TopEntry *row = g_new (TopEntry, x->shape[dim]);
  g_autofree double *want_values = NULL, *want_indices = NULL;
  TvwArray out[2], ref;

  memcpy (want_shape, x->shape, sizeof want_shape);
  want_shape[dim] = k;
  tvw_array_init (&ref, TVW_ELEM_F32, x->rank, want_shape);
  want_values = g_new (double, MAX (tvw_array_numel (&ref), 1));
  want_indices = g_new (double, MAX (tvw_array_numel (&ref), 1));

  /* Every row along @dim sorted by the definition. */
  for (gint64 f = 0; f < tvw_array_numel (&ref); f++)
    {
      gint64 j;

      test_unflatten (&ref, f, idx);
      j = idx[dim];
      for (idx[dim] = 0; idx[dim] < x->shape[dim]; idx[dim]++)
        row[idx[dim]] = (TopEntry) { test_array_get (x, idx), idx[dim] };
      qsort (row, x->shape[dim], sizeof *row, compare_top);
      want_values[f] = row[j].value;
      want_indices[f] = row[j].index;
    }

  test_run_op (&tvw_op_topk, &p, 1, x, 0, NULL, 2, out, 0);
  g_assert_cmpint (out[0].elem, ==, TVW_ELEM_F32);
  g_assert_cmpint (out[1].elem, ==, TVW_ELEM_I64);
  /* Values are elements and indices integers: exact. */
  test_assert_close ("topk values", &out[0], x->rank, want_shape, want_values, 0, 0);
  test_assert_close ("topk indices", &out[1], x->rank, want_shape, want_indices, 0, 0);
  free_outputs (&tvw_op_topk, 2, out);
}

static void
test_topk_random (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    for (TestLayout layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (seed * 16 + layout);
        int rank = g_rand_int_range (rng, 1, TVW_MAX_RANK + 1), dim, given;
        gint64 shape[TVW_MAX_RANK];
        TestArray x;

        random_shape (rng, seed, rank, shape);
        given = random_dim (rng, rank, &dim);
        shape[dim] += seed;
        test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -1, 1);
        check_topk (&x.a, dim, given, g_rand_int_range (rng, 0, shape[dim] + 1));
        test_array_clear (&x);
      }
}

/* Few distinct values (many ties): equal values come out lower index
 * first (torch 1.13 on CPU leaves that order unspecified). */
static void
test_topk_ties (void)
{
  const gint64 shape[] = { 4, 40 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (3);
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, 0, 4);
  for (gint64 i = 0; i < 160; i++)
    ((float *) x.a.data)[i] = floorf (((float *) x.a.data)[i]);
  for (gint64 k = 0; k <= 40; k += 5)
    check_topk (&x.a, 1, -1, k);
  check_topk (&x.a, 0, 0, 3);
  test_array_clear (&x);
}

/* NaN is larger than everything, as in torch.topk.  (Run once, directly:
 * the harness compares thread counts with |a − b| ≤ atol, false for NaN.) */
static void
test_topk_nan (void)
{
  const float data[] = { 1, NAN, 3, NAN, 2, 3 };
  const gint64 shape[] = { 6 };
  TvwTopkParams p = { 4, 0 };
  g_autoptr(GError) error = NULL;
  TvwArray x = shape_only (TVW_ELEM_F32, 1, shape), out[2];
  const gint64 *indices;
  const float *values;

  x.data = (gpointer) data;
  g_assert_true (tvw_op_eager (&tvw_op_topk, "test", &p, 1, &x, 0, NULL, 2, out, 1, &error));
  g_assert_no_error (error);
  values = out[0].data;
  indices = out[1].data;
  g_assert_true (isnan (values[0]) && isnan (values[1]));
  g_assert_cmpfloat (values[2], ==, 3);
  g_assert_cmpfloat (values[3], ==, 3);
  g_assert_cmpint (indices[0], ==, 1);
  g_assert_cmpint (indices[1], ==, 3);
  g_assert_cmpint (indices[2], ==, 2);
  g_assert_cmpint (indices[3], ==, 5);
  free_outputs (&tvw_op_topk, 2, out);
}

static void
test_topk_errors (void)
{
  const gint64 shape[] = { 2, 3 };
  TvwArray x = shape_only (TVW_ELEM_F32, 2, shape);
  TvwTopkParams too_many = { 4, 1 }, negative = { -1, 1 }, bad_dim = { 1, 2 }, ok = { 1, 0 };

  assert_refused (&tvw_op_topk, &too_many, 1, &x, 2, TVW_ERROR_SHAPE_MISMATCH);
  assert_refused (&tvw_op_topk, &negative, 1, &x, 2, TVW_ERROR_SHAPE_MISMATCH);
  assert_refused (&tvw_op_topk, &bad_dim, 1, &x, 2, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_topk, &ok, 1, &x, 1, TVW_ERROR_INVALID_ARGUMENT);
  x.elem = TVW_ELEM_I64;
  assert_refused (&tvw_op_topk, &ok, 1, &x, 2, TVW_ERROR_SHAPE_MISMATCH);
}

/* ---- quantized inputs ---------------------------------------------------- */

/* Per-tensor quantization rides along with the bytes; a pad value is
 * quantized; per-channel inputs (whose axis would have to follow the
 * view) and concatenations of differently quantized inputs are refused. */
static void
test_quantized (void)
{
  const gint64 shape[] = { 2, 3, 4 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (5);
  TvwSliceParams slice = { 2, 1, 3, 1 };
  TvwPadParams pad = { .n_pads = 1, .pads = { 1, 0 }, .value = 1.0 };
  TvwPermuteParams transpose = { .transpose = TRUE, .dims = { 0, 2 } };
  TvwDimParams along_1 = { 1 };
  TvwArray out, in[2];
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_U8, 3, shape, TEST_LAYOUT_GAPPED, 0, 256);
  x.a.quantized = TRUE;
  x.a.scale = 0.5;
  x.a.zero_point = 10;

  test_run_op (&tvw_op_slice, &slice, 1, &x.a, 0, NULL, 1, &out, 0);
  g_assert_true (out.quantized);
  g_assert_cmpfloat (out.scale, ==, 0.5);
  g_assert_cmpint (out.zero_point, ==, 10);

  /* 1.0 / 0.5 + 10 = 12 in the padded column. */
  test_run_op (&tvw_op_pad, &pad, 1, &x.a, 0, NULL, 1, &out, 0);
  g_assert_true (out.quantized);
  g_assert_cmpint (out.shape[2], ==, 5);
  g_assert_cmpint (((guint8 *) out.data)[0], ==, 12);
  g_assert_cmpint (((guint8 *) out.data)[6 * 5 - 5], ==, 12);
  g_assert_cmpint (((guint8 *) out.data)[1], ==, test_array_get (&x.a, (gint64[]) { 0, 0, 0 }));
  g_free (out.data);

  in[0] = in[1] = x.a;
  in[1].zero_point = 11;
  assert_refused (&tvw_op_concat, &along_1, 2, in, 1, TVW_ERROR_INVALID_ARGUMENT);

  x.a.qaxis = 1;
  x.a.scales = (const float[]) { 0.5f, 0.25f, 1.0f };
  x.a.zero_points = (const gint32[]) { 10, 11, 12 };
  assert_refused (&tvw_op_permute, &transpose, 1, &x.a, 1, TVW_ERROR_INVALID_ARGUMENT);
  assert_refused (&tvw_op_slice, &slice, 1, &x.a, 1, TVW_ERROR_INVALID_ARGUMENT);
  test_array_clear (&x);
}

/* ---- graph constructors -------------------------------------------------- */

static void
assert_shape (TvwNet       *net,
              TvwVal        v,
              TvwElem       elem,
              int           rank,
              const gint64 *shape)
{
  const TvwArray *a;

  g_assert_cmpint (v, >=, 0);
  a = tvw_net_array (net, v);
  g_assert_cmpint (a->elem, ==, elem);
  g_assert_cmpint (a->rank, ==, rank);
  for (int i = 0; i < rank; i++)
    g_assert_cmpint (a->shape[i], ==, shape[i]);
}

/* Each constructor hands its class the parameters it was given: the
 * build-time shapes are the ones PyTorch would give. */
static void
test_constructors (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  const gint64 in_shape[] = { 2, 12, 5, 7 };
  const gint64 new_shape[] = { 4, -1, 35 }, sizes[] = { 5, 0, 7 }, pads[] = { 1, 2, -1, 3 };
  const gint64 shifts[] = { 3, -1 };
  const int perm[] = { 0, 2, 3, 1 }, roll_dims[] = { -1, 1 };
  TvwVal x = tvw_net_input_full (net, "input", TVW_ELEM_F32, 4, in_shape);
  TvwVal parts[3], values, indices, index;
  g_autoptr(GError) error = NULL;

  assert_shape (net, tvw_net_reshape (net, x, 3, new_shape),
                TVW_ELEM_F32, 3, (gint64[]) { 4, 6, 35 });
  assert_shape (net, tvw_net_flatten_dims (net, x, 1, -1), TVW_ELEM_F32, 2, (gint64[]) { 2, 420 });
  assert_shape (net, tvw_net_permute (net, x, perm), TVW_ELEM_F32, 4, (gint64[]) { 2, 5, 7, 12 });
  assert_shape (net, tvw_net_transpose (net, x, 1, -1),
                TVW_ELEM_F32, 4, (gint64[]) { 2, 7, 5, 12 });
  assert_shape (net, tvw_net_unsqueeze (net, x, -1),
                TVW_ELEM_F32, 5, (gint64[]) { 2, 12, 5, 7, 1 });
  assert_shape (net, tvw_net_squeeze (net, tvw_net_unsqueeze (net, x, 2), 2),
                TVW_ELEM_F32, 4, in_shape);
  assert_shape (net, tvw_net_slice (net, x, 1, -10, G_MAXINT64, 3),
                TVW_ELEM_F32, 4, (gint64[]) { 2, 4, 5, 7 });
  tvw_net_split (net, x, 1, 3, sizes, parts);
  assert_shape (net, parts[0], TVW_ELEM_F32, 4, (gint64[]) { 2, 5, 5, 7 });
  assert_shape (net, parts[1], TVW_ELEM_F32, 4, (gint64[]) { 2, 0, 5, 7 });
  assert_shape (net, parts[2], TVW_ELEM_F32, 4, (gint64[]) { 2, 7, 5, 7 });
  assert_shape (net, tvw_net_concat (net, 3, parts, -3), TVW_ELEM_F32, 4, in_shape);
  assert_shape (net, tvw_net_pad (net, x, 2, pads, 0),
                TVW_ELEM_F32, 4, (gint64[]) { 2, 12, 7, 10 });
  assert_shape (net, tvw_net_roll (net, x, 2, shifts, roll_dims), TVW_ELEM_F32, 4, in_shape);
  assert_shape (net, tvw_net_channel_shuffle (net, x, 3), TVW_ELEM_F32, 4, in_shape);
  assert_shape (net, tvw_net_contiguous (net, x), TVW_ELEM_F32, 4, in_shape);
  assert_shape (net, tvw_net_reduce (net, TVW_REDUCE_MEAN, x, 0xc, TRUE),
                TVW_ELEM_F32, 4, (gint64[]) { 2, 12, 1, 1 });
  assert_shape (net, tvw_net_reduce (net, TVW_REDUCE_MAX, x, 0x2, FALSE),
                TVW_ELEM_F32, 3, (gint64[]) { 2, 5, 7 });
  assert_shape (net, tvw_net_softmax (net, x, 1, TRUE), TVW_ELEM_F32, 4, in_shape);
  tvw_net_topk (net, x, 3, -1, &values, &indices);
  assert_shape (net, values, TVW_ELEM_F32, 4, (gint64[]) { 2, 12, 5, 3 });
  assert_shape (net, indices, TVW_ELEM_I64, 4, (gint64[]) { 2, 12, 5, 3 });
  index = tvw_net_reshape (net, tvw_net_slice (net, indices, 0, 0, 1, 1), 1, (gint64[]) { -1 });
  assert_shape (net, index, TVW_ELEM_I64, 1, (gint64[]) { 180 });
  assert_shape (net, tvw_net_index_select (net, x, 2, index),
                TVW_ELEM_F32, 4, (gint64[]) { 2, 12, 180, 7 });
  assert_shape (net, tvw_net_gather (net, x, -1, indices),
                TVW_ELEM_F32, 4, (gint64[]) { 2, 12, 5, 3 });

  /* The first error stays in the net, worded by the op's infer. */
  tvw_net_topk (net, x, 8, -1, &values, &indices);
  g_assert_cmpint (values, ==, -1);
  g_assert_cmpint (indices, ==, -1);
  tvw_net_split (net, x, 1, 3, sizes, parts);
  g_assert_cmpint (parts[2], ==, -1);
  g_assert_cmpint (tvw_net_permute (net, values, perm), ==, -1);
  g_assert_false (tvw_net_check (net, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "(topk): k = 8"));
}

/* ---- the table ----------------------------------------------------------- */

/* Each test and the class it checks; every class of this file's families
 * needs at least one. */
static const struct
{
  const char       *path;
  GTestFunc         func;
  const TvwOpClass *cls;
} tests[] = {
  { "/tvw/ops/reshape/random-strides", test_reshape_random, &tvw_op_reshape },
  { "/tvw/ops/reshape/errors", test_reshape_errors, &tvw_op_reshape },
  { "/tvw/ops/permute/random-strides", test_permute_random, &tvw_op_permute },
  { "/tvw/ops/permute/errors", test_permute_errors, &tvw_op_permute },
  { "/tvw/ops/unsqueeze/random-strides", test_unsqueeze_random, &tvw_op_unsqueeze },
  { "/tvw/ops/squeeze/random-strides", test_squeeze_random, &tvw_op_squeeze },
  { "/tvw/ops/squeeze/errors", test_squeeze_errors, &tvw_op_squeeze },
  { "/tvw/ops/slice/random-strides", test_slice_random, &tvw_op_slice },
  { "/tvw/ops/slice/errors", test_slice_errors, &tvw_op_slice },
  { "/tvw/ops/split/random-strides", test_split_random, &tvw_op_split },
  { "/tvw/ops/split/errors", test_split_errors, &tvw_op_split },
  { "/tvw/ops/contiguous/random-strides", test_contiguous_random, &tvw_op_contiguous },
  { "/tvw/ops/concat/random-strides", test_concat_random, &tvw_op_concat },
  { "/tvw/ops/concat/errors", test_concat_errors, &tvw_op_concat },
  { "/tvw/ops/pad/random-strides", test_pad_random, &tvw_op_pad },
  { "/tvw/ops/pad/errors", test_pad_errors, &tvw_op_pad },
  { "/tvw/ops/roll/random-strides", test_roll_random, &tvw_op_roll },
  { "/tvw/ops/roll/errors", test_roll_errors, &tvw_op_roll },
  { "/tvw/ops/channel_shuffle/random-strides", test_channel_shuffle_random,
    &tvw_op_channel_shuffle },
  { "/tvw/ops/channel_shuffle/two-groups", test_channel_shuffle_two_groups, &tvw_op_channel_shuffle },
  { "/tvw/ops/channel_shuffle/two-inputs", test_channel_shuffle_two_inputs, &tvw_op_channel_shuffle },
  { "/tvw/ops/channel_shuffle/errors", test_channel_shuffle_errors, &tvw_op_channel_shuffle },
  { "/tvw/ops/reduce/random-strides", test_reduce_random, &tvw_op_reduce },
  { "/tvw/ops/reduce/large-sum", test_reduce_large_sum, &tvw_op_reduce },
  { "/tvw/ops/reduce/errors", test_reduce_errors, &tvw_op_reduce },
  { "/tvw/ops/softmax/random-strides", test_softmax_random, &tvw_op_softmax },
  { "/tvw/ops/softmax/large-logits", test_softmax_large_logits, &tvw_op_softmax },
  { "/tvw/ops/softmax/nan", test_softmax_nan, &tvw_op_softmax },
  { "/tvw/ops/softmax/errors", test_softmax_errors, &tvw_op_softmax },
  { "/tvw/ops/index_select/random-strides", test_index_select_random, &tvw_op_index_select },
  { "/tvw/ops/index_select/errors", test_index_select_errors, &tvw_op_index_select },
  { "/tvw/ops/gather/random-strides", test_gather_random, &tvw_op_gather },
  { "/tvw/ops/gather/errors", test_gather_errors, &tvw_op_gather },
  { "/tvw/ops/topk/random-strides", test_topk_random, &tvw_op_topk },
  { "/tvw/ops/topk/ties", test_topk_ties, &tvw_op_topk },
  { "/tvw/ops/topk/nan", test_topk_nan, &tvw_op_topk },
  { "/tvw/ops/topk/errors", test_topk_errors, &tvw_op_topk },
};

/* The table rows of tvw-op-shape.c, tvw-op-reduce.c and tvw-op-index.c. */
static const TvwOpClass *const own_classes[] = {
  &tvw_op_reshape, &tvw_op_permute, &tvw_op_unsqueeze, &tvw_op_squeeze, &tvw_op_slice,
  &tvw_op_split, &tvw_op_contiguous, &tvw_op_concat, &tvw_op_pad, &tvw_op_roll,
  &tvw_op_channel_shuffle, &tvw_op_reduce, &tvw_op_softmax, &tvw_op_index_select,
  &tvw_op_gather, &tvw_op_topk,
};

static void
test_table_covered (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (own_classes); i++)
    {
      const TvwOpClass *cls = own_classes[i];
      gboolean in_table = FALSE, random = FALSE;

      for (int t = 0; tvw_op_table[t] != NULL; t++)
        in_table |= tvw_op_table[t] == cls;
      for (gsize t = 0; t < G_N_ELEMENTS (tests); t++)
        random |= tests[t].cls == cls && g_str_has_suffix (tests[t].path, "/random-strides");
      if (!in_table)
        g_error ("%s is not in tvw_op_table", cls->name);
      if (!random)
        g_error ("%s has no random-strides test", cls->name);
      /* A view has no kernel; everything else has one. */
      g_assert_true ((cls->run == NULL) == ((cls->flags & TVW_OP_VIEW) != 0));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (tests); i++)
    g_test_add_func (tests[i].path, tests[i].func);
  g_test_add_func ("/tvw/ops/shape/quantized", test_quantized);
  g_test_add_func ("/tvw/ops/shape/constructors", test_constructors);
  g_test_add_func ("/tvw/ops/shape/table-covered", test_table_covered);

  return g_test_run ();
}
