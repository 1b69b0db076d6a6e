/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-canvas: the editor benchmark of issue 5 (a program, not a timed test). Builds a graph
 * of 1,000 nodes, saves it, then measures in a real window:
 *   open    - weft_document_load + canvas until the first frame is painted (target <= 200 ms)
 *   redraw  - the Cairo painter on a 1280x800 surface, all nodes visible and at 100 %, and the
 *             widget's full GTK path (snapshot + GSK render) (target <= 8 ms)
 *   drag    - a real pointer drag (xdotool): time from each motion event's dispatch to the end
 *             of the frame that shows it (target: under one frame)
 * Run: tests/with-xvfb-dbus.sh BUILD/tests/bench-canvas   (OPENBLAS_CORETYPE=SkylakeX)
 * `bench-canvas --painter-only [fitted|100]` runs the painter figures alone, without a display
 * (for valgrind --tool=callgrind and perf). */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <time.h>

#include "weft-canvas-painter.h"
#include "weft-document.h"
#include "weft-file.h"
#include "weft-graph-canvas.h"

#define N_ROWS      25
#define N_COLUMNS   40
#define N_REPEATS   40
#define WIN_WIDTH   1280
#define WIN_HEIGHT  800

typedef struct
{
  GtkWidget *window;
  GtkWidget *canvas;
  gint64     pending_motion;   /* monotonic time of the first motion not yet painted */
  gint64     pending_cpu;      /* and the UI thread's CPU time then */
  GArray    *cpu_latencies;    /* double, ms of CPU time in the same spans */
  gint64     paint_cpu0;
  GArray    *paint_cpu;        /* double, ms of CPU in the frame clock's paint phase */
  GArray    *latencies;        /* double, ms */
  gboolean   painted;
  gboolean   drag_done;
} Bench;

static double
ms_since (gint64 t0)
{
  return (g_get_monotonic_time () - t0) / 1000.0;
}

/* CPU time of this thread in µs: unlike wall time it does not grow when other processes
 * load the machine, so the redraw figures stay comparable. */
static gint64
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static double
cpu_ms_since (gint64 t0)
{
  return (cpu_now () - t0) / 1000.0;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
stats (GArray *v, double *median, double *p95, double *max)
{
  g_array_sort (v, cmp_double);
  *median = v->len ? g_array_index (v, double, v->len / 2) : NAN;
  *p95 = v->len ? g_array_index (v, double, MIN (v->len - 1, (guint) ceil (v->len * 0.95) - 1)) : NAN;
  *max = v->len ? g_array_index (v, double, v->len - 1) : NAN;
}

/* Input(16) feeding 25 chains of Dense(16) layers, 999 Dense nodes in all, a head at the end
 * of each chain: 1,000 nodes. */
static WeftGraph *
build_graph (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftError error = { 0 };
  WeftId model = weft_graph_add_model (g, "big", &error);
  WeftId input_layer = weft_graph_add_layer (g, "Input", "x", &error);
  WeftValue shape = { 0 }, units = { 0 };
  WeftId input;
  int made = 1;

  weft_graph_set_main_model (g, model);
  shape.n = 1;
  shape.ints[0] = 16;
  weft_graph_layer_set_param (g, input_layer, "shape", &shape, &error);
  input = weft_graph_add_node (g, model, input_layer, &error);
  weft_graph_model_add_input (g, model, input, &error);
  weft_graph_node_set_position (g, input, 0, N_ROWS * 120 / 2.0);
  units.num = 16;
  for (int r = 0; r < N_ROWS; r++)
    {
      WeftId prev = input;
      for (int c = 1; c <= N_COLUMNS && made < 1000; c++, made++)
        {
          WeftId layer = weft_graph_add_layer (g, "Dense", NULL, &error);
          WeftId node = weft_graph_add_node (g, model, layer, &error);
          weft_graph_layer_set_param (g, layer, "units", &units, &error);
          weft_graph_node_set_position (g, node, c * 240.0, r * 120.0);
          if (!weft_graph_connect (g, prev, 0, node, 0, &error))
            g_error ("connect: %s", error.message);
          prev = node;
        }
      {
        WeftHead head = { .node = prev, .port = 0, .loss = WEFT_LOSS_MSE, .weight = 1,
                          .huber_delta = 1 };
        weft_graph_model_add_output (g, model, &head, &error);
      }
    }
  weft_graph_analyse (g);
  return g;
}

static void
before_paint_cb (GdkFrameClock *clock, Bench *b)
{
  b->paint_cpu0 = cpu_now ();
}

static void
after_paint_cb (GdkFrameClock *clock, Bench *b)
{
  b->painted = TRUE;
  if (b->paint_cpu0 != 0 && b->pending_motion != 0)
    {
      double ms = cpu_ms_since (b->paint_cpu0);
      g_array_append_val (b->paint_cpu, ms);
    }
  if (b->pending_motion != 0)
    {
      double ms = ms_since (b->pending_motion), cpu = cpu_ms_since (b->pending_cpu);
      g_array_append_val (b->latencies, ms);
      g_array_append_val (b->cpu_latencies, cpu);
      b->pending_motion = 0;
    }
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, Bench *b)
{
  if (b->pending_motion == 0)
    {
      b->pending_motion = g_get_monotonic_time ();
      b->pending_cpu = cpu_now ();
    }
}

static void
wait_painted (Bench *b)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  b->painted = FALSE;
  gtk_widget_queue_draw (b->canvas);
  while (!b->painted && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  if (!b->painted)
    g_error ("no frame painted");
}

static void
child_done_cb (GPid pid, int status, gpointer data)
{
  Bench *b = data;

  g_spawn_close_pid (pid);
  b->drag_done = TRUE;
}

/* The painter alone on an image surface: the part of a redraw that grows with the graph. */
static void
bench_painter (WeftDocument *doc, const WeftCanvasScene *scene, gboolean fitted, GArray *out)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, WIN_WIDTH, WIN_HEIGHT);
  WeftCanvasPaintOptions o;
  WeftRect bounds;

  weft_canvas_paint_options_init (&o);
  o.width = WIN_WIDTH;
  o.height = WIN_HEIGHT;
  weft_canvas_scene_bounds (scene, &bounds);
  if (fitted)
    weft_canvas_view_fit (&o.view, &bounds, WIN_WIDTH, WIN_HEIGHT, 40);
  else
    {
      o.view.zoom = 1;
      o.view.offset_x = -bounds.x + 20;
      o.view.offset_y = -bounds.y + 20;
    }
  for (int i = 0; i < N_REPEATS; i++)
    {
      gint64 t0 = cpu_now ();
      cairo_t *cr = cairo_create (surface);
      double ms;
      weft_canvas_paint (cr, weft_document_get_graph (doc), weft_document_get_model (doc), scene, &o);
      cairo_destroy (cr);
      cairo_surface_flush (surface);
      ms = cpu_ms_since (t0);
      g_array_append_val (out, ms);
    }
  cairo_surface_destroy (surface);
}

/* The widget's snapshot plus rendering with the window's GSK renderer. The view moves by a
 * pixel every time (as in a pan), so that each snapshot paints the whole canvas again rather
 * than reusing the canvas' still layer. */
static void
bench_widget (Bench *b, const WeftCanvasView *view, GArray *out)
{
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (b->canvas));
  int w = gtk_widget_get_width (b->canvas), h = gtk_widget_get_height (b->canvas);

  for (int i = 0; i < N_REPEATS; i++)
    {
      WeftCanvasView v = *view;
      gint64 t0;
      GtkSnapshot *s;
      GskRenderNode *node;
      GdkTexture *tex;
      double ms;

      v.offset_x += i % 2;
      weft_graph_canvas_set_view (WEFT_GRAPH_CANVAS (b->canvas), &v);
      t0 = cpu_now ();
      s = gtk_snapshot_new ();
      GTK_WIDGET_GET_CLASS (b->canvas)->snapshot (b->canvas, s);
      node = gtk_snapshot_free_to_node (s);
      tex = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
      ms = cpu_ms_since (t0);
      g_array_append_val (out, ms);
      g_object_unref (tex);
      gsk_render_node_unref (node);
    }
  weft_graph_canvas_set_view (WEFT_GRAPH_CANVAS (b->canvas), view);
}

static char *
load_average (void)
{
  static char buf[128];
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return "unknown\n";
  g_strlcpy (buf, text, sizeof buf);
  return buf;
}

static void
report (const char *what, GArray *v, double target)
{
  double median, p95, max;

  stats (v, &median, &p95, &max);
  g_print ("%-58s median %6.2f ms  p95 %6.2f ms  max %6.2f ms  (n=%u)%s\n", what, median, p95,
           max, v->len, target > 0 ? (median <= target ? "  OK" : "  OVER TARGET") : "");
}

static int
painter_only (const char *which)
{
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  WeftGraph *graph = build_graph ();
  g_autoptr (WeftDocument) doc = weft_document_new_for_graph (graph, NULL);
  WeftCanvasScene *scene = weft_canvas_scene_new ();

  weft_canvas_scene_build (scene, weft_document_get_graph (doc), weft_document_get_model (doc),
                           NULL);
  g_print ("machine load average: %s", load_average ());
  if (which == NULL || g_str_equal (which, "fitted"))
    {
      bench_painter (doc, scene, TRUE, times);
      report ("redraw: painter 1280x800, all 1,000 nodes visible", times, 8);
      g_array_set_size (times, 0);
    }
  if (which == NULL || g_str_equal (which, "100"))
    {
      bench_painter (doc, scene, FALSE, times);
      report ("redraw: painter 1280x800, 100 % zoom", times, 8);
    }
  weft_canvas_scene_free (scene);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WeftDocument) doc = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  Bench b = { 0 };
  WeftGraph *graph;
  const WeftCanvasScene *scene;
  gint64 t0;
  double load_ms, open_ms, open_cpu_ms;
  gint64 cpu0;
  int n_nodes;

  if (argc > 1 && g_str_equal (argv[1], "--painter-only"))
    return painter_only (argc > 2 ? argv[2] : NULL);
  if (!gtk_init_check ())
    {
      g_printerr ("bench-canvas needs a display (run it under tests/with-xvfb-dbus.sh)\n");
      return 77;
    }
  b.latencies = g_array_new (FALSE, FALSE, sizeof (double));
  b.cpu_latencies = g_array_new (FALSE, FALSE, sizeof (double));
  b.paint_cpu = g_array_new (FALSE, FALSE, sizeof (double));

  graph = build_graph ();
  n_nodes = weft_graph_model_n_nodes (graph, weft_graph_get_main_model (graph));
  dir = g_dir_make_tmp ("weft-bench-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "big.weft", NULL);
  if (!weft_file_save (graph, NULL, path, &error))
    g_error ("save: %s", error->message);
  weft_graph_free (graph);
  g_print ("graph: %d nodes (1 Input, %d Dense), %d heads, in %s\n", n_nodes, n_nodes - 1,
           N_ROWS, path);

  /* window first, so that the open measures file -> document -> first painted frame */
  b.window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (b.window), "weft-canvas-bench");
  gtk_window_set_default_size (GTK_WINDOW (b.window), WIN_WIDTH, WIN_HEIGHT);
  b.canvas = weft_graph_canvas_new ();
  gtk_window_set_child (GTK_WINDOW (b.window), b.canvas);
  gtk_window_present (GTK_WINDOW (b.window));
  while (gtk_widget_get_width (b.canvas) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_signal_connect (gtk_widget_get_frame_clock (b.canvas), "after-paint",
                    G_CALLBACK (after_paint_cb), &b);
  g_signal_connect (gtk_widget_get_frame_clock (b.canvas), "before-paint",
                    G_CALLBACK (before_paint_cb), &b);
  wait_painted (&b);

  file = g_file_new_for_path (path);
  t0 = g_get_monotonic_time ();
  cpu0 = cpu_now ();
  doc = weft_document_new ();
  if (!weft_document_load (doc, file, &error))
    g_error ("load: %s", error->message);
  load_ms = cpu_ms_since (cpu0);
  weft_graph_canvas_set_document (WEFT_GRAPH_CANVAS (b.canvas), doc);
  wait_painted (&b);
  open_ms = ms_since (t0);
  open_cpu_ms = cpu_ms_since (cpu0);
  g_print ("machine load average: %s", load_average ());
  g_print ("times are CPU time of the UI thread unless marked wall\n");
  g_print ("%-58s %6.2f ms\n", "open: read + parse + analyse (weft_document_load)", load_ms);
  g_print ("%-58s %6.2f ms (wall %.2f ms)%s\n", "open: load + scene + first frame painted",
           open_cpu_ms, open_ms, open_cpu_ms <= 200 ? "  OK" : "  OVER TARGET");

  scene = weft_graph_canvas_get_scene (WEFT_GRAPH_CANVAS (b.canvas));
  bench_painter (doc, scene, TRUE, times);
  report ("redraw: painter 1280x800, all 1,000 nodes visible", times, 8);
  g_array_set_size (times, 0);
  bench_painter (doc, scene, FALSE, times);
  report ("redraw: painter 1280x800, 100 % zoom", times, 8);
  g_array_set_size (times, 0);
  {
    WeftCanvasView opened = *weft_graph_canvas_get_view (WEFT_GRAPH_CANVAS (b.canvas));
    WeftCanvasView full = opened;
    WeftRect bounds;

    g_print ("%-58s %.3f\n", "canvas opened at zoom", opened.zoom);
    bench_widget (&b, &opened, times);
    report ("redraw: widget snapshot + GSK render, as opened", times, 8);
    g_array_set_size (times, 0);
    weft_canvas_scene_bounds (scene, &bounds);
    full.zoom = 1;
    full.offset_x = -bounds.x + 20;
    full.offset_y = -bounds.y + 20;
    bench_widget (&b, &full, times);
    report ("redraw: widget snapshot + GSK render, 100 % zoom", times, 8);
    wait_painted (&b);
  }

  /* drag the node in the middle of the canvas with the real pointer */
  {
    const WeftCanvasView *view = weft_graph_canvas_get_view (WEFT_GRAPH_CANVAS (b.canvas));
    const WeftCanvasNode *target = NULL;
    GtkEventController *motion = gtk_event_controller_motion_new ();
    graphene_point_t in_window;
    WeftPoint centre = { gtk_widget_get_width (b.canvas) / 2.0, gtk_widget_get_height (b.canvas) / 2.0 };
    double best = G_MAXDOUBLE;
    g_autoptr (GString) cmd = g_string_new (NULL);
    g_auto (GStrv) cmd_argv = NULL;
    GPid pid;
    gint64 end;

    for (guint i = 0; i < scene->nodes->len; i++)
      {
        const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
        WeftPoint p = weft_canvas_view_to_screen (view, (WeftPoint) { n->x + n->width / 2,
                                                                      n->y + 12 });
        double d = hypot (p.x - centre.x, p.y - centre.y);
        if (!WEFT_CANVAS_IS_HEAD_ID (n->id) && d < best)
          {
            best = d;
            target = n;
          }
      }
    g_assert_nonnull (target);
    {
      WeftPoint p = weft_canvas_view_to_screen (view, (WeftPoint) { target->x + target->width / 2,
                                                                    target->y + 12 });
      if (!gtk_widget_compute_point (b.canvas, b.window, &GRAPHENE_POINT_INIT (p.x, p.y), &in_window))
        g_error ("no canvas position");
    }
    gtk_event_controller_set_propagation_phase (motion, GTK_PHASE_CAPTURE);
    g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), &b);
    gtk_widget_add_controller (b.window, motion);

    g_string_printf (cmd, "xdotool search --sync --name weft-canvas-bench mousemove --window %%1 %d %d "
                     "sleep 0.2 mousedown 1 sleep 0.1", (int) in_window.x, (int) in_window.y);
    for (int i = 0, x = (int) in_window.x, y = (int) in_window.y; i < 80; i++)
      {
        x += i < 50 ? 4 : -4;   /* out and part of the way back: a net move of 80 px */
        y += i % 2 ? 2 : -2;
        g_string_append_printf (cmd, " mousemove --window %%1 %d %d sleep 0.025", x, y);
      }
    g_string_append (cmd, " sleep 0.1 mouseup 1");
    if (!g_shell_parse_argv (cmd->str, NULL, &cmd_argv, &error)
        || !g_spawn_async (NULL, cmd_argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                           NULL, NULL, &pid, &error))
      {
        g_printerr ("drag: cannot run xdotool: %s\n", error->message);
        return 1;
      }
    g_child_watch_add (pid, child_done_cb, &b);
    end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while (!b.drag_done && g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, TRUE);
    /* let the last frame and the drag end arrive */
    end = g_get_monotonic_time () + 300 * 1000;
    while (g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE);
    if (g_getenv ("BENCH_VERBOSE") != NULL)
      for (guint i = 0; i < b.latencies->len; i++)
        g_print ("  latency %u: %.2f ms (CPU %.2f ms)\n", i, g_array_index (b.latencies, double, i),
                 g_array_index (b.cpu_latencies, double, i));
    report ("drag: CPU of each frame's paint phase (whole window)", b.paint_cpu, 16.7);
    report ("drag: CPU from pointer motion to frame painted", b.cpu_latencies, 16.7);
    report ("drag (wall): pointer motion -> frame painted (frame 16.7)", b.latencies, 16.7);
    g_print ("%-58s %s\n", "drag: recorded as", weft_document_get_undo_name (doc) != NULL
                                                   ? weft_document_get_undo_name (doc) : "(nothing)");
  }

  gtk_window_destroy (GTK_WINDOW (b.window));
  g_unlink (path);
  g_rmdir (dir);
  g_array_unref (b.latencies);
  g_array_unref (b.cpu_latencies);
  g_array_unref (b.paint_cpu);
  return 0;
}
