/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of WeftLossSeries (append, ranges, min/max decimation, debiased EMA) and of the chart
 * axis used with it. Headless. */
#include "weft-chart-painter.h"
#include "weft-loss-series.h"

#include <glib.h>
#include <math.h>

#define EMA_TOL 1e-12

typedef struct { guint calls, position, removed, added; } Changes;

static void
on_items_changed (WeftLossSeries *s, guint position, guint removed, guint added, Changes *c)
{
  c->calls++;
  c->position = position;
  c->removed = removed;
  c->added = added;
}

static void
test_append_emits_items_changed (void)
{
  g_autoptr(WeftLossSeries) s = weft_loss_series_new ("age", 0, WEFT_LOSS_SERIES_TRAIN);
  Changes c = { 0 };
  g_signal_connect (s, "items-changed", G_CALLBACK (on_items_changed), &c);
  double x[3] = { 0, 1, 2 }, y[3] = { 3, 2, 1 };
  g_assert_cmpuint (weft_loss_series_append (s, x, y, 3), ==, 3);
  g_assert_cmpuint (c.calls, ==, 1);
  g_assert_cmpuint (c.position, ==, 0);
  g_assert_cmpuint (c.added, ==, 3);
  double x2[2] = { 3, 4 };
  weft_loss_series_append (s, x2, y, 2);
  g_assert_cmpuint (c.calls, ==, 2);
  g_assert_cmpuint (c.position, ==, 3);
  g_assert_cmpuint (c.added, ==, 2);
  g_assert_cmpuint (weft_loss_series_get_n_points (s), ==, 5);
  weft_loss_series_append (s, NULL, NULL, 0);
  g_assert_cmpuint (c.calls, ==, 2);   /* nothing added: no signal */
  weft_loss_series_clear (s);
  g_assert_cmpuint (c.calls, ==, 3);
  g_assert_cmpuint (c.removed, ==, 5);
  g_assert_cmpuint (weft_loss_series_get_n_points (s), ==, 0);
  g_assert_cmpstr (weft_loss_series_get_label (s), ==, "age");
}

static void
test_append_drops_decreasing_x (void)
{
  g_autoptr(WeftLossSeries) s = weft_loss_series_new ("t", -1, WEFT_LOSS_SERIES_TRAIN);
  double x[5] = { 1, 2, 1.5, NAN, 2 }, y[5] = { 1, 2, 3, 4, 5 };
  g_assert_cmpuint (weft_loss_series_append (s, x, y, 5), ==, 3);
  const double *xs = weft_loss_series_get_x (s), *ys = weft_loss_series_get_y (s);
  g_assert_cmpfloat (xs[2], ==, 2);
  g_assert_cmpfloat (ys[2], ==, 5);
}

static void
test_nearest_and_lower_bound (void)
{
  g_autoptr(WeftLossSeries) s = weft_loss_series_new ("t", 0, WEFT_LOSS_SERIES_TRAIN);
  double x[4] = { 0, 10, 20, 30 }, y[4] = { 0 };
  guint i;
  g_assert_false (weft_loss_series_nearest (s, 3, &i));
  weft_loss_series_append (s, x, y, 4);
  g_assert_cmpuint (weft_loss_series_lower_bound (s, 10), ==, 1);
  g_assert_cmpuint (weft_loss_series_lower_bound (s, 10.5), ==, 2);
  g_assert_cmpuint (weft_loss_series_lower_bound (s, 99), ==, 4);
  g_assert_true (weft_loss_series_nearest (s, 14, &i));
  g_assert_cmpuint (i, ==, 1);
  g_assert_true (weft_loss_series_nearest (s, 16, &i));
  g_assert_cmpuint (i, ==, 2);
  g_assert_true (weft_loss_series_nearest (s, 15, &i));   /* tie: the earlier */
  g_assert_cmpuint (i, ==, 1);
  g_assert_true (weft_loss_series_nearest (s, -5, &i));
  g_assert_cmpuint (i, ==, 0);
  g_assert_true (weft_loss_series_nearest (s, 1e9, &i));
  g_assert_cmpuint (i, ==, 3);
}

static WeftLossSeries *
random_series (guint n, guint32 seed, double nan_rate)
{
  WeftLossSeries *s = weft_loss_series_new ("r", 0, WEFT_LOSS_SERIES_TRAIN);
  GRand *r = g_rand_new_with_seed (seed);
  double *x = g_new (double, n), *y = g_new (double, n);
  double xv = 0;
  for (guint i = 0; i < n; i++)
    {
      xv += g_rand_double_range (r, 0, 2) < 0.1 ? 0 : g_rand_double_range (r, 0.5, 1.5);
      x[i] = xv;
      y[i] = g_rand_double (r) < nan_rate ? NAN : g_rand_double_range (r, -1, 3);
    }
  /* append in uneven chunks, as the training idle does */
  for (guint i = 0; i < n;)
    {
      /* draw first: MIN() evaluates its arguments twice */
      guint chunk = 1 + (guint) g_rand_int_range (r, 0, 700);
      guint k = MIN (n - i, chunk);
      weft_loss_series_append (s, x + i, y + i, k);
      i += k;
    }
  g_free (x);
  g_free (y);
  g_rand_free (r);
  return s;
}

static void
brute_column (WeftLossSeries *s, double a, double b, gboolean last, WeftLossColumn *col)
{
  const double *x = weft_loss_series_get_x (s), *y = weft_loss_series_get_y (s);
  guint n = weft_loss_series_get_n_points (s);
  col->n = 0;
  col->y_min = INFINITY;
  col->y_max = -INFINITY;
  for (guint i = 0; i < n; i++)
    if (x[i] >= a && x[i] < b)
      {
        if (col->n == 0)
          {
            col->x_first = x[i];
            col->y_first = y[i];
          }
        col->x_last = x[i];
        col->y_last = y[i];
        col->n++;
        if (isfinite (y[i]))
          {
            col->y_min = MIN (col->y_min, y[i]);
            col->y_max = MAX (col->y_max, y[i]);
          }
      }
  (void) last;
}

static void
assert_same_double (double a, double b)
{
  if (isnan (a))
    g_assert_true (isnan (b));
  else
    g_assert_cmpfloat (a, ==, b);
}

/* Min/max decimation equals a brute-force pass over each column, for many windows. */
static void
test_decimate_matches_brute_force (void)
{
  g_autoptr(WeftLossSeries) s = random_series (100003, 7, 0.02);
  const double *x = weft_loss_series_get_x (s);
  guint n = weft_loss_series_get_n_points (s);
  GRand *r = g_rand_new_with_seed (11);
  for (int trial = 0; trial < 40; trial++)
    {
      double a = g_rand_double_range (r, -10, x[n - 1]);
      double b = a + g_rand_double_range (r, 1, x[n - 1]);
      guint cols = 1 + g_rand_int_range (r, 0, 300);
      WeftLossColumn *got = g_new (WeftLossColumn, cols);
      weft_loss_series_decimate (s, a, b, cols, FALSE, got);
      for (guint k = 0; k < cols; k++)
        {
          double ca = a + (b - a) / cols * k, cb = k + 1 == cols ? b : a + (b - a) / cols * (k + 1);
          WeftLossColumn want;
          brute_column (s, ca, cb, k + 1 == cols, &want);
          g_assert_cmpuint (got[k].n, ==, want.n);
          if (want.n == 0)
            continue;
          g_assert_cmpfloat (got[k].x_first, ==, want.x_first);
          g_assert_cmpfloat (got[k].x_last, ==, want.x_last);
          assert_same_double (got[k].y_first, want.y_first);
          assert_same_double (got[k].y_last, want.y_last);
          if (isfinite (want.y_min))
            {
              g_assert_cmpfloat (got[k].y_min, ==, want.y_min);
              g_assert_cmpfloat (got[k].y_max, ==, want.y_max);
            }
          else
            g_assert_true (isnan (got[k].y_min) && isnan (got[k].y_max));
        }
      g_free (got);
    }
  g_rand_free (r);
}

/* The kept decimation, extended as points arrive in uneven chunks (some landing on column
 * edges, some adding to a column already summarised), equals a fresh one each time, raw
 * and smoothed; a new view, a cleared series and a smoothing change are not served stale. */
static void
test_decimate_cache_follows_appends (void)
{
  g_autoptr(WeftLossSeries) src = random_series (20000, 9, 0.01);
  const double *x = weft_loss_series_get_x (src);
  const double *y = weft_loss_series_get_y (src);
  guint n = weft_loss_series_get_n_points (src);
  g_autoptr(WeftLossSeries) live = weft_loss_series_new ("live", 0, WEFT_LOSS_SERIES_TRAIN);
  weft_loss_series_set_smoothing (live, 0.8);
  double a = x[0], b = x[n - 1] + 1;
  const guint cols = 97;
  GRand *r = g_rand_new_with_seed (3);
  guint done = 0;
  while (done < n)
    {
      guint chunk = MIN (n - done, (guint) g_rand_int_range (r, 1, 700));
      weft_loss_series_append (live, x + done, y + done, chunk);
      done += chunk;
      for (int sm = 0; sm < 2; sm++)
        {
          WeftLossColumn *got = g_memdup2 (weft_loss_series_peek_decimation (live, a, b, cols, sm),
                                           cols * sizeof *got);
          g_autoptr(WeftLossSeries) fresh = weft_loss_series_new ("fresh", 0,
                                                                  WEFT_LOSS_SERIES_TRAIN);
          weft_loss_series_set_smoothing (fresh, 0.8);
          weft_loss_series_append (fresh, x, y, done);
          const WeftLossColumn *want = weft_loss_series_peek_decimation (fresh, a, b, cols, sm);
          for (guint k = 0; k < cols; k++)
            {
              g_assert_cmpuint (got[k].n, ==, want[k].n);
              if (want[k].n == 0)
                continue;
              g_assert_cmpfloat (got[k].x_first, ==, want[k].x_first);
              g_assert_cmpfloat (got[k].x_last, ==, want[k].x_last);
              assert_same_double (got[k].y_first, want[k].y_first);
              assert_same_double (got[k].y_last, want[k].y_last);
              assert_same_double (got[k].y_min, want[k].y_min);
              assert_same_double (got[k].y_max, want[k].y_max);
            }
          g_free (got);
        }
    }
  /* another window of the same width is computed anew */
  const WeftLossColumn *half = weft_loss_series_peek_decimation (live, a, (a + b) / 2, cols, FALSE);
  guint total = 0;
  for (guint k = 0; k < cols; k++)
    total += half[k].n;
  g_assert_cmpuint (total, ==, weft_loss_series_lower_bound (live, (a + b) / 2));
  /* a smoothing change recomputes the smoothed values: no stale columns */
  double before = weft_loss_series_peek_decimation (live, a, b, cols, TRUE)[cols / 2].y_max;
  weft_loss_series_set_smoothing (live, 0.99);
  double after = weft_loss_series_peek_decimation (live, a, b, cols, TRUE)[cols / 2].y_max;
  g_assert_cmpfloat (before, !=, after);
  weft_loss_series_clear (live);
  const WeftLossColumn *empty = weft_loss_series_peek_decimation (live, a, b, cols, FALSE);
  for (guint k = 0; k < cols; k++)
    g_assert_cmpuint (empty[k].n, ==, 0);
  g_rand_free (r);
}

/* A million points: each column's extremes still come out exact (spot checks). */
static void
test_decimate_million_points (void)
{
  g_autoptr(WeftLossSeries) s = random_series (1000000, 3, 0);
  const double *x = weft_loss_series_get_x (s);
  guint n = weft_loss_series_get_n_points (s);
  g_assert_cmpuint (n, ==, 1000000);
  WeftLossColumn cols[800];
  weft_loss_series_decimate (s, x[0], x[n - 1] + 1, 800, FALSE, cols);
  guint total = 0;
  for (int k = 0; k < 800; k++)
    total += cols[k].n;
  g_assert_cmpuint (total, ==, n);
  for (int k = 0; k < 800; k += 97)
    {
      double w = (x[n - 1] + 1 - x[0]) / 800;
      WeftLossColumn want;
      brute_column (s, x[0] + w * k, k == 799 ? x[n - 1] + 1 : x[0] + w * (k + 1), FALSE, &want);
      g_assert_cmpuint (cols[k].n, ==, want.n);
      g_assert_cmpfloat (cols[k].y_min, ==, want.y_min);
      g_assert_cmpfloat (cols[k].y_max, ==, want.y_max);
    }
}

static void
test_y_range (void)
{
  g_autoptr(WeftLossSeries) s = weft_loss_series_new ("t", 0, WEFT_LOSS_SERIES_TRAIN);
  double x[6] = { 0, 1, 2, 3, 4, 5 }, y[6] = { 0, 5, -2, NAN, 0.5, 9 };
  weft_loss_series_append (s, x, y, 6);
  double lo, hi;
  g_assert_true (weft_loss_series_y_range (s, 0, 4, FALSE, FALSE, &lo, &hi));
  g_assert_cmpfloat (lo, ==, -2);
  g_assert_cmpfloat (hi, ==, 5);
  g_assert_true (weft_loss_series_y_range (s, 0, 4, FALSE, TRUE, &lo, &hi));
  g_assert_cmpfloat (lo, ==, 0.5);   /* a log axis skips 0 and negatives */
  g_assert_true (weft_loss_series_y_range (s, 5, 5, FALSE, FALSE, &lo, &hi));
  g_assert_cmpfloat (lo, ==, 9);
  g_assert_false (weft_loss_series_y_range (s, 3, 3, FALSE, FALSE, &lo, &hi));  /* NaN only */
  g_assert_false (weft_loss_series_y_range (s, 6, 9, FALSE, FALSE, &lo, &hi));
}

/* Debiased EMA: the first value is the raw one (not pulled toward 0), a constant stays
 * constant, and values follow the formula; NaN points are gaps that do not reset it. */
static void
test_ema_is_debiased (void)
{
  g_autoptr(WeftLossSeries) s = weft_loss_series_new ("t", 0, WEFT_LOSS_SERIES_TRAIN);
  weft_loss_series_set_smoothing (s, 0.9);
  double x[5] = { 0, 1, 2, 3, 4 }, y[5] = { 4, 2, NAN, 8, 1 };
  weft_loss_series_append (s, x, y, 2);
  weft_loss_series_append (s, x + 2, y + 2, 3);
  const double *sm = weft_loss_series_get_smoothed (s);
  double a = 0.9, e = 0, w = 0;
  int k = 0;
  for (int i = 0; i < 5; i++)
    {
      if (isnan (y[i]))
        {
          g_assert_true (isnan (sm[i]));
          continue;
        }
      e = a * e + (1 - a) * y[i];
      w = a * w + (1 - a);
      k++;
      g_assert_cmpfloat (fabs (w - (1 - pow (a, k))), <=, EMA_TOL);
      g_assert_cmpfloat (fabs (sm[i] - e / w), <=, EMA_TOL);
    }
  g_assert_cmpfloat (sm[0], ==, 4);

  /* recomputed from scratch == incremental; 0 gives the raw values back */
  g_autoptr(WeftLossSeries) t = weft_loss_series_new ("t", 0, WEFT_LOSS_SERIES_TRAIN);
  weft_loss_series_append (t, x, y, 5);
  weft_loss_series_set_smoothing (t, 0.9);
  for (int i = 0; i < 5; i++)
    assert_same_double (weft_loss_series_get_smoothed (t)[i], sm[i]);
  weft_loss_series_set_smoothing (t, 0);
  g_assert_true (weft_loss_series_get_smoothed (t) == weft_loss_series_get_y (t));

  g_autoptr(WeftLossSeries) c = weft_loss_series_new ("c", 0, WEFT_LOSS_SERIES_TRAIN);
  weft_loss_series_set_smoothing (c, 0.99);
  for (int i = 0; i < 50; i++)
    {
      double xi = i, yi = 0.25;
      weft_loss_series_append (c, &xi, &yi, 1);
    }
  for (int i = 0; i < 50; i++)
    g_assert_cmpfloat (fabs (weft_loss_series_get_smoothed (c)[i] - 0.25), <=, EMA_TOL);
}

/* Smoothed decimation and ranges read the smoothed values. */
static void
test_smoothed_range_and_decimation (void)
{
  g_autoptr(WeftLossSeries) s = random_series (5000, 5, 0.01);
  weft_loss_series_set_smoothing (s, 0.95);
  const double *x = weft_loss_series_get_x (s), *sm = weft_loss_series_get_smoothed (s);
  guint n = weft_loss_series_get_n_points (s);
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < n; i++)
    if (isfinite (sm[i]))
      {
        lo = MIN (lo, sm[i]);
        hi = MAX (hi, sm[i]);
      }
  double glo, ghi;
  g_assert_true (weft_loss_series_y_range (s, x[0], x[n - 1], TRUE, FALSE, &glo, &ghi));
  g_assert_cmpfloat (glo, ==, lo);
  g_assert_cmpfloat (ghi, ==, hi);
  WeftLossColumn col;
  weft_loss_series_decimate (s, x[0], x[n - 1] + 1, 1, TRUE, &col);
  g_assert_cmpuint (col.n, ==, n);
  g_assert_cmpfloat (col.y_min, ==, lo);
  g_assert_cmpfloat (col.y_max, ==, hi);
}

/* The chart's y axis built from a series range: log axes guard 0 and degenerate ranges. */
static void
test_axis_from_series_range (void)
{
  g_autoptr(WeftLossSeries) s = weft_loss_series_new ("t", 0, WEFT_LOSS_SERIES_TRAIN);
  double x[3] = { 0, 1, 2 }, y[3] = { 0, 0.01, 10 };
  weft_loss_series_append (s, x, y, 3);
  double lo, hi;
  g_assert_true (weft_loss_series_y_range (s, 0, 2, FALSE, TRUE, &lo, &hi));
  WeftChartRange r = { lo, hi };
  WeftChartAxis axis;
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LOG, r, FALSE, 5);
  g_assert_cmpfloat (axis.min, <=, 0.01);
  g_assert_cmpfloat (axis.max, >=, 10);
  g_assert_true (isnan (weft_chart_axis_map (&axis, 0)));
  double t = weft_chart_axis_map (&axis, 1);
  g_assert_cmpfloat (fabs (weft_chart_axis_unmap (&axis, t) - 1), <=, 1e-9);
  /* a flat series still gets a usable axis */
  WeftChartRange flat = { 0.5, 0.5 };
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, flat, FALSE, 5);
  g_assert_cmpfloat (axis.min, <, 0.5);
  g_assert_cmpfloat (axis.max, >, 0.5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/loss-series/append-emits-items-changed", test_append_emits_items_changed);
  g_test_add_func ("/ui/loss-series/append-drops-decreasing-x", test_append_drops_decreasing_x);
  g_test_add_func ("/ui/loss-series/nearest-and-lower-bound", test_nearest_and_lower_bound);
  g_test_add_func ("/ui/loss-series/decimate-matches-brute-force",
                   test_decimate_matches_brute_force);
  g_test_add_func ("/ui/loss-series/decimate-million-points", test_decimate_million_points);
  g_test_add_func ("/ui/loss-series/decimate-cache-follows-appends",
                   test_decimate_cache_follows_appends);
  g_test_add_func ("/ui/loss-series/y-range", test_y_range);
  g_test_add_func ("/ui/loss-series/ema-is-debiased", test_ema_is_debiased);
  g_test_add_func ("/ui/loss-series/smoothed-range-and-decimation",
                   test_smoothed_range_and_decimation);
  g_test_add_func ("/ui/loss-series/axis-from-series-range", test_axis_from_series_range);
  return g_test_run ();
}
