/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Widget tests of WeftLossChart under a display (Xvfb in CI): offscreen rendering with
 * non-empty curves, live sync, read-out, zoom/pan/reset, exports, accessibility. */
#include "weft-loss-chart.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#define COLOR_TOL 40   /* per channel, antialiasing */

static WeftHistory *
make_history (int runs, int epochs, int batches)
{
  const char *names[3] = { "age", "income", "gender" };
  float weights[3] = { 0.25f, 1, 10 };
  WeftHistory *h = weft_history_new (3, names, weights, NULL);
  int64_t step = 0;
  for (int r = 0; r < runs; r++)
    {
      if (r > 0)
        weft_history_begin_run (h);
      step = 0;
      for (int e = 0; e < epochs; e++)
        {
          for (int b = 0; b < batches; b++, step++)
            {
              WeftStepReport s = { 0 };
              s.n_heads = 3;
              s.step = step;
              s.epoch = e;
              s.batch = b;
              s.n_batches = batches;
              s.samples_seen = 32 * (b + 1);
              s.loss[0] = 100.0 / (1 + step * 0.1) + (b % 3);
              s.loss[1] = 2.3 / (1 + step * 0.02);
              s.loss[2] = 0.7 / (1 + step * 0.01);
              s.metric[0] = s.metric[1] = s.metric[2] = NAN;
              s.total = 0.25 * s.loss[0] + s.loss[1] + 10 * s.loss[2];
              g_assert_true (weft_history_add_step (h, &s));
            }
          WeftEpochReport ep = { 0 };
          ep.epoch = e;
          ep.n_heads = 3;
          ep.has_validation = true;
          for (int j = 0; j < 3; j++)
            {
              ep.loss[j] = 1.0 / (e + 1) * (j + 1);
              ep.val_loss[j] = 1.2 / (e + 1) * (j + 1);
              ep.metric[j] = ep.val_metric[j] = NAN;
            }
          ep.total = ep.val_total = 3;
          g_assert_true (weft_history_add_epoch (h, &ep));
        }
    }
  return h;
}

static gboolean
count_frames (GtkWidget *w, GdkFrameClock *c, gpointer p)
{
  return ++*(int *) p < 2;
}

static gboolean
flag (gpointer p)
{
  *(gboolean *) p = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_frames (GtkWidget *widget)
{
  int frames = 0;
  gboolean timed_out = FALSE;
  gtk_widget_add_tick_callback (widget, count_frames, &frames, NULL);
  guint id = g_timeout_add (5000, flag, &timed_out);
  while (frames < 2 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

/* Renders the widget as the window would, returns ARGB32 pixels (caller frees). */
static guchar *
render (GtkWidget *widget, int *w, int *h, const char *png)
{
  wait_frames (widget);
  *w = gtk_widget_get_width (widget);
  *h = gtk_widget_get_height (widget);
  GdkPaintable *p = gtk_widget_paintable_new (widget);
  GtkSnapshot *s = gtk_snapshot_new ();
  gdk_paintable_snapshot (p, s, *w, *h);
  GskRenderNode *node = gtk_snapshot_free_to_node (s);
  g_assert_nonnull (node);
  GskRenderer *r = gtk_native_get_renderer (gtk_widget_get_native (widget));
  GdkTexture *tex = gsk_renderer_render_texture (r, node, &GRAPHENE_RECT_INIT (0, 0, *w, *h));
  if (png != NULL)
    g_assert_true (gdk_texture_save_to_png (tex, png));
  guchar *px = g_malloc ((gsize) *w * *h * 4);
  gdk_texture_download (tex, px, *w * 4);
  g_object_unref (tex);
  gsk_render_node_unref (node);
  g_object_unref (p);
  return px;
}

static int
count_color (const guchar *px, int w, int h, int head)
{
  double rgb[3];
  weft_chart_head_color (head, FALSE, rgb);
  int n = 0;
  for (int i = 0; i < w * h; i++)
    {
      guint32 v = ((const guint32 *) px)[i];
      int r = (v >> 16) & 0xff, g = (v >> 8) & 0xff, b = v & 0xff;
      if (abs (r - (int) (rgb[0] * 255)) <= COLOR_TOL && abs (g - (int) (rgb[1] * 255)) <= COLOR_TOL
          && abs (b - (int) (rgb[2] * 255)) <= COLOR_TOL)
        n++;
    }
  return n;
}

typedef struct
{
  GtkWidget     *window;
  WeftLossChart *chart;
  WeftHistory   *history;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->history = make_history (2, 5, 40);
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 640, 360);
  f->chart = WEFT_LOSS_CHART (weft_loss_chart_new ());
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->chart));
  weft_loss_chart_set_history (f->chart, f->history);
  gtk_window_present (GTK_WINDOW (f->window));
  wait_frames (GTK_WIDGET (f->chart));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  weft_history_free (f->history);
}

/* Every head's curve shows in the offscreen render. */
static void
test_renders_curves (Fixture *f, gconstpointer data)
{
  int w, h;
  g_autofree char *png = g_build_filename (g_get_tmp_dir (), "weft-loss-chart-test.png", NULL);
  g_autofree guchar *px = render (GTK_WIDGET (f->chart), &w, &h, png);
  g_assert_cmpint (w, >=, 300);
  for (int j = 0; j < 3; j++)
    {
      int n = count_color (px, w, h, j);
      g_test_message ("head %d: %d pixels of its colour", j, n);
      g_assert_cmpint (n, >, 100);
    }
  /* hiding a head removes its colour */
  weft_loss_chart_set_head_visible (f->chart, 1, FALSE);
  g_autofree guchar *px2 = render (GTK_WIDGET (f->chart), &w, &h, NULL);
  g_assert_cmpint (count_color (px2, w, h, 1), <, 10);
  g_assert_cmpint (count_color (px2, w, h, 0), >, 100);
  g_assert_false (weft_loss_chart_get_head_visible (f->chart, 1));
}

/* Rows appended to the history reach the series via sync, in one items-changed each. */
static void
test_sync_appends (Fixture *f, gconstpointer data)
{
  WeftLossSeries *s = weft_loss_chart_get_series (f->chart, 0, FALSE);
  g_assert_cmpuint (weft_loss_series_get_n_points (s), ==, 200);
  WeftStepReport r = { 0 };
  r.n_heads = 3;
  r.step = 200;
  r.epoch = 5;
  r.loss[0] = r.loss[1] = r.loss[2] = 1;
  r.total = 11.25;
  weft_history_add_step (f->history, &r);
  r.step = 201;
  weft_history_add_step (f->history, &r);
  weft_loss_chart_sync (f->chart);
  g_assert_true (weft_loss_chart_get_series (f->chart, 0, FALSE) == s);
  g_assert_cmpuint (weft_loss_series_get_n_points (s), ==, 202);
  /* a new run rebuilds: the current run is empty, the old one becomes "previous" */
  weft_history_begin_run (f->history);
  r.step = 0;
  weft_history_add_step (f->history, &r);
  weft_loss_chart_sync (f->chart);
  g_assert_cmpuint (weft_loss_series_get_n_points (weft_loss_chart_get_series (f->chart, 0, FALSE)), ==, 1);
}

static void
test_readout_lists_every_series (Fixture *f, gconstpointer data)
{
  g_autofree char *text = weft_loss_chart_dup_readout (f->chart, 39.2);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "step 39\n"));
  g_assert_nonnull (strstr (text, "age: "));
  g_assert_nonnull (strstr (text, "income: "));
  g_assert_nonnull (strstr (text, "gender: "));
  g_assert_nonnull (strstr (text, "total: "));
  g_assert_nonnull (strstr (text, "val income: "));
  weft_loss_chart_set_x_axis (f->chart, WEFT_CHART_X_EPOCH);
  g_autofree char *t2 = weft_loss_chart_dup_readout (f->chart, 2.2);
  g_assert_true (g_str_has_prefix (t2, "epoch 2\n"));
  g_assert_nonnull (strstr (t2, "income: 1\n"));    /* epoch 2: 1/2 * 2 */
}

static void
test_zoom_pan_reset (Fixture *f, gconstpointer data)
{
  double x0, x1, a, b;
  g_assert_true (weft_loss_chart_get_view (f->chart, &x0, &x1));
  g_assert_cmpfloat (x0, ==, 0);
  g_assert_cmpfloat (x1, ==, 199);
  weft_loss_chart_zoom (f->chart, 100, 0.5);
  g_assert_true (weft_loss_chart_get_view (f->chart, &a, &b));
  g_assert_cmpfloat (fabs ((b - a) - 99.5), <, 1e-9);
  g_assert_cmpfloat (a, <=, 100);
  g_assert_cmpfloat (b, >=, 100);
  weft_loss_chart_pan (f->chart, 10);   /* clamped to the data */
  g_assert_true (weft_loss_chart_get_view (f->chart, &a, &b));
  g_assert_cmpfloat (b, ==, 199);
  weft_loss_chart_reset_view (f->chart);
  g_assert_true (weft_loss_chart_get_view (f->chart, &a, &b));
  g_assert_cmpfloat (a, ==, 0);
  g_assert_cmpfloat (b, ==, 199);
  /* smoothing and log scale still draw every head */
  weft_loss_chart_set_smoothing (f->chart, 0.9);
  weft_loss_chart_set_log_scale (f->chart, TRUE);
  int w, h;
  g_autofree guchar *px = render (GTK_WIDGET (f->chart), &w, &h, NULL);
  for (int j = 0; j < 3; j++)
    g_assert_cmpint (count_color (px, w, h, j), >, 50);
}

static void
test_exports (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-chart-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "loss.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "loss.svg", NULL);
  g_autofree char *csv = g_build_filename (dir, "loss.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_loss_chart_save_png (f->chart, png, 400, 250, &error));
  g_assert_no_error (error);
  g_assert_true (weft_loss_chart_save_svg (f->chart, svg, 400, 250, &error));
  g_assert_true (weft_loss_chart_save_csv (f->chart, csv, FALSE, &error));
  g_autoptr(GdkTexture) tex = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (tex), ==, 400);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "<svg"));
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "epoch,loss,age_loss,income_loss,gender_loss"));
  g_assert_false (weft_loss_chart_save_png (f->chart, png, 0, 10, &error));
  g_assert_nonnull (error);
  g_remove (png);
  g_remove (svg);
  g_remove (csv);
  g_rmdir (dir);
}

static void
test_accessible (Fixture *f, gconstpointer data)
{
  gtk_test_accessible_assert_role (GTK_ACCESSIBLE (f->chart), GTK_ACCESSIBLE_ROLE_IMG);
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (f->chart),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, "Loss chart");
}

/* A chart without history draws axes and a hint, never crashes. */
static void
test_empty (void)
{
  GtkWidget *win = gtk_window_new ();
  GtkWidget *chart = weft_loss_chart_new ();
  gtk_window_set_child (GTK_WINDOW (win), chart);
  gtk_window_present (GTK_WINDOW (win));
  wait_frames (chart);
  g_assert_null (weft_loss_chart_dup_readout (WEFT_LOSS_CHART (chart), 3));
  g_assert_false (weft_loss_chart_get_view (WEFT_LOSS_CHART (chart), NULL, NULL));
  weft_loss_chart_zoom (WEFT_LOSS_CHART (chart), 1, 0.5);
  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      printf ("1..0 # SKIP no display\n");
      return 0;
    }
#define ADD(path, fn) g_test_add ("/ui/loss-chart/" path, Fixture, NULL, fixture_setup, fn, \
                                  fixture_teardown)
  ADD ("renders-curves", test_renders_curves);
  ADD ("sync-appends", test_sync_appends);
  ADD ("readout-lists-every-series", test_readout_lists_every_series);
  ADD ("zoom-pan-reset", test_zoom_pan_reset);
  ADD ("exports", test_exports);
  ADD ("accessible", test_accessible);
  g_test_add_func ("/ui/loss-chart/empty", test_empty);
  return g_test_run ();
}
