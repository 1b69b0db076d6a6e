/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the loss-balance helpers: the suggest-weights rule, shares, recent losses and the
 * pictures (headless Cairo). */
#include "weft-chart-painter.h"
#include "weft-loss-balance.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>

#define REL_TOL 1e-6

/* w_j L_j equal for every head after the suggestion, and the sum of weights kept. */
static void
test_suggest_equalises_contributions (void)
{
  /* the lesson's three heads: age mse in years^2, income cce, gender bce */
  float w[3] = { 0.25f, 1.0f, 10.0f }, s[3];
  double L[3] = { 120.0, 1.9, 0.6 };
  g_assert_cmpint (weft_loss_balance_suggest (3, w, L, s), ==, 3);
  double c0 = s[0] * L[0];
  for (int j = 1; j < 3; j++)
    g_assert_cmpfloat (fabs (s[j] * L[j] - c0), <=, REL_TOL * c0);
  g_assert_cmpfloat (fabs ((s[0] + s[1] + s[2]) - 11.25), <=, REL_TOL * 11.25);
  /* the closed form: w_j = S / (L_j sum_k 1/L_k) */
  double inv = 1 / L[0] + 1 / L[1] + 1 / L[2];
  for (int j = 0; j < 3; j++)
    g_assert_cmpfloat (fabs (s[j] - 11.25 / (L[j] * inv)), <=, REL_TOL * s[j]);
  /* applying it twice changes nothing more */
  float again[3];
  weft_loss_balance_suggest (3, s, L, again);
  for (int j = 0; j < 3; j++)
    g_assert_cmpfloat (fabs (again[j] - s[j]), <=, REL_TOL * s[j]);
}

/* Heads without a usable loss keep their weight and stay out of the normalisation. */
static void
test_suggest_skips_unusable_heads (void)
{
  float w[4] = { 1, 2, 3, 4 }, s[4];
  double L[4] = { 2.0, NAN, 0.0, 8.0 };
  g_assert_cmpint (weft_loss_balance_suggest (4, w, L, s), ==, 2);
  g_assert_cmpfloat (s[1], ==, 2);
  g_assert_cmpfloat (s[2], ==, 3);
  g_assert_cmpfloat (fabs (s[0] + s[3] - 5), <=, REL_TOL * 5);
  g_assert_cmpfloat (fabs (s[0] * 2.0 - s[3] * 8.0), <=, REL_TOL * s[0] * 2);
  /* one head: nothing to balance */
  float w1 = 1, s1;
  double L1 = 3;
  g_assert_cmpint (weft_loss_balance_suggest (1, &w1, &L1, &s1), ==, 0);
  g_assert_cmpfloat (s1, ==, 1);
  /* already balanced: no change */
  float wb[2] = { 1, 1 }, sb[2];
  double Lb[2] = { 0.5, 0.5 };
  g_assert_cmpint (weft_loss_balance_suggest (2, wb, Lb, sb), ==, 0);
}

static void
test_shares_sum_to_one (void)
{
  float w[3] = { 0.25f, 1, 10 };
  double L[3] = { 100, 2, 0.5 }, share[3];
  weft_loss_balance_shares (3, w, L, share);
  g_assert_cmpfloat (fabs (share[0] + share[1] + share[2] - 1), <=, REL_TOL);
  g_assert_cmpfloat (fabs (share[0] - 25.0 / 32.0), <=, REL_TOL);
  double zero[3] = { 0, 0, 0 };
  weft_loss_balance_shares (3, w, zero, share);
  g_assert_true (isnan (share[0]));
}

static WeftHistory *
make_history (int steps)
{
  const char *names[2] = { "a", "b" };
  float weights[2] = { 1, 3 };
  WeftHistory *h = weft_history_new (2, names, weights, NULL);
  for (int i = 0; i < steps; i++)
    {
      WeftStepReport r = { 0 };
      r.n_heads = 2;
      r.step = i;
      r.epoch = i / 10;
      r.batch = i % 10;
      r.n_batches = 10;
      r.loss[0] = i;             /* mean over the last 4 of 0..19: 17.5 */
      r.loss[1] = i % 2 ? NAN : 1;
      r.metric[0] = r.metric[1] = NAN;
      r.total = r.loss[0] + 3 * r.loss[1];
      g_assert_true (weft_history_add_step (h, &r));
    }
  return h;
}

static void
test_recent_losses_window (void)
{
  WeftHistory *h = make_history (20);
  double L[2];
  g_assert_true (weft_loss_balance_recent_losses (h, -1, 4, L));
  g_assert_cmpfloat (L[0], ==, 17.5);
  g_assert_cmpfloat (L[1], ==, 1);    /* NaN steps skipped */
  g_assert_true (weft_loss_balance_recent_losses (h, 0, 1000, L));
  g_assert_cmpfloat (L[0], ==, 9.5);
  weft_history_begin_run (h);
  weft_history_clear (h);
  g_assert_false (weft_loss_balance_recent_losses (h, -1, 4, L));
  weft_history_free (h);
}

/* The band fills the picture from the bottom with the heads' colours; the gradient bars
 * skip layers fed by a single head. */
static void
test_paint (void)
{
  WeftHistory *h = make_history (200);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 100, 40);
  cairo_t *cr = cairo_create (s);
  weft_loss_balance_paint (cr, 100, 40, h, -1, NULL, FALSE);
  cairo_surface_flush (s);
  const guint32 *px = (const guint32 *) cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s) / 4;
  double rgb[3];
  weft_chart_head_color (0, FALSE, rgb);
  /* bottom-right: head 0 dominates late (loss 199 vs 3 * 1): close to its colour */
  guint32 p = px[38 * stride + 95];
  g_assert_cmpuint (p, !=, 0xffffffff);
  g_assert_cmpint (abs ((int) ((p >> 16) & 0xff) - (int) (rgb[0] * 255)), <=, 40);
  g_assert_cmpint (abs ((int) (p & 0xff) - (int) (rgb[2] * 255)), <=, 40);

  WeftGradientShare rows[2] = { { "trunk", 2, { 1, 3 } }, { "a", 2, { 1, 0 } } };
  g_assert_true (weft_loss_balance_row_is_shared (&rows[0]));
  g_assert_false (weft_loss_balance_row_is_shared (&rows[1]));
  double used = weft_loss_balance_paint_gradient_share (cr, 100, rows, 2, FALSE);
  g_assert_cmpfloat (used, >, 0);
  g_assert_cmpfloat (used, <, 30);   /* one bar only */
  /* over epochs: head 0's part grows from 1/4 to 3/4 of the trunk's gradient */
  WeftGradientShare hist[4] = { { "trunk", 2, { 1, 3 } }, { "a", 2, { 1, 0 } },
                                { "trunk", 2, { 3, 1 } }, { "a", 2, { 1, 0 } } };
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  used = weft_loss_balance_paint_gradient_share_history (cr, 100, hist, 2, 2, FALSE);
  g_assert_cmpfloat (used, >, 0);
  g_assert_cmpfloat (used, <, 30);
  cairo_surface_flush (s);
  double c0[3];
  weft_chart_head_color (0, FALSE, c0);
  /* x = 110 + ...: the label takes 110 px, so draw 400 wide to see both epochs */
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 310, 40);
  cr = cairo_create (s);
  weft_loss_balance_paint_gradient_share_history (cr, 310, hist, 2, 2, FALSE);
  cairo_surface_flush (s);
  px = (const guint32 *) cairo_image_surface_get_data (s);
  stride = cairo_image_surface_get_stride (s) / 4;
  /* epoch 1 (x 110..210): head 0 fills the top quarter; epoch 2 (210..310) three quarters */
  guint32 e1 = px[8 * stride + 160], e2 = px[8 * stride + 260];
  g_assert_cmpint (abs ((int) ((e1 >> 16) & 0xff) - (int) (c0[0] * 255)), >, 40);
  g_assert_cmpint (abs ((int) ((e2 >> 16) & 0xff) - (int) (c0[0] * 255)), <=, 40);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  weft_history_free (h);
}

/* The incremental band, synced after each of several uneven batches of steps, paints the
 * same pixels as the full pass over the run; a new run starts it over. */
static void
test_band_matches_full_paint (void)
{
  const char *names[2] = { "a", "b" };
  float weights[2] = { 1, 3 };
  WeftHistory *h = weft_history_new (2, names, weights, NULL);
  WeftLossBalanceBand *band = weft_loss_balance_band_new ();
  cairo_surface_t *full = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 97, 30);
  cairo_surface_t *inc = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 97, 30);
  int step = 0, sizes[] = { 1, 5, 50, 3, 200, 17, 1000 };
  for (int round = 0; round < 2; round++)
    {
      if (round == 1)
        weft_history_begin_run (h);
      for (guint b = 0; b < G_N_ELEMENTS (sizes); b++)
        {
          for (int i = 0; i < sizes[b]; i++, step++)
            {
              WeftStepReport r = { 0 };
              r.n_heads = 2;
              r.step = step;
              r.n_batches = 10;
              r.loss[0] = 1 + step % 7;
              r.loss[1] = step % 5 == 0 ? NAN : 0.1 * (step % 11);
              r.metric[0] = r.metric[1] = NAN;
              r.total = r.loss[0] + 3 * r.loss[1];
              g_assert_true (weft_history_add_step (h, &r));
            }
          g_assert_cmpuint (weft_loss_balance_band_sync (band, h), ==, (size_t) sizes[b]);
          cairo_t *cr = cairo_create (full);
          weft_loss_balance_paint (cr, 97, 30, h, -1, NULL, FALSE);
          cairo_destroy (cr);
          cr = cairo_create (inc);
          weft_loss_balance_band_paint (band, cr, 97, 30, FALSE);
          cairo_destroy (cr);
          cairo_surface_flush (full);
          cairo_surface_flush (inc);
          int stride = cairo_image_surface_get_stride (full);
          g_assert_cmpint (stride, ==, cairo_image_surface_get_stride (inc));
          const guint8 *a = cairo_image_surface_get_data (full);
          const guint8 *c = cairo_image_surface_get_data (inc);
          int differing = 0;
          for (int i = 0; i < stride * 30; i++)
            differing += abs ((int) a[i] - (int) c[i]) > 2;   /* summation order only */
          g_assert_cmpint (differing, ==, 0);
        }
      g_assert_cmpuint (weft_loss_balance_band_sync (band, h), ==, 0);
    }
  cairo_surface_destroy (full);
  cairo_surface_destroy (inc);
  weft_loss_balance_band_free (band);
  weft_history_free (h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/balance/suggest-equalises-contributions",
                   test_suggest_equalises_contributions);
  g_test_add_func ("/ui/balance/suggest-skips-unusable-heads", test_suggest_skips_unusable_heads);
  g_test_add_func ("/ui/balance/shares-sum-to-one", test_shares_sum_to_one);
  g_test_add_func ("/ui/balance/recent-losses-window", test_recent_losses_window);
  g_test_add_func ("/ui/balance/paint", test_paint);
  g_test_add_func ("/ui/balance/band-matches-full-paint", test_band_matches_full_paint);
  return g_test_run ();
}
