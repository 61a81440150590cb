/* test-cpu.c — the choice of kernel set, and the GEMM of the set chosen
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run once per set (tests/meson.build sets TVW_CPU): the engine's other
 * tests then check the kernels of that set end to end.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tvw-cpu-private.h"
#include "tvw-gemm-private.h"

static guint32 rng_state = 777;

static float
rnd (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float) ((rng_state >> 8) / 16777216.0 * 2.0 - 1.0);
}

static void
test_choose (void)
{
  g_assert_cmpint (tvw_cpu_choose (NULL, TVW_CPU_AVX512), ==, TVW_CPU_AVX512);
  g_assert_cmpint (tvw_cpu_choose ("", TVW_CPU_AVX2), ==, TVW_CPU_AVX2);
  g_assert_cmpint (tvw_cpu_choose ("generic", TVW_CPU_AVX512), ==, TVW_CPU_GENERIC);
  g_assert_cmpint (tvw_cpu_choose ("avx2", TVW_CPU_AVX512), ==, TVW_CPU_AVX2);
  g_assert_cmpint (tvw_cpu_choose ("AVX512", TVW_CPU_AVX512), ==, TVW_CPU_AVX512);

  /* Asking for more than the CPU has gives the best it has. */
  g_test_expect_message ("Tvw", G_LOG_LEVEL_MESSAGE, "*no avx512*running avx2*");
  g_assert_cmpint (tvw_cpu_choose ("avx512", TVW_CPU_AVX2), ==, TVW_CPU_AVX2);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Tvw", G_LOG_LEVEL_MESSAGE, "*no avx2*running generic*");
  g_assert_cmpint (tvw_cpu_choose ("avx2", TVW_CPU_GENERIC), ==, TVW_CPU_GENERIC);
  g_test_assert_expected_messages ();

  /* An unknown name is ignored. */
  g_test_expect_message ("Tvw", G_LOG_LEVEL_WARNING, "*sse9*ignored*");
  g_assert_cmpint (tvw_cpu_choose ("sse9", TVW_CPU_AVX512), ==, TVW_CPU_AVX512);
  g_test_assert_expected_messages ();

  g_assert_cmpstr (tvw_cpu_set_name (TVW_CPU_GENERIC), ==, "generic");
  g_assert_cmpstr (tvw_cpu_set_name (TVW_CPU_AVX2), ==, "avx2");
  g_assert_cmpstr (tvw_cpu_set_name (TVW_CPU_AVX512), ==, "avx512");
}

/* The set running is the one TVW_CPU asks for, when the CPU has it. */
static void
test_forced (void)
{
  const char *request = g_getenv ("TVW_CPU");
  const char *name = tvw_engine_cpu_name ();
  TvwCpuSet best = tvw_cpu_best ();

  g_test_message ("running %s, best %s, TVW_CPU=%s", name,
                  tvw_cpu_set_name (best), request != NULL ? request : "(unset)");

  if (request == NULL || *request == '\0')
    g_assert_cmpstr (name, ==, tvw_cpu_set_name (best));
  else if (g_str_equal (request, "generic"))
    g_assert_cmpstr (name, ==, "generic");
  else if (g_str_equal (request, "avx2"))
    g_assert_cmpstr (name, ==, best >= TVW_CPU_AVX2 ? "avx2" : "generic");
  else if (g_str_equal (request, "avx512"))
    g_assert_cmpstr (name, ==, tvw_cpu_set_name (best));

  /* The register tile of the set that runs. */
  g_assert_cmpint (tvw_gemm_mr (), ==, g_str_equal (name, "avx512") ? 12 : 6);
}

/* C = A·B + bias (+ residual), ReLU, against doubles: every edge case of
 * the tiles (rows and columns past a tile, K past a block), and rows of A
 * 2 or 4 KiB apart (or a multiple), which the kernel copies to another
 * pitch first: several row blocks and K blocks, one tile, a pitch wider
 * than K. */
static void
test_gemm (void)
{
  static const int shapes[][4] = {
    { 1, 1, 1, 1 }, { 5, 7, 17, 7 }, { 13, 300, 33, 300 }, { 25, 64, 48, 64 },
    { 97, 513, 40, 513 }, { 12, 16, 16, 16 }, { 6, 9, 70, 9 },
    { 30, 1024, 80, 1024 }, { 200, 512, 70, 512 }, { 8, 2048, 64, 2048 },
    { 101, 1000, 50, 1024 }, { 3, 3072, 40, 3072 },
  };

  for (gsize t = 0; t < G_N_ELEMENTS (shapes); t++)
    {
      const int m = shapes[t][0], k = shapes[t][1], n = shapes[t][2], lda = shapes[t][3];
      const int n_panels = (n + TVW_GEMM_NR - 1) / TVW_GEMM_NR;
      float *a = g_new (float, (gsize) m * lda);
      float *b = g_new (float, (gsize) k * n);
      float *bias = g_new (float, n);
      float *res = g_new (float, (gsize) m * n);
      float *packed = g_new (float, tvw_gemm_packed_floats (k, n));
      float *c = g_new (float, (gsize) m * n);

      for (gsize i = 0; i < (gsize) m * lda; i++)
        a[i] = rnd ();
      for (gsize i = 0; i < (gsize) k * n; i++)
        b[i] = rnd ();
      for (int j = 0; j < n; j++)
        bias[j] = rnd ();
      for (gsize i = 0; i < (gsize) m * n; i++)
        res[i] = rnd ();

      tvw_gemm_pack_b (b, k, n, n, packed);
      for (int with_res = 0; with_res < 2; with_res++)
        {
          tvw_gemm_packed (m, k, a, lda, packed, n, 0, n_panels, c, n, bias,
                           with_res ? res : NULL, n, TVW_ACT_RELU);

          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
              {
                double want = bias[j] + (with_res ? res[(gsize) i * n + j] : 0.0);

                for (int kk = 0; kk < k; kk++)
                  want += (double) a[(gsize) i * lda + kk] * b[(gsize) kk * n + j];
                want = MAX (want, 0.0);
                g_assert_cmpfloat_with_epsilon (c[(gsize) i * n + j], want,
                                                1e-5 * (k + 1) + 1e-5 * fabs (want));
              }
        }

      g_free (a);
      g_free (b);
      g_free (bias);
      g_free (res);
      g_free (packed);
      g_free (c);
    }
}

/* No rows (a detector's heads with no box left): nothing is written. */
static void
test_gemm_no_rows (void)
{
  float a[8] = { 0 }, bias[16] = { 0 }, c = 42.f;
  float *packed = g_new0 (float, tvw_gemm_packed_floats (8, 16));

  tvw_gemm_packed (0, 8, a, 8, packed, 16, 0, 1, &c, 16, bias, NULL, 0, TVW_ACT_RELU);
  g_assert_cmpfloat (c, ==, 42.f);
  g_free (packed);
}

static void
test_transpose_panel_rows (void)
{
  const int k = 19;
  float rows[TVW_GEMM_NR][19];
  const float *src[TVW_GEMM_NR];
  double s[TVW_GEMM_NR];
  float dst[8 * TVW_GEMM_NR];

  for (int j = 0; j < TVW_GEMM_NR; j++)
    {
      for (int i = 0; i < k; i++)
        rows[j][i] = rnd ();
      src[j] = rows[j];
      s[j] = 1.0 + rnd ();
    }

  for (int ci = 0; ci + 8 <= k; ci += 3)
    {
      tvw_gemm_transpose_panel_rows (src, s, ci, dst);
      for (int c = 0; c < 8; c++)
        for (int j = 0; j < TVW_GEMM_NR; j++)
          g_assert_cmpfloat (dst[c * TVW_GEMM_NR + j], ==,
                             (float) ((double) rows[j][ci + c] * s[j]));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/cpu/choose", test_choose);
  g_test_add_func ("/tvw/cpu/forced", test_forced);
  g_test_add_func ("/tvw/cpu/gemm", test_gemm);
  g_test_add_func ("/tvw/cpu/gemm-no-rows", test_gemm_no_rows);
  g_test_add_func ("/tvw/cpu/transpose-panel-rows", test_transpose_panel_rows);

  return g_test_run ();
}
