/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "weft-chart-painter.h"
#include "weft-safetensors.h"

#include <dlfcn.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* A pixel "is" a palette colour when each channel is within this many 8-bit levels. */
#define COLOR_TOLERANCE   6
/* Pixels of a head colour a 640x400 chart with 3 curves of 30 epochs must show at least. */
#define MIN_CURVE_PIXELS  60
#define REL_TOLERANCE     1e-9

static const char *const head_names[3] = { "age", "income", "gender" };
static const float loss_weights[3] = { 0.25f, 1.0f, 10.0f };
static const char *const metric_names[3] = { "mae", "accuracy", "accuracy" };

/* 3 heads, `epochs` epochs of 8 steps, validation from epoch 1 on; losses well apart so the
 * curves do not cover each other. */
static WeftHistory *
make_history (int epochs)
{
  WeftHistory *h = weft_history_new (3, head_names, loss_weights, metric_names);
  int64_t step = 0;

  for (int e = 0; e < epochs; e++)
    {
      WeftEpochReport er = { .epoch = e, .n_heads = 3, .has_validation = e > 0,
                             .seconds = 1 };

      for (int b = 0; b < 8; b++)
        {
          WeftStepReport r = { .epoch = e, .batch = b, .n_batches = 8, .step = step++,
                               .n_heads = 3, .samples_seen = 32 * (b + 1) };

          for (int j = 0; j < 3; j++)
            {
              r.loss[j] = (3.0 - j) * (1.0 + 4.0 / (1.0 + r.step)) + 0.05 * sin (r.step);
              r.total += loss_weights[j] * r.loss[j];
            }
          g_assert_true (weft_history_add_step (h, &r));
        }
      for (int j = 0; j < 3; j++)
        {
          er.loss[j] = (3.0 - j) * (1.0 + 4.0 / (1.0 + e));
          er.val_loss[j] = er.loss[j] * 1.1;
          er.total += loss_weights[j] * er.loss[j];
          er.val_total += loss_weights[j] * er.val_loss[j];
        }
      g_assert_true (weft_history_add_epoch (h, &er));
    }
  return h;
}

static bool
is_step_multiple (double v, double step)
{
  double k = v / step;
  return fabs (k - round (k)) < 1e-6;
}

static bool
is_125 (double step)
{
  double m = step / pow (10.0, floor (log10 (step) + 1e-9));
  return fabs (m - 1) < 1e-9 || fabs (m - 2) < 1e-9 || fabs (m - 5) < 1e-9;
}

static void
test_axis_nice_number_is_1_2_5 (void)
{
  g_assert_cmpfloat (weft_chart_nice_number (0.73, false), ==, 1.0);
  g_assert_cmpfloat (weft_chart_nice_number (1.7, false), ==, 2.0);
  g_assert_cmpfloat (weft_chart_nice_number (3.2, false), ==, 5.0);
  g_assert_cmpfloat (weft_chart_nice_number (7.0, false), ==, 10.0);
  g_assert_cmpfloat (weft_chart_nice_number (0.0041, true), ==, 0.005);
  g_assert_cmpfloat (weft_chart_nice_number (1.2, true), ==, 1.0);
  g_assert_cmpfloat (weft_chart_nice_number (2.5, true), ==, 2.0);
  g_assert_cmpfloat (fabs (weft_chart_nice_number (230.0, true) - 200.0), <, 1e-9);
  g_assert_cmpfloat (weft_chart_nice_number (0, true), ==, 1.0);
  g_assert_cmpfloat (weft_chart_nice_number (NAN, true), ==, 1.0);
}

static void
test_axis_linear_ticks_are_nice_and_cover_range (void)
{
  static const double ranges[][2] = {
    { 0.0, 1.0 }, { 0.31, 0.35 }, { -2.5, 7.3 }, { 0.0123, 4.56 }, { 1, 10 },
    { 1000, 1234567 }, { -1e-6, 3e-6 }, { 1e9, 1.0000001e9 }, { -50, -3 }, { 0.8, 0.8001 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ranges); i++)
    for (int target = 2; target <= 10; target += 4)
      {
        WeftChartRange r = WEFT_CHART_RANGE_EMPTY;
        WeftChartAxis axis;
        double ticks[64], step = 0;
        int n;

        weft_chart_range_include (&r, WEFT_CHART_SCALE_LINEAR, ranges[i][0]);
        weft_chart_range_include (&r, WEFT_CHART_SCALE_LINEAR, ranges[i][1]);
        weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, r, false, target);
        g_test_message ("range %g..%g target %d -> axis %.17g..%.17g", ranges[i][0],
                        ranges[i][1], target, axis.min, axis.max);
        /* the axis covers the data */
        g_assert_cmpfloat (axis.min, <=, ranges[i][0]);
        g_assert_cmpfloat (axis.max, >=, ranges[i][1]);
        n = weft_chart_axis_ticks (&axis, target, ticks, 64, &step);
        g_assert_cmpint (n, >=, 2);
        g_assert_cmpint (n, <=, 2 * target + 1);
        g_assert_true (step > 0 && is_125 (step));
        /* the ticks reach both ends of the (nice) axis, and are multiples of the step */
        g_assert_cmpfloat (fabs (ticks[0] - axis.min), <=, step * 1e-6);
        g_assert_cmpfloat (fabs (ticks[n - 1] - axis.max), <=, step * 1e-6);
        for (int k = 0; k < n; k++)
          {
            g_assert_true (is_step_multiple (ticks[k], step));
            if (k > 0)
              g_assert_cmpfloat (fabs (ticks[k] - ticks[k - 1] - step), <=, step * 1e-6);
          }
      }
}

static void
test_axis_integer_ticks_are_whole_numbers (void)
{
  WeftChartRange r = { 1, 3 };
  WeftChartAxis axis;
  double ticks[64], step;
  int n;

  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, r, true, 10);
  n = weft_chart_axis_ticks (&axis, 10, ticks, 64, &step);
  g_assert_cmpfloat (step, >=, 1.0);
  g_assert_cmpint (n, >=, 3);
  for (int k = 0; k < n; k++)
    g_assert_cmpfloat (ticks[k], ==, round (ticks[k]));
}

static void
test_axis_degenerate_ranges_are_widened (void)
{
  WeftChartAxis axis;
  double ticks[64];
  WeftChartRange same = { 0.5, 0.5 }, zero = { 0, 0 }, reversed = { 5, 1 };

  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, same, false, 5);
  g_assert_cmpfloat (axis.min, <, 0.5);
  g_assert_cmpfloat (axis.max, >, 0.5);
  g_assert_cmpfloat (weft_chart_axis_map (&axis, 0.5), >, 0.0);
  g_assert_cmpfloat (weft_chart_axis_map (&axis, 0.5), <, 1.0);
  g_assert_cmpint (weft_chart_axis_ticks (&axis, 5, ticks, 64, NULL), >=, 2);

  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, zero, false, 5);
  g_assert_cmpfloat (axis.min, <, 0);
  g_assert_cmpfloat (axis.max, >, 0);

  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, WEFT_CHART_RANGE_EMPTY, false, 5);
  g_assert_cmpfloat (axis.min, ==, 0);
  g_assert_cmpfloat (axis.max, ==, 1);

  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, reversed, false, 0);
  g_assert_cmpfloat (axis.min, ==, 1);
  g_assert_cmpfloat (axis.max, ==, 5);

  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LOG, same, false, 5);
  g_assert_cmpfloat (axis.min, >, 0);
  g_assert_cmpfloat (axis.min, <, 0.5);
  g_assert_cmpfloat (axis.max, >, 0.5);
  g_assert_cmpint (weft_chart_axis_ticks (&axis, 5, ticks, 64, NULL), >=, 2);

  /* huge spans stay finite */
  WeftChartRange huge = { -1e308, 1e308 };
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LINEAR, huge, false, 5);
  g_assert_true (isfinite (axis.min) && isfinite (axis.max) && axis.min < axis.max);
  g_assert_true (isfinite (weft_chart_axis_map (&axis, 0)));
}

static void
test_axis_log_skips_non_positive_values (void)
{
  WeftChartRange r = WEFT_CHART_RANGE_EMPTY;
  WeftChartAxis axis;
  double ticks[64], step;
  const double values[] = { 0, -3, NAN, INFINITY, -INFINITY, 0.02, 3.5 };
  int n;

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    weft_chart_range_include (&r, WEFT_CHART_SCALE_LOG, values[i]);
  g_assert_cmpfloat (r.lo, ==, 0.02);
  g_assert_cmpfloat (r.hi, ==, 3.5);
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LOG, r, false, 6);
  g_assert_cmpfloat (axis.min, >, 0);
  g_assert_cmpfloat (axis.min, <=, 0.02);
  g_assert_cmpfloat (axis.max, >=, 3.5);
  g_assert_true (isnan (weft_chart_axis_map (&axis, 0)));
  g_assert_true (isnan (weft_chart_axis_map (&axis, -1)));
  g_assert_true (isnan (weft_chart_axis_map (&axis, NAN)));
  n = weft_chart_axis_ticks (&axis, 6, ticks, 64, &step);
  g_assert_cmpint (n, >=, 2);
  for (int k = 0; k < n; k++)
    {
      g_assert_cmpfloat (ticks[k], >, 0);
      g_assert_cmpfloat (ticks[k], >=, axis.min * (1 - 1e-9));
      g_assert_cmpfloat (ticks[k], <=, axis.max * (1 + 1e-9));
      if (k > 0)
        g_assert_cmpfloat (ticks[k], >, ticks[k - 1]);
    }

  /* all non-positive: a default positive range, and a raw non-positive bound is guarded */
  WeftChartRange bad = { -5, 0 };
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LOG, bad, false, 5);
  g_assert_cmpfloat (axis.min, >, 0);
  g_assert_cmpfloat (axis.max, >, axis.min);
  WeftChartRange half = { -5, 100 };
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LOG, half, false, 5);
  g_assert_cmpfloat (axis.min, >, 0);
  g_assert_cmpfloat (axis.max, >=, 100);

  /* many decades: ticks are powers of ten, not more than asked for plus ends */
  WeftChartRange wide = { 1e-12, 1e12 };
  weft_chart_axis_init (&axis, WEFT_CHART_SCALE_LOG, wide, false, 6);
  n = weft_chart_axis_ticks (&axis, 6, ticks, 64, &step);
  g_assert_cmpint (n, >=, 2);
  g_assert_cmpint (n, <=, 8);
  for (int k = 0; k < n; k++)
    {
      double e = log10 (ticks[k]);
      g_assert_cmpfloat (fabs (e - round (e)), <, 1e-9);
    }
}

static void
test_axis_map_and_unmap_round_trip (void)
{
  WeftChartAxis lin = { WEFT_CHART_SCALE_LINEAR, -2, 6, false };
  WeftChartAxis lg = { WEFT_CHART_SCALE_LOG, 0.01, 100, false };

  g_assert_cmpfloat (weft_chart_axis_map (&lin, -2), ==, 0);
  g_assert_cmpfloat (weft_chart_axis_map (&lin, 6), ==, 1);
  g_assert_cmpfloat (weft_chart_axis_map (&lin, 2), ==, 0.5);
  g_assert_cmpfloat (fabs (weft_chart_axis_map (&lg, 1) - 0.5), <, REL_TOLERANCE);
  g_assert_cmpfloat (fabs (weft_chart_axis_map (&lg, 0.1) - 0.25), <, REL_TOLERANCE);
  for (double t = -0.5; t <= 1.5; t += 0.125)
    {
      g_assert_cmpfloat (fabs (weft_chart_axis_map (&lin, weft_chart_axis_unmap (&lin, t)) - t),
                         <, REL_TOLERANCE);
      g_assert_cmpfloat (fabs (weft_chart_axis_map (&lg, weft_chart_axis_unmap (&lg, t)) - t),
                         <, REL_TOLERANCE);
    }
}

static void
test_axis_labels (void)
{
  WeftChartAxis lin = { WEFT_CHART_SCALE_LINEAR, 0, 1, false };
  WeftChartAxis lg = { WEFT_CHART_SCALE_LOG, 1e-6, 1e6, false };
  char buf[32];

  weft_chart_axis_format (&lin, 0.25, 0.05, buf, sizeof buf);
  g_assert_true (strcmp (buf, "0.25") == 0 || strcmp (buf, "0,25") == 0);
  weft_chart_axis_format (&lin, 20000, 5000, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "20k");
  weft_chart_axis_format (&lin, 3, 1, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "3");
  weft_chart_axis_format (&lg, 1e-6, 2, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "1e-6");
  weft_chart_axis_format (&lg, 100, 2, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "100");
}

static void
test_palette_is_named (void)
{
  double rgb[3], rgb2[3];

  g_assert_true (weft_chart_palette_color ("background", false, rgb));
  g_assert_true (weft_chart_palette_color ("background", true, rgb2));
  g_assert_cmpfloat (rgb[0], !=, rgb2[0]);
  g_assert_false (weft_chart_palette_color ("no-such-colour", false, rgb));
  /* distinct colours for the first heads, cycling afterwards */
  for (int a = 0; a < 8; a++)
    for (int b = a + 1; b < 8; b++)
      g_assert_cmpstr (weft_chart_head_color_name (a), !=, weft_chart_head_color_name (b));
  g_assert_cmpstr (weft_chart_head_color_name (8), ==, weft_chart_head_color_name (0));
  weft_chart_head_color (2, false, rgb);
  g_assert_true (weft_chart_palette_color (weft_chart_head_color_name (2), false, rgb2));
  g_assert_cmpmem (rgb, sizeof rgb, rgb2, sizeof rgb2);
}

/* Counts pixels of an ARGB32 image (opaque background) within COLOR_TOLERANCE of rgb. */
static int
count_color (cairo_surface_t *s, const double rgb[3])
{
  int w = cairo_image_surface_get_width (s), h = cairo_image_surface_get_height (s);
  int stride = cairo_image_surface_get_stride (s);
  const unsigned char *data;
  int want[3], count = 0;

  cairo_surface_flush (s);
  data = cairo_image_surface_get_data (s);
  for (int c = 0; c < 3; c++)
    want[c] = (int) lround (rgb[c] * 255);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 p = *(const guint32 *) (data + y * stride + 4 * x);
        int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;

        if (abs (r - want[0]) <= COLOR_TOLERANCE && abs (g - want[1]) <= COLOR_TOLERANCE
            && abs (b - want[2]) <= COLOR_TOLERANCE)
          count++;
      }
  return count;
}

static cairo_surface_t *
paint_to_image (const WeftHistory *h, const WeftChartOptions *opts, int w, int ht)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, ht);
  cairo_t *cr = cairo_create (s);

  weft_chart_paint (cr, w, ht, h, opts);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  return s;
}

static void
test_paint_three_heads_show_each_head_colour (void)
{
  WeftHistory *h = make_history (30);
  WeftChartOptions opts;

  weft_chart_options_init (&opts);
  opts.show_legend = false;   /* every head-coloured pixel must then come from a curve */
  for (int mode = 0; mode < 2; mode++)
    {
      cairo_surface_t *s;
      double rgb[3];

      opts.x_axis = mode == 0 ? WEFT_CHART_X_EPOCH : WEFT_CHART_X_STEP;
      s = paint_to_image (h, &opts, 640, 400);
      for (int j = 0; j < 3; j++)
        {
          weft_chart_head_color (j, false, rgb);
          g_test_message ("mode %d head %d (%s): %d pixels", mode, j,
                          weft_chart_head_color_name (j), count_color (s, rgb));
          g_assert_cmpint (count_color (s, rgb), >=, MIN_CURVE_PIXELS);
        }
      g_assert_true (weft_chart_palette_color ("total", false, rgb));
      g_assert_cmpint (count_color (s, rgb), >=, MIN_CURVE_PIXELS);
      cairo_surface_destroy (s);
    }

  /* hiding a head removes its colour */
  {
    cairo_surface_t *s;
    double rgb[3];

    opts.x_axis = WEFT_CHART_X_EPOCH;
    opts.hidden_heads = 1u << 1;
    s = paint_to_image (h, &opts, 640, 400);
    weft_chart_head_color (1, false, rgb);
    g_assert_cmpint (count_color (s, rgb), ==, 0);
    weft_chart_head_color (0, false, rgb);
    g_assert_cmpint (count_color (s, rgb), >=, MIN_CURVE_PIXELS);
    cairo_surface_destroy (s);
  }
  weft_history_free (h);
}

static void
test_paint_dark_palette_uses_dark_background (void)
{
  WeftHistory *h = make_history (5);
  WeftChartOptions opts;
  cairo_surface_t *s;
  double bg[3], head[3];

  weft_chart_options_init (&opts);
  opts.dark = true;
  opts.title = "Loss";
  s = paint_to_image (h, &opts, 320, 240);
  g_assert_true (weft_chart_palette_color ("background", true, bg));
  weft_chart_head_color (0, true, head);
  g_assert_cmpint (count_color (s, bg), >, 320 * 240 / 2);
  g_assert_cmpint (count_color (s, head), >, 0);
  cairo_surface_destroy (s);
  weft_history_free (h);
}

static void
test_paint_log_axis_with_zero_and_negative_losses (void)
{
  const char *const names[2] = { "a", "b" };
  WeftHistory *h = weft_history_new (2, names, NULL, NULL);
  const double values[] = { 0, -1, NAN, INFINITY, 0.5, 1e-300, 1e300, -INFINITY };
  WeftChartOptions opts;

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      WeftEpochReport e = { .epoch = (int) i, .n_heads = 2, .loss = { values[i], 0 },
                            .total = values[i], .has_validation = true,
                            .val_loss = { -values[i], values[i] }, .val_total = 0 };
      WeftStepReport s = { .epoch = (int) i, .step = (int64_t) i, .n_heads = 2,
                           .loss = { values[i], values[i] }, .total = values[i] };
      g_assert_true (weft_history_add_epoch (h, &e));
      g_assert_true (weft_history_add_step (h, &s));
    }
  weft_chart_options_init (&opts);
  opts.y_scale = WEFT_CHART_SCALE_LOG;
  for (int mode = 0; mode < 2; mode++)
    {
      opts.x_axis = mode == 0 ? WEFT_CHART_X_EPOCH : WEFT_CHART_X_STEP;
      opts.smoothing = mode == 0 ? 0 : 0.9;
      cairo_surface_destroy (paint_to_image (h, &opts, 400, 300));
    }
  opts.y_scale = WEFT_CHART_SCALE_LINEAR;
  cairo_surface_destroy (paint_to_image (h, &opts, 400, 300));

  /* only zeros on a log axis: nothing can be shown, the axes still are */
  weft_history_clear (h);
  {
    WeftEpochReport e = { .n_heads = 2 };
    g_assert_true (weft_history_add_epoch (h, &e));
  }
  opts.y_scale = WEFT_CHART_SCALE_LOG;
  cairo_surface_destroy (paint_to_image (h, &opts, 400, 300));
  weft_history_free (h);
}

static void
test_paint_empty_history_draws_axes (void)
{
  const char *const names[1] = { "y" };
  WeftHistory *h = weft_history_new (1, names, NULL, NULL);
  double axis[3], bg[3];
  cairo_surface_t *s;

  g_assert_true (weft_chart_palette_color ("axis", false, axis));
  g_assert_true (weft_chart_palette_color ("background", false, bg));
  s = paint_to_image (h, NULL, 400, 300);
  g_assert_cmpint (count_color (s, axis), >, 300);   /* two axis lines at least */
  g_assert_cmpint (count_color (s, bg), >, 400 * 300 / 2);
  cairo_surface_destroy (s);
  s = paint_to_image (NULL, NULL, 400, 300);
  g_assert_cmpint (count_color (s, axis), >, 300);
  cairo_surface_destroy (s);
  /* degenerate sizes draw nothing harmful */
  cairo_surface_destroy (paint_to_image (h, NULL, 1, 1));
  cairo_surface_destroy (paint_to_image (h, NULL, 30, 20));
  weft_history_free (h);
}

static void
test_paint_previous_run_and_many_steps (void)
{
  WeftHistory *h = make_history (3);
  WeftChartOptions opts;
  double rgb[3];
  cairo_surface_t *s;

  weft_history_begin_run (h);
  /* 100k steps in the new run: drawn per pixel column */
  for (int64_t i = 0; i < 100000; i++)
    {
      WeftStepReport r = { .epoch = (int) (i / 1000), .batch = (int) (i % 1000),
                           .step = i, .n_heads = 3 };
      for (int j = 0; j < 3; j++)
        r.loss[j] = (j + 1) * (1 + 1.0 / (1 + i)) + 0.1 * sin ((double) i);
      g_assert_true (weft_history_add_step (h, &r));
    }
  weft_chart_options_init (&opts);
  opts.x_axis = WEFT_CHART_X_STEP;
  opts.show_previous_run = true;
  opts.smoothing = 0.6;
  opts.show_legend = false;
  s = paint_to_image (h, &opts, 800, 500);
  weft_chart_head_color (2, false, rgb);
  g_assert_cmpint (count_color (s, rgb), >=, MIN_CURVE_PIXELS);
  cairo_surface_destroy (s);
  weft_history_free (h);
}

static void
test_save_png_loads_back_with_size (void)
{
  WeftHistory *h = make_history (10);
  g_autofree char *dir = g_dir_make_tmp ("weft-chart-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "loss.png", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "loss.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) listing = NULL;
  cairo_surface_t *s;
  double rgb[3];
  int n_files = 0;

  g_assert_true (g_file_set_contents (path, "old", -1, NULL));
  g_assert_true (weft_chart_save_png (h, path, 321, 203, NULL, &error));
  g_assert_no_error (error);
  s = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (s), ==, 321);
  g_assert_cmpint (cairo_image_surface_get_height (s), ==, 203);
  weft_chart_head_color (0, false, rgb);
  g_assert_cmpint (count_color (s, rgb), >, 0);
  cairo_surface_destroy (s);

  listing = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (listing) != NULL)
    n_files++;
  g_assert_cmpint (n_files, ==, 1);   /* no temporary file left */

  g_assert_false (weft_chart_save_png (h, bad, 100, 100, NULL, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (weft_chart_save_png (h, path, 0, 100, NULL, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (weft_chart_save_png (h, path, 100, 100000, NULL, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  weft_history_free (h);
}

static void
test_save_svg_writes_svg (void)
{
  WeftHistory *h = make_history (4);
  g_autofree char *dir = g_dir_make_tmp ("weft-chart-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "loss.svg", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  WeftChartOptions opts;

  weft_chart_options_init (&opts);
  opts.title = "Three heads";
  g_assert_true (weft_chart_save_svg (h, path, 500, 300, &opts, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "<?xml"));
  g_assert_nonnull (strstr (text, "<svg"));
  g_assert_nonnull (strstr (text, "width=\"500pt\""));
  g_assert_nonnull (strstr (text, "</svg>"));
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  weft_history_free (h);
}

int
main (int argc, char **argv)
{
  void (*fc_fini) (void);
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/chart-painter/axis/nice-number-is-1-2-5",
                   test_axis_nice_number_is_1_2_5);
  g_test_add_func ("/ui/chart-painter/axis/linear-ticks-are-nice-and-cover-range",
                   test_axis_linear_ticks_are_nice_and_cover_range);
  g_test_add_func ("/ui/chart-painter/axis/integer-ticks-are-whole-numbers",
                   test_axis_integer_ticks_are_whole_numbers);
  g_test_add_func ("/ui/chart-painter/axis/degenerate-ranges-are-widened",
                   test_axis_degenerate_ranges_are_widened);
  g_test_add_func ("/ui/chart-painter/axis/log-skips-non-positive-values",
                   test_axis_log_skips_non_positive_values);
  g_test_add_func ("/ui/chart-painter/axis/map-and-unmap-round-trip",
                   test_axis_map_and_unmap_round_trip);
  g_test_add_func ("/ui/chart-painter/axis/labels", test_axis_labels);
  g_test_add_func ("/ui/chart-painter/palette/is-named", test_palette_is_named);
  g_test_add_func ("/ui/chart-painter/paint/three-heads-show-each-head-colour",
                   test_paint_three_heads_show_each_head_colour);
  g_test_add_func ("/ui/chart-painter/paint/dark-palette-uses-dark-background",
                   test_paint_dark_palette_uses_dark_background);
  g_test_add_func ("/ui/chart-painter/paint/log-axis-with-zero-and-negative-losses",
                   test_paint_log_axis_with_zero_and_negative_losses);
  g_test_add_func ("/ui/chart-painter/paint/empty-history-draws-axes",
                   test_paint_empty_history_draws_axes);
  g_test_add_func ("/ui/chart-painter/paint/previous-run-and-many-steps",
                   test_paint_previous_run_and_many_steps);
  g_test_add_func ("/ui/chart-painter/save/png-loads-back-with-size",
                   test_save_png_loads_back_with_size);
  g_test_add_func ("/ui/chart-painter/save/svg-writes-svg", test_save_svg_writes_svg);
  ret = g_test_run ();
  /* Drop Cairo's and fontconfig's font caches so the leak checker sees only our own
   * allocations (FcFini looked up at run time: fontconfig is only an indirect dependency). */
  cairo_debug_reset_static_data ();
  fc_fini = (void (*) (void)) dlsym (RTLD_DEFAULT, "FcFini");
  if (fc_fini != NULL)
    fc_fini ();
  return ret;
}
