/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Benchmark (built, not run as a test): the longest main-loop gap while the dashboard trains
 * the three-heads example (BENCH_EXAMPLE=social-media: the social-media model) in a window,
 * and the loss chart's redraw time at 1,000,000 points per curve. Needs a display (run under
 * Xvfb: tests/with-xvfb-dbus.sh). Targets from issue 6: gap <= 50 ms, redraw <= 8 ms.
 * Usage: bench-ui-dashboard [SAMPLES] [EPOCHS] (default 16384 samples, 60 epochs);
 * BENCH_ONLY=chart|training runs one half; BENCH_VERBOSE=1 names long gaps, frames whose paint
 * takes over BENCH_PAINT_MS (15) ms, and frames in which the chart's size changed (it is then
 * drawn anew with all around it). Like the app (app/main.c) it keeps the heap between frames
 * (weft-heap.c); BENCH_KEEP_HEAP=0 measures without that. Under valgrind --tool=callgrind
 * --collect-atstart=no, BENCH_CALLGRIND=1 writes one profile per frame's paint phase. */
#define _GNU_SOURCE   /* RUSAGE_THREAD */
#include "config.h"

#include "weft-dashboard.h"
#include "weft-heap.h"

#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif

#define GAP_PROBE_MS   1
#define DRAW_REPEATS   30
#define CHART_POINTS   1000000

typedef struct
{
  gint64   last;
  gint64   max_gap;
  int      finished;
  guint64  frames;
  gint64   last_frame;
  gint64   t0;
  gint64   max_gap_at;
  gint64   last_cpu;
  gint64   max_gap_cpu;    /* main-thread CPU time spent within the longest gap */
  gint64   max_cpu_gap;    /* longest main-thread CPU time between two probes */
  gint64   max_frame_gap;
  gint64   report_start_cpu;
  gint64   max_report_cpu;  /* longest main-thread CPU time of one report's handling */
  gint64   sum_report_cpu;
  guint64  reports;
  gint64   phase_start_cpu;
  gint64   layout_cpu;      /* CPU of the current frame's layout phase */
  gint64   max_layout_cpu;
  gint64   max_paint_cpu;   /* snapshot + render + present of one frame */
  GArray  *gaps;            /* double ms: every gap between two probes */
  GArray  *paints;          /* double ms: main-thread CPU of every frame's paint phase */
  GtkWidget *chart;         /* BENCH_VERBOSE: size changes reported */
  gint64   verbose_paint_us; /* BENCH_VERBOSE: paints over this are named (BENCH_PAINT_MS, 15) */
  int      chart_w, chart_h, chart_y;
  long     frame_minflt;    /* main thread's page faults and involuntary switches at the */
  long     frame_nivcsw;    /* frame's start (named with slow frames) */
  gboolean callgrind;       /* BENCH_CALLGRIND=1: collect only paint phases, one dump each */
  gboolean collecting;
} Probe;

static gint64
thread_cpu_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
probe_cb (gpointer data)
{
  Probe *p = data;
  gint64 now = g_get_monotonic_time ();
  gint64 cpu = thread_cpu_us ();
  if (p->last > 0 && cpu - p->last_cpu > p->max_cpu_gap)
    p->max_cpu_gap = cpu - p->last_cpu;
  if (p->last > 0 && now - p->last > p->max_gap)
    {
      p->max_gap = now - p->last;
      p->max_gap_at = p->last - p->t0;
      p->max_gap_cpu = cpu - p->last_cpu;
    }
  if (g_strcmp0 (g_getenv ("BENCH_VERBOSE"), "1") == 0 && p->last > 0 && now - p->last > 20000)
    g_printerr ("gap of %.1f ms (main thread busy %.1f ms of it) starting %.1f ms after "
                "Train\n", (now - p->last) / 1000.0, (cpu - p->last_cpu) / 1000.0,
                (p->last - p->t0) / 1000.0);
  if (p->last > 0 && p->gaps != NULL)
    {
      double ms = (now - p->last) / 1000.0;
      g_array_append_val (p->gaps, ms);
    }
  p->last_cpu = cpu;
  p->last = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
tick_cb (GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
  Probe *p = data;
  gint64 now = g_get_monotonic_time ();
  if (p->last_frame > 0 && now - p->last_frame > p->max_frame_gap)
    p->max_frame_gap = now - p->last_frame;
  p->last_frame = now;
  p->frames++;
  gtk_widget_queue_draw (w);   /* keep frames coming so their gaps measure the loop */
  return G_SOURCE_CONTINUE;
}

/* Emission hooks run before every handler of "progress", an after-handler after all of
 * them: the difference is what the dashboard does with one delivered batch of reports. */
static gboolean
report_begin_hook (GSignalInvocationHint *hint, guint n, const GValue *values, gpointer data)
{
  Probe *p = data;
  p->report_start_cpu = thread_cpu_us ();
  return TRUE;
}

static void
report_end_cb (WeftTrainingSession *s, Probe *p)
{
  gint64 used = thread_cpu_us () - p->report_start_cpu;
  p->max_report_cpu = MAX (p->max_report_cpu, used);
  p->sum_report_cpu += used;
  if (p->reports == 0 && g_strcmp0 (g_getenv ("BENCH_VERBOSE"), "1") == 0)
    g_printerr ("first report (frame %" G_GUINT64_FORMAT "), %.1f ms after Train\n", p->frames,
                (g_get_monotonic_time () - p->t0) / 1000.0);
  p->reports++;
}

/* Frame phases: layout (measure/allocate) and paint (snapshot, render, present). */
static void
thread_usage (long *minflt, long *nivcsw)
{
  struct rusage u;
  getrusage (RUSAGE_THREAD, &u);
  *minflt = u.ru_minflt;
  *nivcsw = u.ru_nivcsw;
}

static void
before_layout_cb (GdkFrameClock *clock, Probe *p)
{
  p->phase_start_cpu = thread_cpu_us ();
  thread_usage (&p->frame_minflt, &p->frame_nivcsw);
}

static void
before_paint_cb (GdkFrameClock *clock, Probe *p)
{
  gint64 now = thread_cpu_us ();
  p->max_layout_cpu = MAX (p->max_layout_cpu, now - p->phase_start_cpu);
  p->phase_start_cpu = now;
#ifdef HAVE_CALLGRIND
  if (p->callgrind && !p->collecting)
    {
      CALLGRIND_TOGGLE_COLLECT;
      p->collecting = TRUE;
    }
#endif
}

static void
after_paint_cb (GdkFrameClock *clock, Probe *p)
{
  gint64 used = thread_cpu_us () - p->phase_start_cpu;
#ifdef HAVE_CALLGRIND
  if (p->callgrind)
    {
      /* one profile per frame's paint phase: callgrind.out.PID.N, N = frame + 1 */
      g_autofree char *what = g_strdup_printf ("paint of frame %" G_GUINT64_FORMAT " (%.1f ms "
                                               "after Train)", p->frames,
                                               (g_get_monotonic_time () - p->t0) / 1000.0);
      if (p->collecting)
        CALLGRIND_TOGGLE_COLLECT;
      p->collecting = FALSE;
      CALLGRIND_DUMP_STATS_AT (what);
    }
#endif
  p->max_paint_cpu = MAX (p->max_paint_cpu, used);
  if (g_strcmp0 (g_getenv ("BENCH_VERBOSE"), "1") == 0 && used > p->verbose_paint_us)
    {
      long minflt, nivcsw;
      thread_usage (&minflt, &nivcsw);
      g_printerr ("frame %" G_GUINT64_FORMAT ": paint %.1f ms CPU, %.1f ms after Train (ends at "
                  "%.6f s CLOCK_MONOTONIC); main thread in the frame: %ld page faults, %ld "
                  "preemptions\n", p->frames, used / 1000.0,
                  (g_get_monotonic_time () - p->t0) / 1000.0, g_get_monotonic_time () / 1e6,
                  minflt - p->frame_minflt, nivcsw - p->frame_nivcsw);
    }
  if (g_strcmp0 (g_getenv ("BENCH_VERBOSE"), "1") == 0 && p->chart != NULL)
    {
      /* a chart whose size changes is drawn anew, and so is everything around it */
      int w = gtk_widget_get_width (p->chart), h = gtk_widget_get_height (p->chart);
      graphene_point_t at = GRAPHENE_POINT_INIT (0, 0);
      if (!gtk_widget_compute_point (p->chart, GTK_WIDGET (gtk_widget_get_root (p->chart)),
                                     &GRAPHENE_POINT_INIT (0, 0), &at))
        at.y = 0;
      if (w != p->chart_w || h != p->chart_h || (int) at.y != p->chart_y)
        g_printerr ("frame %" G_GUINT64_FORMAT ": chart %dx%d at y %d -> %dx%d at y %d, paint "
                    "%.1f ms CPU\n", p->frames, p->chart_w, p->chart_h, p->chart_y, w, h,
                    (int) at.y, used / 1000.0);
      p->chart_w = w;
      p->chart_h = h;
      p->chart_y = (int) at.y;
    }
  if (p->paints != NULL)
    {
      double ms = used / 1000.0;
      g_array_append_val (p->paints, ms);
    }
}

static void
finished_cb (WeftTrainingSession *s, const char *text, Probe *p)
{
  if (text != NULL)
    g_printerr ("training ended: %s\n", text);
  p->finished = 1;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v, sorted in place; NaN when empty. */
static double
quantile (GArray *v, double q)
{
  if (v->len == 0)
    return NAN;
  g_array_sort (v, cmp_double);
  return g_array_index (v, double, MIN (v->len - 1, (guint) (q * v->len)));
}

static double
median (double *v, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j] < v[j - 1]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return v[n / 2];
}

static void
bench_training (int samples, int epochs)
{
  /* BENCH_EXAMPLE=social-media trains the lesson's social-media model instead */
  const char *example = g_getenv ("BENCH_EXAMPLE") != NULL ? g_getenv ("BENCH_EXAMPLE")
                                                            : "three-heads";
  g_autofree char *name = g_strdup_printf ("%s.weft", example);
  g_autofree char *path = g_build_filename (WEFT_SOURCE_DIR, "resources", "examples", name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(WeftDocument) doc = weft_document_new ();
  g_autoptr(GError) error = NULL;
  if (!weft_document_load (doc, file, &error))
    g_error ("%s: %s", path, error->message);
  GtkWidget *win = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 800);
  WeftDashboard *dash = WEFT_DASHBOARD (weft_dashboard_new ());
  gtk_window_set_child (GTK_WINDOW (win), GTK_WIDGET (dash));
  weft_dashboard_set_document (dash, doc);
  WeftTrainConfig c;
  weft_dashboard_get_config (dash, &c);
  c.epochs = epochs;
  weft_dashboard_set_config (dash, &c);
  Probe p = { 0 };
  WeftTrainingSession *session = weft_dashboard_get_session (dash);
  g_signal_connect (session, "finished", G_CALLBACK (finished_cb), &p);
  guint progress_id = g_signal_lookup ("progress", WEFT_TYPE_TRAINING_SESSION);
  gulong hook = g_signal_add_emission_hook (progress_id, 0, report_begin_hook, &p, NULL);
  g_signal_connect_after (session, "progress", G_CALLBACK (report_end_cb), &p);
  gtk_window_present (GTK_WINDOW (win));
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);

  weft_dashboard_set_samples (dash, samples);
  p.gaps = g_array_new (FALSE, FALSE, sizeof (double));
  p.paints = g_array_new (FALSE, FALSE, sizeof (double));
  /* above every GTK source: it runs as soon as the loop gets back to polling */
  guint probe = g_timeout_add_full (G_PRIORITY_HIGH, GAP_PROBE_MS, probe_cb, &p, NULL);
  gtk_widget_add_tick_callback (GTK_WIDGET (weft_dashboard_get_chart (dash)), tick_cb, &p, NULL);
  p.chart = GTK_WIDGET (weft_dashboard_get_chart (dash));
  p.verbose_paint_us = (g_getenv ("BENCH_PAINT_MS") != NULL ? atof (g_getenv ("BENCH_PAINT_MS"))
                                                            : 15) * 1000;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (win);
  /* phases: before-paint, update, layout, paint, after-paint; GTK's own handlers were
   * connected first, so an after-handler of "layout" runs when layout is done */
  g_signal_connect (clock, "before-paint", G_CALLBACK (before_layout_cb), &p);
  g_signal_connect_after (clock, "layout", G_CALLBACK (before_paint_cb), &p);
  g_signal_connect_after (clock, "after-paint", G_CALLBACK (after_paint_cb), &p);
  /* baseline: one second of forced frames with nothing training */
  gint64 idle_end = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < idle_end)
    g_main_context_iteration (NULL, TRUE);
  printf ("before training (1 s of frames, window idle): gap p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
          "paint phase p50 %.1f ms, max %.1f ms CPU (%u frames)\n", quantile (p.gaps, 0.5),
          quantile (p.gaps, 0.99), quantile (p.gaps, 1), quantile (p.paints, 0.5),
          quantile (p.paints, 1), p.paints->len);
  g_array_set_size (p.gaps, 0);
  g_array_set_size (p.paints, 0);
  p.max_gap = p.max_cpu_gap = p.max_frame_gap = p.max_paint_cpu = p.max_layout_cpu = 0;
  p.frames = 0;
  p.last = p.last_frame = 0;

  /* BENCH_RUNS=N trains N times in the same window: the runs after the first show what is a
   * first-use cost of the process (shader compilation, glyphs) and what each run pays */
  int runs = g_getenv ("BENCH_RUNS") != NULL ? MAX (1, atoi (g_getenv ("BENCH_RUNS"))) : 1;
  for (int run = 0; run < runs; run++)
    {
      if (run > 0)
        {
          g_array_set_size (p.gaps, 0);
          g_array_set_size (p.paints, 0);
          p.max_gap = p.max_cpu_gap = p.max_frame_gap = p.max_paint_cpu = p.max_layout_cpu = 0;
          p.max_report_cpu = p.sum_report_cpu = 0;
          p.frames = p.reports = 0;
          p.last = p.last_frame = 0;
          p.finished = 0;
        }
      gint64 t0 = g_get_monotonic_time ();
      p.t0 = t0;
#ifdef HAVE_CALLGRIND
      /* under valgrind --tool=callgrind --collect-atstart=no: one profile per frame's paint */
      p.callgrind = RUNNING_ON_VALGRIND && g_strcmp0 (g_getenv ("BENCH_CALLGRIND"), "1") == 0;
#endif
      weft_dashboard_train (dash);
      while (!p.finished)
        g_main_context_iteration (NULL, TRUE);
      double secs = (g_get_monotonic_time () - t0) / 1e6;
      WeftHistory *h = weft_dashboard_get_history (dash);
      printf ("%straining the %s example in the dashboard: %d samples, %d epochs, %zu steps in "
              "%.2f s, %" G_GUINT64_FORMAT " frames\n", run > 0 ? "again: " : "", example, samples,
              epochs, weft_history_n_steps (h), secs, p.frames);
      printf ("longest main-loop gap: %.1f ms wall, %.0f ms after Train, main thread busy %.1f ms "
              "of it (target <= 50 ms); longest main-thread work between two loop iterations: "
              "%.1f ms CPU; longest gap between frames: %.1f ms\n", p.max_gap / 1000.0,
              p.max_gap_at / 1000.0, p.max_gap_cpu / 1000.0, p.max_cpu_gap / 1000.0,
              p.max_frame_gap / 1000.0);
      printf ("dashboard handling of a delivered batch of reports: %" G_GUINT64_FORMAT " batches, "
              "longest %.2f ms CPU, mean %.3f ms CPU (renderer: %s, heap kept: %s)\n", p.reports,
              p.max_report_cpu / 1000.0, p.reports > 0 ? p.sum_report_cpu / 1000.0 / p.reports : 0.0,
              g_getenv ("GSK_RENDERER") != NULL ? g_getenv ("GSK_RENDERER") : "default",
              g_strcmp0 (g_getenv ("BENCH_KEEP_HEAP"), "0") != 0 ? "yes" : "no");
      printf ("longest frame phases (main-thread CPU): update + layout %.1f ms, paint (snapshot, render, "
              "present) %.1f ms\n", p.max_layout_cpu / 1000.0, p.max_paint_cpu / 1000.0);
      printf ("while training: gap p50 %.1f ms, p99 %.1f ms, max %.1f ms; paint phase p50 %.1f ms CPU\n",
              quantile (p.gaps, 0.5), quantile (p.gaps, 0.99), quantile (p.gaps, 1),
              quantile (p.paints, 0.5));
    }
  g_source_remove (probe);
  g_array_unref (p.gaps);
  g_array_unref (p.paints);
  g_signal_handlers_disconnect_by_data (clock, &p);
  g_signal_remove_emission_hook (progress_id, hook);
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
bench_chart (void)
{
  const char *names[3] = { "age", "income", "gender" };
  float weights[3] = { 0.25f, 1, 10 };
  WeftHistory *h = weft_history_new (3, names, weights, NULL);
  GRand *r = g_rand_new_with_seed (1);
  for (int i = 0; i < CHART_POINTS; i++)
    {
      WeftStepReport s = { 0 };
      s.n_heads = 3;
      s.step = i;
      s.epoch = i / 1000;
      s.batch = i % 1000;
      s.n_batches = 1000;
      s.loss[0] = 100.0 / (1 + i * 1e-4) * (1 + 0.3 * g_rand_double (r));
      s.loss[1] = 2.3 / (1 + i * 1e-5) * (1 + 0.3 * g_rand_double (r));
      s.loss[2] = 0.7 / (1 + i * 1e-5) * (1 + 0.3 * g_rand_double (r));
      s.metric[0] = s.metric[1] = s.metric[2] = NAN;
      s.total = 0.25 * s.loss[0] + s.loss[1] + 10 * s.loss[2];
      weft_history_add_step (h, &s);
    }
  g_rand_free (r);
  GtkWidget *win = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (win), 900, 450);
  WeftLossChart *chart = WEFT_LOSS_CHART (weft_loss_chart_new ());
  gtk_window_set_child (GTK_WINDOW (win), GTK_WIDGET (chart));
  gint64 t0 = g_get_monotonic_time ();
  weft_loss_chart_set_history (chart, h);
  printf ("chart: %d points x 4 curves loaded in %.1f ms\n", CHART_POINTS,
          (g_get_monotonic_time () - t0) / 1000.0);
  gtk_window_present (GTK_WINDOW (win));
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 900, 450);
  for (int smooth = 0; smooth < 2; smooth++)
    {
      weft_loss_chart_set_smoothing (chart, smooth ? 0.9 : 0);
      if (g_getenv ("BENCH_PNG") != NULL)   /* BENCH_PNG=PREFIX: look at what is timed */
        {
          g_autofree char *png = g_strdup_printf ("%s-%d.png", g_getenv ("BENCH_PNG"), smooth);
          weft_loss_chart_save_png (chart, png, 900, 450, NULL);
        }
      double t[DRAW_REPEATS], c[DRAW_REPEATS];
      for (int i = 0; i < DRAW_REPEATS; i++)
        {
          cairo_t *cr = cairo_create (surface);
          gint64 a = g_get_monotonic_time (), ac = thread_cpu_us ();
          weft_loss_chart_draw (chart, cr, 900, 450);
          cairo_destroy (cr);
          cairo_surface_flush (surface);
          t[i] = (g_get_monotonic_time () - a) / 1000.0;
          c[i] = (thread_cpu_us () - ac) / 1000.0;
        }
      printf ("chart redraw at %d points per curve (4 curves%s, 900x450): median %.2f ms CPU, "
              "%.2f ms wall (target <= 8 ms)\n", CHART_POINTS, smooth ? ", smoothed + raw" : "",
              median (c, DRAW_REPEATS), median (t, DRAW_REPEATS));
    }
  /* zoomed in to a tenth */
  weft_loss_chart_set_smoothing (chart, 0);
  weft_loss_chart_zoom (chart, CHART_POINTS / 2.0, 0.1);
  double t[DRAW_REPEATS], c[DRAW_REPEATS];
  for (int i = 0; i < DRAW_REPEATS; i++)
    {
      cairo_t *cr = cairo_create (surface);
      gint64 a = g_get_monotonic_time (), ac = thread_cpu_us ();
      weft_loss_chart_draw (chart, cr, 900, 450);
      cairo_destroy (cr);
      t[i] = (g_get_monotonic_time () - a) / 1000.0;
      c[i] = (thread_cpu_us () - ac) / 1000.0;
    }
  printf ("chart redraw zoomed to 100,000 points: median %.2f ms CPU, %.2f ms wall\n",
          median (c, DRAW_REPEATS), median (t, DRAW_REPEATS));

  /* a new view every time (panning): nothing of the last decimation can be reused */
  for (int i = 0; i < DRAW_REPEATS; i++)
    {
      weft_loss_chart_pan (chart, i % 2 ? -0.01 : 0.01);
      cairo_t *cr = cairo_create (surface);
      gint64 a = g_get_monotonic_time (), ac = thread_cpu_us ();
      weft_loss_chart_draw (chart, cr, 900, 450);
      cairo_destroy (cr);
      t[i] = (g_get_monotonic_time () - a) / 1000.0;
      c[i] = (thread_cpu_us () - ac) / 1000.0;
    }
  printf ("chart redraw zoomed to 100,000 points, panned before each draw: median %.2f ms CPU, "
          "%.2f ms wall\n", median (c, DRAW_REPEATS), median (t, DRAW_REPEATS));

  /* live: 100 steps arrive before each frame, smoothing on, whole run shown */
  weft_loss_chart_reset_view (chart);
  weft_loss_chart_set_smoothing (chart, 0.9);
  weft_loss_chart_set_x_axis (chart, WEFT_CHART_X_STEP);
  GRand *r2 = g_rand_new_with_seed (2);
  int step = CHART_POINTS;
  for (int i = 0; i < DRAW_REPEATS; i++)
    {
      gint64 a = g_get_monotonic_time (), ac = thread_cpu_us ();
      for (int k = 0; k < 100; k++, step++)
        {
          WeftStepReport s = { 0 };
          s.n_heads = 3;
          s.step = step;
          s.epoch = step / 1000;
          s.batch = step % 1000;
          s.n_batches = 1000;
          for (int j = 0; j < 3; j++)
            s.loss[j] = 0.5 * (1 + 0.3 * g_rand_double (r2));
          s.metric[0] = s.metric[1] = s.metric[2] = NAN;
          s.total = 0.25 * s.loss[0] + s.loss[1] + 10 * s.loss[2];
          weft_history_add_step (h, &s);
        }
      weft_loss_chart_sync (chart);
      cairo_t *cr = cairo_create (surface);
      weft_loss_chart_draw (chart, cr, 900, 450);
      cairo_destroy (cr);
      t[i] = (g_get_monotonic_time () - a) / 1000.0;
      c[i] = (thread_cpu_us () - ac) / 1000.0;
    }
  g_rand_free (r2);
  printf ("chart sync + redraw with 100 new steps per frame at 1,000,000+ points (smoothed + raw): "
          "median %.2f ms CPU, %.2f ms wall\n", median (c, DRAW_REPEATS),
          median (t, DRAW_REPEATS));
  cairo_surface_destroy (surface);
  gtk_window_destroy (GTK_WINDOW (win));
  weft_history_free (h);
}

int
main (int argc, char **argv)
{
  /* long enough (a few seconds) for the gap to be measured over hundreds of frames */
  int samples = argc > 1 ? atoi (argv[1]) : 16384;
  int epochs = argc > 2 ? atoi (argv[2]) : 60;
  if (!gtk_init_check ())
    {
      g_printerr ("bench-ui-dashboard: no display (run it under tests/with-xvfb-dbus.sh)\n");
      return 77;
    }
  /* as app/main.c does before it opens a window */
  if (g_strcmp0 (g_getenv ("BENCH_KEEP_HEAP"), "0") != 0)
    weft_heap_keep_for_frames ();
  /* BENCH_ONLY=chart or BENCH_ONLY=training runs one half (for profilers) */
  const char *only = g_getenv ("BENCH_ONLY");
  if (only == NULL || strcmp (only, "chart") == 0)
    bench_chart ();
  if (only == NULL || strcmp (only, "training") == 0)
    bench_training (samples, epochs);
  return 0;
}
