/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Editor widgets in a real (Xvfb) window: canvas drawing, selection, actions, palette search,
 * inspector controls and their accessible names. Run with GTK_A11Y=test. */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "weft-canvas-painter.h"
#include "weft-graph-canvas.h"
#include "weft-inspector.h"
#include "weft-palette.h"
#include "weft-start-view.h"

static gboolean
count_frames (GtkWidget *w, GdkFrameClock *c, gpointer p)
{
  return ++*(int *) p < 3;
}

static gboolean
flag (gpointer p)
{
  *(gboolean *) p = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_for_frames (GtkWidget *widget)
{
  int frames = 0;
  gboolean timed_out = FALSE;
  guint id;

  gtk_widget_add_tick_callback (widget, count_frames, &frames, NULL);
  id = g_timeout_add (5000, flag, &timed_out);
  while (frames < 3 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static WeftDocument *
sample (WeftId *input, WeftId *dense)
{
  WeftDocument *doc = weft_document_new ();
  WeftValue shape = { 0 };

  *input = weft_document_add_layer (doc, "Input", 0, 0, NULL);
  *dense = weft_document_add_layer (doc, "Dense", 300, 0, NULL);
  shape.n = 1;
  shape.ints[0] = 8;
  weft_document_set_param (doc, weft_graph_node_callee (weft_document_get_graph (doc), *input),
                           "shape", &shape, NULL);
  weft_document_connect (doc, *input, 0, *dense, 0, NULL);
  return doc;
}

static void
test_canvas_draws_and_selects (void)
{
  WeftId input, dense;
  g_autoptr (WeftDocument) doc = sample (&input, &dense);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *canvas = weft_graph_canvas_new ();
  int w, h, differing = 0;
  GdkPaintable *paintable;
  GtkSnapshot *snapshot;
  GskRenderNode *node;
  GdkTexture *texture;
  guchar *pixels;

  gtk_window_set_default_size (GTK_WINDOW (window), 800, 500);
  gtk_window_set_child (GTK_WINDOW (window), canvas);
  weft_graph_canvas_set_document (WEFT_GRAPH_CANVAS (canvas), doc);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_frames (canvas);

  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (canvas), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Graph canvas");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (canvas), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                       "Nothing selected");

  /* the graph is fitted: both boxes are inside the widget */
  w = gtk_widget_get_width (canvas);
  h = gtk_widget_get_height (canvas);
  {
    const WeftCanvasScene *scene = weft_graph_canvas_get_scene (WEFT_GRAPH_CANVAS (canvas));
    const WeftCanvasView *view = weft_graph_canvas_get_view (WEFT_GRAPH_CANVAS (canvas));
    WeftRect b;
    WeftPoint tl, br;
    g_assert_true (weft_canvas_scene_bounds (scene, &b));
    tl = weft_canvas_view_to_screen (view, (WeftPoint) { b.x, b.y });
    br = weft_canvas_view_to_screen (view, (WeftPoint) { b.x + b.width, b.y + b.height });
    g_assert_cmpfloat (tl.x, >=, 0);
    g_assert_cmpfloat (br.x, <=, w);
    g_assert_cmpfloat (br.y, <=, h);
  }

  paintable = gtk_widget_paintable_new (canvas);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (canvas)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  pixels = g_malloc (w * h * 4);
  gdk_texture_download (texture, pixels, w * 4);
  for (int i = 0; i < w * h; i++)
    if (((guint32 *) pixels)[i] != ((guint32 *) pixels)[0])
      differing++;
  g_assert_cmpint (differing, >, w * h / 50);   /* boxes, text and wires were drawn */
  if (g_getenv ("WEFT_TEST_ARTEFACTS") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("WEFT_TEST_ARTEFACTS"), "canvas.png", NULL);
      gdk_texture_save_to_png (texture, path);
    }
  g_free (pixels);
  g_object_unref (texture);
  gsk_render_node_unref (node);
  g_object_unref (paintable);

  /* selection drives the accessible description and the actions */
  g_assert_false (gtk_widget_activate_action (canvas, "graph.call-again", NULL) && FALSE);
  weft_graph_canvas_select (WEFT_GRAPH_CANVAS (canvas), &dense, 1);
  g_assert_cmpint (weft_graph_canvas_get_focus_node (WEFT_GRAPH_CANVAS (canvas)), ==, dense);
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (canvas), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                       "Selected dense (Dense), output (None, 32)");
  g_assert_true (gtk_widget_activate_action (canvas, "graph.call-again", NULL));
  g_assert_cmpint (weft_graph_callee_n_nodes (weft_document_get_graph (doc),
                                              weft_graph_node_callee (weft_document_get_graph (doc), dense)), ==, 2);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Call dense again");
  /* the new node is selected; delete it */
  g_assert_true (gtk_widget_activate_action (canvas, "graph.delete", NULL));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Delete 1 node");
  g_assert_cmpuint (weft_graph_canvas_get_selection (WEFT_GRAPH_CANVAS (canvas))->len, ==, 0);
  /* an Input cannot be called again: the action is disabled */
  weft_graph_canvas_select (WEFT_GRAPH_CANVAS (canvas), &input, 1);
  gtk_widget_activate_action (canvas, "graph.call-again", NULL);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Delete 1 node");
  /* duplicate and group through the actions */
  weft_graph_canvas_select (WEFT_GRAPH_CANVAS (canvas), &dense, 1);
  g_assert_true (gtk_widget_activate_action (canvas, "graph.duplicate", NULL));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Duplicate 1 node");
  weft_graph_canvas_select (WEFT_GRAPH_CANVAS (canvas), &dense, 1);
  g_assert_true (gtk_widget_activate_action (canvas, "graph.group", NULL));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Group into model");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_palette_search_and_names (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *palette = weft_palette_new ();
  guint all;
  GtkWidget *search;

  gtk_window_set_child (GTK_WINDOW (window), palette);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_frames (palette);
  all = weft_palette_n_visible (WEFT_PALETTE (palette));
  g_assert_cmpuint (all, ==, (guint) weft_op_count () + 1);   /* every layer + the head */
  weft_palette_focus_search (WEFT_PALETTE (palette));
  search = gtk_root_get_focus (GTK_ROOT (window));
  while (search != NULL && !GTK_IS_SEARCH_ENTRY (search))
    search = gtk_widget_get_parent (search);
  g_assert_nonnull (search);
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (search), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Search layers");
  gtk_editable_set_text (GTK_EDITABLE (search), "dense");
  g_assert_cmpuint (weft_palette_n_visible (WEFT_PALETTE (palette)), ==, 1);
  gtk_editable_set_text (GTK_EDITABLE (search), "pool");
  g_assert_cmpuint (weft_palette_n_visible (WEFT_PALETTE (palette)), >=, 4);
  gtk_editable_set_text (GTK_EDITABLE (search), "zzz");
  g_assert_cmpuint (weft_palette_n_visible (WEFT_PALETTE (palette)), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* every focusable control below `w` carries an accessible label */
static int
count_unlabelled (GtkWidget *w, int *controls)
{
  int missing = 0;

  if (GTK_IS_SPIN_BUTTON (w) || GTK_IS_SWITCH (w) || GTK_IS_DROP_DOWN (w) || GTK_IS_ENTRY (w))
    {
      (*controls)++;
      if (gtk_widget_get_tooltip_text (w) == NULL && !GTK_IS_ENTRY (w))
        missing++;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    missing += count_unlabelled (c, controls);
  return missing;
}

static void
test_inspector_generated_from_registry (void)
{
  WeftId input, dense;
  g_autoptr (WeftDocument) doc = sample (&input, &dense);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *inspector = weft_inspector_new ();
  const WeftOpDesc *op = weft_op_lookup ("Dense");
  int controls = 0;

  gtk_window_set_child (GTK_WINDOW (window), inspector);
  weft_inspector_set_document (WEFT_INSPECTOR (inspector), doc);
  weft_inspector_show (WEFT_INSPECTOR (inspector), dense);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_frames (inspector);
  g_assert_cmpint (count_unlabelled (inspector, &controls), ==, 0);
  /* name entry + one control per parameter + trainable */
  g_assert_cmpint (controls, ==, op->n_params + 2);

  weft_document_add_head (doc, dense, 0, NULL);
  weft_inspector_show (WEFT_INSPECTOR (inspector), WEFT_CANVAS_HEAD_ID (0));
  controls = 0;
  g_assert_cmpint (count_unlabelled (inspector, &controls), ==, 0);
  g_assert_cmpint (controls, ==, 4);   /* loss, loss_weight, from_logits, metric */
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
spin_until (gboolean (*done) (gpointer), gpointer data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (5000, flag, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

static gboolean
has_three_nodes (gpointer data)
{
  WeftDocument *doc = data;
  return weft_graph_model_n_nodes (weft_document_get_graph (doc), weft_document_get_model (doc)) == 3;
}

/* The canvas says which node is selected and what is wrong with it; Right/Left select the
 * next/previous node; copy and paste go through the system clipboard as .weft JSON. */
static void
test_canvas_keyboard_errors_and_clipboard (void)
{
  g_autoptr (WeftDocument) doc = weft_document_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *canvas = weft_graph_canvas_new ();
  WeftGraph *g;
  WeftId input, dense;
  const WeftDiagnostic *diag;
  g_autofree char *expected = NULL;
  const GArray *sel;

  input = weft_document_add_layer (doc, "Input", 0, 0, NULL);
  dense = weft_document_add_layer (doc, "Dense", 300, 0, NULL);   /* not wired: an error */
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 500);
  gtk_window_set_child (GTK_WINDOW (window), canvas);
  weft_graph_canvas_set_document (WEFT_GRAPH_CANVAS (canvas), doc);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_frames (canvas);

  /* reading order: the Input (left) first, then the Dense */
  g_assert_true (gtk_widget_activate_action (canvas, "graph.select-next", NULL));
  sel = weft_graph_canvas_get_selection (WEFT_GRAPH_CANVAS (canvas));
  g_assert_cmpint (sel->len, ==, 1);
  g_assert_cmpint (g_array_index (sel, WeftId, 0), ==, input);
  g_assert_true (gtk_widget_activate_action (canvas, "graph.select-next", NULL));
  g_assert_cmpint (g_array_index (sel, WeftId, 0), ==, dense);

  g = weft_document_get_graph (doc);
  diag = weft_graph_node_diagnostic (g, dense);
  g_assert_nonnull (diag);
  expected = g_strdup_printf ("Selected dense (Dense), output ?. Error: %s", diag->message);
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (canvas), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                       expected);
  g_assert_true (gtk_widget_activate_action (canvas, "graph.select-previous", NULL));
  g_assert_cmpint (g_array_index (sel, WeftId, 0), ==, input);

  /* copy the Dense, check the clipboard holds a .weft document, paste it back */
  weft_graph_canvas_select (WEFT_GRAPH_CANVAS (canvas), &dense, 1);
  g_assert_true (gtk_widget_activate_action (canvas, "graph.copy", NULL));
  g_assert_true (gdk_content_formats_contain_mime_type (
                   gdk_clipboard_get_formats (gtk_widget_get_clipboard (canvas)), "application/x-weft"));
  g_assert_true (gtk_widget_activate_action (canvas, "graph.paste", NULL));
  g_assert_true (spin_until (has_three_nodes, doc));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Paste 1 node");
  sel = weft_graph_canvas_get_selection (WEFT_GRAPH_CANVAS (canvas));
  g_assert_cmpint (sel->len, ==, 1);
  g_assert_cmpstr (weft_graph_layer_op (weft_document_get_graph (doc),
                                        weft_graph_node_callee (weft_document_get_graph (doc),
                                                                g_array_index (sel, WeftId, 0)))->name,
                   ==, "Dense");

  gtk_window_destroy (GTK_WINDOW (window));
}

/* Without the app's resources the gallery is empty but the view still works: recent files
 * that exist are listed, missing ones left out, each row named for screen readers. */
static void
test_start_view_recent_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-start-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "mine.weft", NULL);
  g_autofree char *missing = g_build_filename (dir, "gone.weft", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  g_autofree char *missing_uri = g_filename_to_uri (missing, NULL, NULL);
  const char *uris[] = { missing_uri, uri, NULL };
  GtkWidget *view = g_object_ref_sink (weft_start_view_new ());
  GtkWidget *list, *row;
  int rows = 0;

  g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
  weft_start_view_set_recent (WEFT_START_VIEW (view), uris);
  /* find the list of recent files: the only GtkListBox in the view */
  list = NULL;
  for (GtkWidget *w = gtk_widget_get_first_child (view); w != NULL;)
    {
      if (GTK_IS_LIST_BOX (w))
        {
          list = w;
          break;
        }
      if (gtk_widget_get_first_child (w) != NULL)
        w = gtk_widget_get_first_child (w);
      else
        {
          while (w != NULL && gtk_widget_get_next_sibling (w) == NULL)
            w = gtk_widget_get_parent (w);
          w = w != NULL ? gtk_widget_get_next_sibling (w) : NULL;
        }
    }
  g_assert_nonnull (list);
  g_assert_true (gtk_widget_get_visible (list));
  for (row = gtk_widget_get_first_child (list); row != NULL; row = gtk_widget_get_next_sibling (row))
    rows++;
  g_assert_cmpint (rows, ==, 1);
  {
    g_autofree char *label = g_strdup_printf ("Open mine.weft in %s", dir);
    gtk_test_accessible_assert_property (GTK_ACCESSIBLE (gtk_widget_get_first_child (list)),
                                         GTK_ACCESSIBLE_PROPERTY_LABEL, label);
  }
  g_unlink (path);
  g_rmdir (dir);
  g_assert_finalize_object (view);
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
  g_test_add_func ("/ui/widgets/canvas/draws-selects-and-acts", test_canvas_draws_and_selects);
  g_test_add_func ("/ui/widgets/palette/search-and-names", test_palette_search_and_names);
  g_test_add_func ("/ui/widgets/inspector/generated-from-registry", test_inspector_generated_from_registry);
  g_test_add_func ("/ui/widgets/canvas/keyboard-errors-and-clipboard",
                   test_canvas_keyboard_errors_and_clipboard);
  g_test_add_func ("/ui/widgets/start-view/recent-files", test_start_view_recent_files);
  return g_test_run ();
}
