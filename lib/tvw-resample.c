/* tvw-resample.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two resizers, each reproducing the arithmetic of the implementation
 * torchvision runs:
 *
 *  - Pillow 9.4 (src/libImaging/Resample.c and Geometry.c) for PIL images.
 *    The coefficients are computed in double exactly as Pillow computes them,
 *    converted to 22-bit fixed point with the same rounding, accumulated in
 *    32-bit integers starting at one half, and clipped by an arithmetic
 *    shift; the horizontal pass runs first and its result is rounded to
 *    8 bits before the vertical pass.  Any difference in any of these steps
 *    changes some pixels by one, so the code keeps Pillow's order of
 *    operations even where another order would read more naturally.
 *
 *  - torch.nn.functional.interpolate (PyTorch 1.13, CPU, align_corners=False)
 *    for tensors, in float32.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-resample-private.h"

/* The coefficient arithmetic must not be contracted into fused
 * multiply-adds: Pillow is built without them and one ulp moves a
 * fixed-point coefficient. */
#if defined(__clang__)
# pragma clang fp contract(off)
#elif defined(__GNUC__)
# pragma GCC optimize ("fp-contract=off")
#endif

/* Pillow: 32 bits minus 8 for the result minus 2 of headroom. */
#define PRECISION_BITS (32 - 8 - 2)

/* Below this many multiply-adds a second thread costs more than it saves. */
#define PARALLEL_MIN_WORK (1 << 21)

static int force_scalar;

gboolean
tvw_resample_set_simd (gboolean enabled)
{
  gboolean was = !g_atomic_int_get (&force_scalar);

  g_atomic_int_set (&force_scalar, !enabled);
  return was;
}

/* ------------------------------------------------------------------------ */
/* Filters, as Pillow defines them (support is the radius at scale 1). */

typedef double (*FilterFunc) (double x);

static double
bilinear_filter (double x)
{
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return 1.0 - x;
  return 0.0;
}

/* Keys' cubic with a = -0.5; Pillow writes the polynomials in this nesting
 * and so do we, since the rounding of the coefficients depends on it. */
static double
bicubic_filter (double x)
{
  const double a = -0.5;

  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/* ------------------------------------------------------------------------ */
/* Pillow's precompute_coeffs() + normalize_coeffs_8bpc(), for the outputs
 * [first, first + count) only. */

typedef struct
{
  int     ksize;    /* coefficients stored per output */
  int    *bounds;   /* per output: first input, number of inputs */
  gint32 *coeffs;   /* per output: ksize fixed-point coefficients */
} PilCoeffs;

static void
pil_coeffs_clear (PilCoeffs *c)
{
  g_clear_pointer (&c->bounds, g_free);
  g_clear_pointer (&c->coeffs, g_free);
}

static void
pil_coeffs_compute (PilCoeffs  *c,
                    int         in_size,
                    int         out_size,
                    FilterFunc  filter,
                    double      filter_support,
                    int         first,
                    int         count)
{
  /* Pillow passes the box as floats: in1 - in0 is exact below 2^24. */
  float in0 = 0.0f;
  float in1 = (float) in_size;
  double scale, filterscale, support, ss;
  g_autofree double *k = NULL;
  int ksize;

  filterscale = scale = (double) (in1 - in0) / out_size;
  if (filterscale < 1.0)
    filterscale = 1.0;
  support = filter_support * filterscale;
  ksize = (int) ceil (support) * 2 + 1;
  ss = 1.0 / filterscale;

  c->ksize = ksize;
  c->bounds = g_new (int, (gsize) count * 2);
  c->coeffs = g_new0 (gint32, (gsize) count * ksize);
  k = g_new (double, ksize);

  for (int i = 0; i < count; i++)
    {
      int xx = first + i;
      double center = in0 + (xx + 0.5) * scale;
      double ww = 0.0;
      int xmin, xmax;
      gint32 *kk = c->coeffs + (gsize) i * ksize;

      xmin = (int) (center - support + 0.5);
      if (xmin < 0)
        xmin = 0;
      xmax = (int) (center + support + 0.5);
      if (xmax > in_size)
        xmax = in_size;
      xmax -= xmin;

      for (int x = 0; x < xmax; x++)
        {
          double w = filter ((x + xmin - center + 0.5) * ss);
          k[x] = w;
          ww += w;
        }
      for (int x = 0; x < xmax; x++)
        {
          if (ww != 0.0)
            k[x] /= ww;
        }
      for (int x = 0; x < xmax; x++)
        {
          if (k[x] < 0)
            kk[x] = (int) (-0.5 + k[x] * (1 << PRECISION_BITS));
          else
            kk[x] = (int) (0.5 + k[x] * (1 << PRECISION_BITS));
        }

      c->bounds[i * 2 + 0] = xmin;
      c->bounds[i * 2 + 1] = xmax;
    }
}

static inline guint8
clip8 (gint32 ss)
{
  /* Pillow looks (ss >> PRECISION_BITS) up in a table that saturates. */
  gint32 v = ss >> PRECISION_BITS;

  if (v < 0)
    return 0;
  if (v > 255)
    return 255;
  return (guint8) v;
}

/* ------------------------------------------------------------------------ */
/* The two passes.  Rows are split between threads; each output pixel is
 * computed by exactly one thread with the same arithmetic, so the result
 * does not depend on the thread count. */

typedef struct
{
  const guint8    *src;
  gsize            src_stride;
  gsize            src_row_bytes;
  guint            src_bpp;
  const PilCoeffs *coeffs;
  int              n_out;      /* outputs per row */
  guint8          *dst;
  gsize            dst_stride;

  /* For the SIMD kernel, per output: the number of 4-tap groups (0: use
   * the scalar loop, the loads would read past the row) and the groups'
   * coefficients split into high and low 16-bit halves. */
  int             *simd_groups;
  gint16          *simd_coeffs;
  int              simd_stride;  /* int16s per output */
} HorizontalPass;

static inline void
horizontal_pixel (const HorizontalPass *p,
                  const guint8         *in,
                  guint8               *out,
                  int                   xx)
{
  const int xmin = p->coeffs->bounds[xx * 2 + 0];
  const int xmax = p->coeffs->bounds[xx * 2 + 1];
  const gint32 *k = p->coeffs->coeffs + (gsize) xx * p->coeffs->ksize;
  const guint bpp = p->src_bpp;
  const guint8 *px = in + (gsize) xmin * bpp;
  gint32 ss0 = 1 << (PRECISION_BITS - 1);
  gint32 ss1 = ss0;
  gint32 ss2 = ss0;

  for (int x = 0; x < xmax; x++, px += bpp)
    {
      ss0 += px[0] * k[x];
      ss1 += px[1] * k[x];
      ss2 += px[2] * k[x];
    }

  out[xx * 3 + 0] = clip8 (ss0);
  out[xx * 3 + 1] = clip8 (ss1);
  out[xx * 3 + 2] = clip8 (ss2);
}

static void
horizontal_rows (const HorizontalPass *p,
                 int                   row_begin,
                 int                   row_end)
{
  for (int y = row_begin; y < row_end; y++)
    {
      const guint8 *in = p->src + (gsize) y * p->src_stride;
      guint8 *out = p->dst + (gsize) y * p->dst_stride;

      for (int xx = 0; xx < p->n_out; xx++)
        horizontal_pixel (p, in, out, xx);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
# define HAVE_AVX2_KERNEL 1
# include <immintrin.h>

/* The same sums with AVX2, four taps at a time.  pmaddwd multiplies 16-bit
 * values, so each 22-bit coefficient k is split into k = hi · 2^11 + lo
 * (0 ≤ lo < 2^11): Σ p·k = 2^11 · Σ p·hi + Σ p·lo, all exact in 32 bits as
 * Pillow's own sum is, so the result is bit for bit the scalar one.  A
 * shuffle first pairs the same channel of neighbouring taps:
 * [R0 R1 G0 G1 B0 B1 0 0 | R2 R3 G2 G3 B2 B3 0 0]. */
__attribute__((target ("avx2")))
static void
horizontal_rows_avx2 (const HorizontalPass *p,
                      int                   row_begin,
                      int                   row_end)
{
  const __m128i shuffle = p->src_bpp == 4 ?
    _mm_setr_epi8 (0, 4, 1, 5, 2, 6, -1, -1, 8, 12, 9, 13, 10, 14, -1, -1) :
    _mm_setr_epi8 (0, 3, 1, 4, 2, 5, -1, -1, 6, 9, 7, 10, 8, 11, -1, -1);
  const __m128i half = _mm_set1_epi32 (1 << (PRECISION_BITS - 1));
  const gsize group_bytes = 4 * p->src_bpp;

  for (int y = row_begin; y < row_end; y++)
    {
      const guint8 *in = p->src + (gsize) y * p->src_stride;
      guint8 *out = p->dst + (gsize) y * p->dst_stride;

      for (int xx = 0; xx < p->n_out; xx++)
        {
          const int n_groups = p->simd_groups[xx];
          const gint16 *k = p->simd_coeffs + (gsize) xx * p->simd_stride;
          const guint8 *px = in + (gsize) p->coeffs->bounds[xx * 2] * p->src_bpp;
          __m256i acc_hi = _mm256_setzero_si256 ();
          __m256i acc_lo = _mm256_setzero_si256 ();
          __m128i sum;
          gint32 v[4];

          if (n_groups == 0)
            {
              horizontal_pixel (p, in, out, xx);
              continue;
            }

          for (int g = 0; g < n_groups; g++, px += group_bytes, k += 32)
            {
              __m128i raw = _mm_loadu_si128 ((const __m128i *) px);
              __m256i words = _mm256_cvtepu8_epi16 (_mm_shuffle_epi8 (raw, shuffle));

              acc_hi = _mm256_add_epi32 (acc_hi, _mm256_madd_epi16 (words, _mm256_loadu_si256 ((const __m256i *) k)));
              acc_lo = _mm256_add_epi32 (acc_lo, _mm256_madd_epi16 (words, _mm256_loadu_si256 ((const __m256i *) (k + 16))));
            }

          acc_hi = _mm256_add_epi32 (_mm256_slli_epi32 (acc_hi, 11), acc_lo);
          sum = _mm_add_epi32 (_mm256_castsi256_si128 (acc_hi), _mm256_extracti128_si256 (acc_hi, 1));
          sum = _mm_add_epi32 (sum, half);
          _mm_storeu_si128 ((__m128i *) v, sum);

          out[xx * 3 + 0] = clip8 (v[0]);
          out[xx * 3 + 1] = clip8 (v[1]);
          out[xx * 3 + 2] = clip8 (v[2]);
        }
    }
}

static gboolean
have_avx2 (void)
{
  static gsize once = 0;
  static gboolean avx2 = FALSE;

  if (g_once_init_enter (&once))
    {
      __builtin_cpu_init ();
      avx2 = __builtin_cpu_supports ("avx2") && g_getenv ("TVW_NO_SIMD") == NULL;
      g_once_init_leave (&once, 1);
    }
  return avx2 && !g_atomic_int_get (&force_scalar);
}

/* Lays the coefficients out for horizontal_rows_avx2(). */
static void
horizontal_prepare_simd (HorizontalPass *p)
{
  const int ksize = p->coeffs->ksize;
  const int max_groups = (ksize + 3) / 4;

  p->simd_stride = max_groups * 32;
  p->simd_groups = g_new0 (int, p->n_out);
  p->simd_coeffs = g_new0 (gint16, (gsize) p->n_out * p->simd_stride);

  for (int xx = 0; xx < p->n_out; xx++)
    {
      const int xmin = p->coeffs->bounds[xx * 2 + 0];
      const int xmax = p->coeffs->bounds[xx * 2 + 1];
      const gint32 *k = p->coeffs->coeffs + (gsize) xx * ksize;
      gint16 *out = p->simd_coeffs + (gsize) xx * p->simd_stride;
      int n_groups = (xmax + 3) / 4;

      /* The last group loads 16 bytes from its first tap. */
      if (n_groups == 0 ||
          (gsize) (xmin + 4 * (n_groups - 1)) * p->src_bpp + 16 > p->src_row_bytes)
        continue;

      for (int g = 0; g < n_groups; g++)
        {
          gint16 *hi = out + g * 32;
          gint16 *lo = hi + 16;

          for (int t = 0; t < 4; t++)
            {
              int tap = g * 4 + t;
              gint32 c = tap < xmax ? k[tap] : 0;
              /* Taps 0,1 pair in words 0–5, taps 2,3 in words 8–13. */
              int base = (t < 2 ? 0 : 8) + (t & 1);

              for (int ch = 0; ch < 3; ch++)
                {
                  hi[base + ch * 2] = (gint16) (c >> 11);
                  lo[base + ch * 2] = (gint16) (c & 2047);
                }
            }
        }
      p->simd_groups[xx] = n_groups;
    }
}
#endif

typedef struct
{
  const guint8    *src;        /* rows of 3-byte pixels */
  gsize            src_stride;
  const PilCoeffs *coeffs;     /* bounds relative to src's first row */
  int              n_bytes;    /* bytes per output row */
  guint8          *dst;
  gsize            dst_stride;
} VerticalPass;

static void
vertical_rows (const VerticalPass *p,
               int                 row_begin,
               int                 row_end)
{
  const int ksize = p->coeffs->ksize;
  g_autofree gint32 *acc = g_new (gint32, p->n_bytes);

  for (int yy = row_begin; yy < row_end; yy++)
    {
      const int ymin = p->coeffs->bounds[yy * 2 + 0];
      const int ymax = p->coeffs->bounds[yy * 2 + 1];
      const gint32 *k = p->coeffs->coeffs + (gsize) yy * ksize;
      guint8 *out = p->dst + (gsize) yy * p->dst_stride;

      /* Same sums as Pillow's per-pixel loop, accumulated row by row so
       * that the inner loop runs over contiguous bytes.  Integer addition
       * is associative, so the order of the terms does not matter. */
      for (int i = 0; i < p->n_bytes; i++)
        acc[i] = 1 << (PRECISION_BITS - 1);

      for (int y = 0; y < ymax; y++)
        {
          const guint8 *in = p->src + (gsize) (ymin + y) * p->src_stride;
          const gint32 ky = k[y];

          for (int i = 0; i < p->n_bytes; i++)
            acc[i] += in[i] * ky;
        }

      for (int i = 0; i < p->n_bytes; i++)
        out[i] = clip8 (acc[i]);
    }
}

typedef enum { PASS_HORIZONTAL, PASS_VERTICAL } PassKind;

typedef struct
{
  PassKind    kind;
  const void *pass;
  int         row_begin;
  int         row_end;
} PassSlice;

static void
run_slice (const PassSlice *s)
{
  if (s->kind == PASS_HORIZONTAL)
    {
#ifdef HAVE_AVX2_KERNEL
      const HorizontalPass *hp = s->pass;

      if (hp->simd_groups != NULL)
        {
          horizontal_rows_avx2 (hp, s->row_begin, s->row_end);
          return;
        }
#endif
      horizontal_rows (s->pass, s->row_begin, s->row_end);
    }
  else
    vertical_rows (s->pass, s->row_begin, s->row_end);
}

static gpointer
run_slice_thread (gpointer data)
{
  run_slice (data);
  return NULL;
}

static void
run_pass (PassKind    kind,
          const void *pass,
          int         n_rows,
          double      work)
{
  guint n_threads = 1;
  PassSlice slices[2];

  if (work >= PARALLEL_MIN_WORK && n_rows >= 2 && g_get_num_processors () >= 2)
    n_threads = 2;

  for (guint i = 0; i < n_threads; i++)
    {
      slices[i].kind = kind;
      slices[i].pass = pass;
      slices[i].row_begin = (int) ((gint64) n_rows * i / n_threads);
      slices[i].row_end = (int) ((gint64) n_rows * (i + 1) / n_threads);
    }

  if (n_threads == 1)
    {
      run_slice (&slices[0]);
    }
  else
    {
      GThread *helper = g_thread_try_new ("tvw-resample", run_slice_thread,
                                          &slices[1], NULL);

      run_slice (&slices[0]);
      if (helper != NULL)
        g_thread_join (helper);
      else
        run_slice (&slices[1]);
    }
}

/* ------------------------------------------------------------------------ */
/* NEAREST: Pillow's ImagingScaleAffine, which steps a double through the
 * source by repeated addition (not multiplication), so the table is built
 * from the first output on even when only a window is wanted. */

static int *
nearest_table (int in_size,
               int out_size,
               int first,
               int count)
{
  double a = (double) (float) in_size / out_size;
  double o = a * 0.5;
  int *table = g_new (int, count);

  for (int x = 0; x < first + count; x++)
    {
      if (x >= first)
        {
          /* COORD(): negative coordinates are outside. */
          int xin = o < 0.0 ? -1 : (int) o;

          table[x - first] = (xin >= 0 && xin < in_size) ? xin : -1;
        }
      o += a;
    }

  return table;
}

static void
resample_nearest (const guint8 *src,
                  int           src_w,
                  int           src_h,
                  gsize         src_stride,
                  guint         src_bpp,
                  int           dst_w,
                  int           dst_h,
                  int           win_x,
                  int           win_y,
                  int           win_w,
                  int           win_h,
                  guint8       *out,
                  gsize         out_stride)
{
  g_autofree int *xtab = nearest_table (src_w, dst_w, win_x, win_w);
  g_autofree int *ytab = nearest_table (src_h, dst_h, win_y, win_h);

  for (int y = 0; y < win_h; y++)
    {
      guint8 *o = out + (gsize) y * out_stride;

      if (ytab[y] < 0)
        {
          memset (o, 0, (gsize) win_w * 3);
          continue;
        }

      for (int x = 0; x < win_w; x++)
        {
          if (xtab[x] < 0)
            {
              o[x * 3 + 0] = o[x * 3 + 1] = o[x * 3 + 2] = 0;
            }
          else
            {
              const guint8 *px = src + (gsize) ytab[y] * src_stride + (gsize) xtab[x] * src_bpp;

              o[x * 3 + 0] = px[0];
              o[x * 3 + 1] = px[1];
              o[x * 3 + 2] = px[2];
            }
        }
    }
}

/* ------------------------------------------------------------------------ */

void
tvw_resample_pil_rgb8 (const guint8     *src,
                       int               src_w,
                       int               src_h,
                       gsize             src_stride,
                       guint             src_bpp,
                       int               dst_w,
                       int               dst_h,
                       TvwInterpolation  interpolation,
                       int               win_x,
                       int               win_y,
                       int               win_w,
                       int               win_h,
                       guint8           *out,
                       gsize             out_stride)
{
  FilterFunc filter;
  double support;
  gboolean need_horizontal, need_vertical;
  PilCoeffs hc = { 0 }, vc = { 0 };
  int row_first, row_last, n_rows;
  g_autofree guint8 *temp = NULL;
  const guint8 *rows;
  gsize rows_stride;
  guint rows_bpp;

  g_return_if_fail (src_bpp == 3 || src_bpp == 4);
  g_return_if_fail (win_x >= 0 && win_w >= 0 && win_x + win_w <= dst_w);
  g_return_if_fail (win_y >= 0 && win_h >= 0 && win_y + win_h <= dst_h);

  if (win_w == 0 || win_h == 0)
    return;

  if (interpolation == TVW_INTERPOLATION_NEAREST)
    {
      resample_nearest (src, src_w, src_h, src_stride, src_bpp,
                        dst_w, dst_h, win_x, win_y, win_w, win_h,
                        out, out_stride);
      return;
    }

  if (interpolation == TVW_INTERPOLATION_BICUBIC)
    {
      filter = bicubic_filter;
      support = 2.0;
    }
  else
    {
      filter = bilinear_filter;
      support = 1.0;
    }

  /* Pillow skips a pass whose size does not change (the box is the whole
   * image); the convolution would be the identity there anyway. */
  need_horizontal = dst_w != src_w;
  need_vertical = dst_h != src_h;

  /* Source rows that the window's output rows read. */
  if (need_vertical)
    {
      pil_coeffs_compute (&vc, src_h, dst_h, filter, support, win_y, win_h);
      row_first = vc.bounds[0];
      row_last = vc.bounds[(win_h - 1) * 2] + vc.bounds[(win_h - 1) * 2 + 1];
      for (int i = 0; i < win_h; i++)
        vc.bounds[i * 2] -= row_first;
    }
  else
    {
      row_first = win_y;
      row_last = win_y + win_h;
    }
  n_rows = row_last - row_first;

  if (need_horizontal)
    {
      HorizontalPass hp;

      pil_coeffs_compute (&hc, src_w, dst_w, filter, support, win_x, win_w);
      temp = g_malloc ((gsize) n_rows * win_w * 3);

      memset (&hp, 0, sizeof hp);
      hp.src = src + (gsize) row_first * src_stride;
      hp.src_stride = src_stride;
      hp.src_row_bytes = (gsize) src_w * src_bpp;
      hp.src_bpp = src_bpp;
      hp.coeffs = &hc;
      hp.n_out = win_w;
      hp.dst = temp;
      hp.dst_stride = (gsize) win_w * 3;
#ifdef HAVE_AVX2_KERNEL
      if (have_avx2 ())
        horizontal_prepare_simd (&hp);
#endif
      run_pass (PASS_HORIZONTAL, &hp, n_rows,
                (double) n_rows * win_w * 3 * hc.ksize);
      g_free (hp.simd_groups);
      g_free (hp.simd_coeffs);

      rows = temp;
      rows_stride = (gsize) win_w * 3;
      rows_bpp = 3;
    }
  else
    {
      rows = src + (gsize) row_first * src_stride + (gsize) win_x * src_bpp;
      rows_stride = src_stride;
      rows_bpp = src_bpp;
    }

  if (need_vertical && rows_bpp == 3)
    {
      VerticalPass vp;

      vp.src = rows;
      vp.src_stride = rows_stride;
      vp.coeffs = &vc;
      vp.n_bytes = win_w * 3;
      vp.dst = out;
      vp.dst_stride = out_stride;
      run_pass (PASS_VERTICAL, &vp, win_h, (double) win_h * win_w * 3 * vc.ksize);
    }
  else if (need_vertical)
    {
      /* RGBA source, width unchanged: drop the alpha bytes first. */
      g_autofree guint8 *rgb = g_malloc ((gsize) n_rows * win_w * 3);
      VerticalPass vp;

      for (int y = 0; y < n_rows; y++)
        for (int x = 0; x < win_w; x++)
          memcpy (rgb + ((gsize) y * win_w + x) * 3, rows + (gsize) y * rows_stride + (gsize) x * rows_bpp, 3);

      vp.src = rgb;
      vp.src_stride = (gsize) win_w * 3;
      vp.coeffs = &vc;
      vp.n_bytes = win_w * 3;
      vp.dst = out;
      vp.dst_stride = out_stride;
      run_pass (PASS_VERTICAL, &vp, win_h, (double) win_h * win_w * 3 * vc.ksize);
    }
  else
    {
      for (int y = 0; y < win_h; y++)
        for (int x = 0; x < win_w; x++)
          memcpy (out + (gsize) y * out_stride + (gsize) x * 3,
                  rows + (gsize) y * rows_stride + (gsize) x * rows_bpp, 3);
    }

  pil_coeffs_clear (&hc);
  pil_coeffs_clear (&vc);
}

/* ------------------------------------------------------------------------ */
/* torch.nn.functional.interpolate, align_corners=False.
 *
 * Every mode is separable and is computed as a width pass then a height
 * pass over a float temporary, as ATen does.  The weights and the sums
 * follow ATen's arithmetic: indices in double from a float scale, float
 * weights, and the fused multiply-adds its vectorised CPU kernels are
 * compiled into.  Bilinear (with or without antialiasing) and nearest come
 * out identical to PyTorch 1.13; bicubic within a few float ulps. */

typedef struct
{
  int       ksize;
  gboolean  pairwise;  /* t0 * w0 + t1 * w1 rather than a running sum */
  int      *first;     /* per output: first input index (before clamping) */
  int   *index;     /* per output × ksize: clamped input index */
  float *weight;    /* per output × ksize */
} TorchAxis;

static void
torch_axis_clear (TorchAxis *a)
{
  g_clear_pointer (&a->first, g_free);
  g_clear_pointer (&a->index, g_free);
  g_clear_pointer (&a->weight, g_free);
}

static inline int
clamp_index (gint64 i,
             int    size)
{
  return (int) CLAMP (i, 0, (gint64) size - 1);
}

static float
torch_aa_filter_linear (float x)
{
  if (x < 0.0f)
    x = -x;
  if (x < 1.0f)
    return 1.0f - x;
  return 0.0f;
}

static float
torch_aa_filter_cubic (float x)
{
  /* The antialiased bicubic of ATen uses Pillow's a = -0.5. */
  const float a = -0.5f;

  if (x < 0.0f)
    x = -x;
  if (x < 1.0f)
    return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
  if (x < 2.0f)
    return (((x - 5.0f) * x + 8.0f) * x - 4.0f) * a;
  return 0.0f;
}

static inline float
cubic_convolution1 (float x,
                    float A)
{
  /* ((A + 2) * x - (A + 3)) * x * x + 1 */
  return fmaf (fmaf (A + 2.0f, x, -(A + 3.0f)) * x, x, 1.0f);
}

static inline float
cubic_convolution2 (float x,
                    float A)
{
  /* ((A * x - 5A) * x + 8A) * x - 4A */
  return fmaf (fmaf (fmaf (A, x, -5.0f * A), x, 8.0f * A), x, -4.0f * A);
}

static void
torch_axis_compute (TorchAxis        *a,
                    int               in_size,
                    int               out_size,
                    TvwInterpolation  interpolation,
                    gboolean          antialias)
{
  /* area_pixel_compute_scale() without an explicit scale factor. */
  const float scale = (float) in_size / (float) out_size;

  if (antialias && interpolation != TVW_INTERPOLATION_NEAREST)
    {
      const int interp_size = interpolation == TVW_INTERPOLATION_BICUBIC ? 4 : 2;
      float (*filter) (float) = interpolation == TVW_INTERPOLATION_BICUBIC ?
                                torch_aa_filter_cubic : torch_aa_filter_linear;
      const float support = scale >= 1.0f ? (interp_size * 0.5f) * scale : interp_size * 0.5f;
      const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;

      a->ksize = (int) ceilf (support) * 2 + 1;
      a->first = g_new0 (int, out_size);
      a->index = g_new0 (int, (gsize) out_size * a->ksize);
      a->weight = g_new0 (float, (gsize) out_size * a->ksize);

      for (int i = 0; i < out_size; i++)
        {
          const float center = scale * (i + 0.5f);
          float total = 0.0f;
          gint64 xmin = MAX ((gint64) (center - support + 0.5f), 0);
          gint64 xsize = MIN ((gint64) (center + support + 0.5f), (gint64) in_size) - xmin;
          float *w = a->weight + (gsize) i * a->ksize;
          int *idx = a->index + (gsize) i * a->ksize;

          xsize = CLAMP (xsize, 0, a->ksize);
          for (gint64 j = 0; j < xsize; j++)
            {
              w[j] = filter ((j + xmin - center + 0.5f) * invscale);
              total += w[j];
            }
          for (gint64 j = 0; j < a->ksize; j++)
            {
              if (j < xsize && total != 0.0f)
                w[j] /= total;
              else if (j >= xsize)
                w[j] = 0.0f;
              idx[j] = clamp_index (xmin + MIN (j, MAX (xsize - 1, 0)), in_size);
            }
          a->first[i] = (int) xmin;
        }
      return;
    }

  switch (interpolation)
    {
    case TVW_INTERPOLATION_NEAREST:
      a->ksize = 1;
      a->first = g_new0 (int, out_size);
      a->index = g_new0 (int, out_size);
      a->weight = g_new0 (float, out_size);
      for (int i = 0; i < out_size; i++)
        {
          gint64 src;

          if (out_size == in_size)
            src = i;
          else if (out_size == 2 * in_size)
            src = i >> 1;
          else
            src = MIN ((gint64) floorf ((float) i * scale), (gint64) in_size - 1);
          a->index[i] = a->first[i] = (int) src;
          a->weight[i] = 1.0f;
        }
      break;

    case TVW_INTERPOLATION_BILINEAR:
      a->ksize = 2;
      a->pairwise = TRUE;
      a->first = g_new0 (int, out_size);
      a->index = g_new0 (int, (gsize) out_size * 2);
      a->weight = g_new0 (float, (gsize) out_size * 2);
      for (int i = 0; i < out_size; i++)
        {
          /* ATen's accumulate type for float is double: the source index
           * and the lambdas are computed in double from the float scale. */
          double real = (double) scale * (i + 0.5) - 0.5;
          gint64 i0;
          double l1;

          if (real < 0.0)
            real = 0.0;
          i0 = (gint64) real;
          l1 = MIN (MAX (real - (double) i0, 0.0), 1.0);
          a->first[i] = (int) i0;
          a->index[i * 2 + 0] = clamp_index (i0, in_size);
          a->index[i * 2 + 1] = clamp_index (i0 + (i0 < in_size - 1 ? 1 : 0), in_size);
          a->weight[i * 2 + 1] = (float) l1;
          a->weight[i * 2 + 0] = 1.0f - a->weight[i * 2 + 1];
        }
      break;

    case TVW_INTERPOLATION_BICUBIC:
    default:
      a->ksize = 4;
      a->first = g_new0 (int, out_size);
      a->index = g_new0 (int, (gsize) out_size * 4);
      a->weight = g_new0 (float, (gsize) out_size * 4);
      for (int i = 0; i < out_size; i++)
        {
          const float A = -0.75f;
          /* The source index in double (ATen's accumulate type), the
           * coefficients in float. */
          const double real = (double) scale * (i + 0.5) - 0.5;
          const double fl = floor (real);
          const gint64 i0 = (gint64) fl;
          const float t = (float) (real - fl);
          float x1, x2;
          float *w = a->weight + (gsize) i * 4;

          /* get_cubic_upsample_coefficients(), with the fused
           * multiply-adds ATen's vectorised build contracts it into. */
          x1 = t;
          w[0] = cubic_convolution2 (x1 + 1.0f, A);
          w[1] = cubic_convolution1 (x1, A);
          x2 = 1.0f - t;
          w[2] = cubic_convolution1 (x2, A);
          w[3] = cubic_convolution2 (x2 + 1.0f, A);

          a->first[i] = (int) (i0 - 1);
          for (int j = 0; j < 4; j++)
            a->index[i * 4 + j] = clamp_index (i0 - 1 + j, in_size);
        }
      break;
    }
}

void
tvw_resample_torch_planes (const float       *src,
                           int                src_h,
                           int                src_w,
                           float             *dst,
                           int                dst_h,
                           int                dst_w,
                           gsize              n_planes,
                           TvwInterpolation   interpolation,
                           gboolean           antialias)
{
  TorchAxis ax = { 0 }, ay = { 0 };
  g_autofree float *temp = g_new (float, (gsize) src_h * dst_w);

  torch_axis_compute (&ax, src_w, dst_w, interpolation, antialias);
  torch_axis_compute (&ay, src_h, dst_h, interpolation, antialias);

  for (gsize p = 0; p < n_planes; p++)
    {
      const float *plane = src + p * (gsize) src_h * src_w;
      float *out = dst + p * (gsize) dst_h * dst_w;

      for (int y = 0; y < src_h; y++)
        {
          const float *in = plane + (gsize) y * src_w;
          float *t = temp + (gsize) y * dst_w;

          for (int x = 0; x < dst_w; x++)
            {
              const int *idx = ax.index + (gsize) x * ax.ksize;
              const float *w = ax.weight + (gsize) x * ax.ksize;
              float s;

              if (ax.pairwise)
                s = fmaf (in[idx[0]], w[0], in[idx[1]] * w[1]);
              else
                {
                  s = in[idx[0]] * w[0];
                  for (int j = 1; j < ax.ksize; j++)
                    s = fmaf (in[idx[j]], w[j], s);
                }
              t[x] = s;
            }
        }

      for (int y = 0; y < dst_h; y++)
        {
          const int *idx = ay.index + (gsize) y * ay.ksize;
          const float *w = ay.weight + (gsize) y * ay.ksize;
          float *o = out + (gsize) y * dst_w;

          if (ay.pairwise)
            {
              for (int x = 0; x < dst_w; x++)
                o[x] = fmaf (temp[(gsize) idx[0] * dst_w + x], w[0], temp[(gsize) idx[1] * dst_w + x] * w[1]);
              continue;
            }
          for (int x = 0; x < dst_w; x++)
            o[x] = temp[(gsize) idx[0] * dst_w + x] * w[0];
          for (int j = 1; j < ay.ksize; j++)
            {
              const float *t = temp + (gsize) idx[j] * dst_w;
              const float wj = w[j];

              for (int x = 0; x < dst_w; x++)
                o[x] = fmaf (t[x], wj, o[x]);
            }
        }
    }

  torch_axis_clear (&ax);
  torch_axis_clear (&ay);
}
