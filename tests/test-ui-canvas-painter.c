/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plain-Cairo canvas painter and the headless export. No display needed. */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "weft-canvas-painter.h"
#include "weft-document.h"

/* Input(8) -> Dense(32) -> head, plus a second call of the Dense layer */
static WeftDocument *
sample (WeftId *input, WeftId *dense, WeftId *again)
{
  WeftDocument *doc = weft_document_new ();
  WeftValue shape = { 0 };

  *input = weft_document_add_layer (doc, "Input", 0, 0, NULL);
  *dense = weft_document_add_layer (doc, "Dense", 300, 0, NULL);
  shape.n = 1;
  shape.ints[0] = 8;
  g_assert_true (weft_document_set_param (doc, weft_graph_node_callee (weft_document_get_graph (doc), *input),
                                          "shape", &shape, NULL));
  g_assert_true (weft_document_connect (doc, *input, 0, *dense, 0, NULL));
  g_assert_true (weft_document_add_head (doc, *dense, 0, NULL));
  *again = weft_document_call_again (doc, *dense, 300, 200, NULL);
  return doc;
}

static void
test_scene_build (void)
{
  WeftId input, dense, again;
  WeftDocument *doc = sample (&input, &dense, &again);
  WeftCanvasScene *scene = weft_canvas_scene_new ();
  WeftCanvasNode *n;

  weft_canvas_scene_build (scene, weft_document_get_graph (doc), weft_document_get_model (doc), NULL);
  g_assert_cmpuint (scene->nodes->len, ==, 4);   /* 3 nodes + 1 head */
  g_assert_cmpuint (scene->wires->len, ==, 2);   /* input->dense, dense->head */
  n = weft_canvas_scene_lookup (scene, input);
  g_assert_cmpint (n->n_inputs, ==, 0);
  g_assert_cmpint (n->n_outputs, ==, 1);
  n = weft_canvas_scene_lookup (scene, dense);
  g_assert_cmpint (n->n_inputs, ==, 1);
  g_assert_cmpfloat (n->x, ==, 300);
  /* Dense shows units and activation: two key lines */
  g_assert_cmpfloat (n->height, ==, weft_canvas_node_height (2));
  n = weft_canvas_scene_lookup (scene, WEFT_CANVAS_HEAD_ID (0));
  g_assert_nonnull (n);
  g_assert_cmpfloat (n->x, >, 300 + WEFT_CANVAS_NODE_WIDTH);
  g_assert_cmpint (n->n_inputs, ==, 1);
  g_assert_cmpint (n->n_outputs, ==, 0);
  weft_canvas_scene_free (scene);
  g_assert_finalize_object (doc);
}

static void
test_scene_build_lays_out_imported_graph (void)
{
  WeftId input, dense, again;
  WeftDocument *doc = sample (&input, &dense, &again);
  WeftGraph *g = weft_document_get_graph (doc);
  WeftCanvasScene *scene = weft_canvas_scene_new ();

  weft_graph_node_set_position (g, input, 0, 0);
  weft_graph_node_set_position (g, dense, 0, 0);
  weft_graph_node_set_position (g, again, 0, 0);
  weft_canvas_scene_build (scene, g, weft_document_get_model (doc), NULL);
  g_assert_cmpfloat (weft_canvas_scene_lookup (scene, dense)->x, >,
                     weft_canvas_scene_lookup (scene, input)->x);
  weft_canvas_scene_free (scene);
  g_assert_finalize_object (doc);
}

static void
test_format (void)
{
  g_autofree char *a = weft_canvas_format_count (0);
  g_autofree char *b = weft_canvas_format_count (1234567);
  g_autofree char *c = weft_canvas_format_count (-999);
  g_autofree char *d = weft_canvas_format_count (100000);
  const WeftOpDesc *dense = weft_op_lookup ("Dense");
  int units = weft_op_param_index (dense, "units");
  int activation = weft_op_param_index (dense, "activation");
  WeftValue cfg[32];
  g_autofree char *u = NULL, *act = NULL;

  g_assert_cmpstr (a, ==, "0");
  g_assert_cmpstr (b, ==, "1,234,567");
  g_assert_cmpstr (c, ==, "-999");
  g_assert_cmpstr (d, ==, "100,000");
  weft_op_defaults (dense, cfg);
  u = weft_canvas_format_value (&dense->params[units], &cfg[units]);
  act = weft_canvas_format_value (&dense->params[activation], &cfg[activation]);
  g_assert_cmpstr (u, ==, "32");
  g_assert_cmpstr (act, ==, "linear");
}

static guint32
pixel (cairo_surface_t *s, int x, int y)
{
  return *(guint32 *) (cairo_image_surface_get_data (s) + y * cairo_image_surface_get_stride (s) + x * 4);
}

static void
test_paint_draws_nodes_and_selection (void)
{
  WeftId input, dense, again;
  WeftDocument *doc = sample (&input, &dense, &again);
  WeftCanvasScene *scene = weft_canvas_scene_new ();
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  cairo_t *cr = cairo_create (s);
  WeftCanvasPaintOptions o;
  guint32 bg, body, border_plain, border_selected;

  weft_canvas_scene_build (scene, weft_document_get_graph (doc), weft_document_get_model (doc), NULL);
  weft_canvas_paint_options_init (&o);
  o.view.offset_x = 20;
  o.view.offset_y = 20;
  o.width = 800;
  o.height = 500;
  o.grid = FALSE;
  o.font = "DejaVu Sans";
  weft_canvas_paint (cr, weft_document_get_graph (doc), weft_document_get_model (doc), scene, &o);
  cairo_surface_flush (s);
  bg = pixel (s, 5, 5);
  body = pixel (s, 20 + 300 + 100, 20 + (int) WEFT_CANVAS_HEADER_HEIGHT + 30);
  border_plain = pixel (s, 20 + 300 + 90, 20);
  g_assert_cmpuint (bg, !=, 0);
  g_assert_cmpuint (body, !=, bg);
  g_assert_cmpuint (border_plain, !=, bg);

  weft_canvas_scene_lookup (scene, dense)->selected = TRUE;
  weft_canvas_paint (cr, weft_document_get_graph (doc), weft_document_get_model (doc), scene, &o);
  cairo_surface_flush (s);
  border_selected = pixel (s, 20 + 300 + 90, 20);
  g_assert_cmpuint (border_selected, !=, border_plain);

  if (g_getenv ("WEFT_TEST_ARTEFACTS") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("WEFT_TEST_ARTEFACTS"), "painter.png", NULL);
      cairo_surface_write_to_png (s, path);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  weft_canvas_scene_free (scene);
  g_assert_finalize_object (doc);
}

static void
test_export_formats (void)
{
  WeftId input, dense, again;
  WeftDocument *doc = sample (&input, &dense, &again);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("weft-export-XXXXXX", NULL);
  const char *formats[] = { "png", "svg", "pdf" };
  const char *magic[] = { "\x89PNG", "<?xml", "%PDF" };

  for (int i = 0; i < 3; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/graph.%s", dir, formats[i]);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (weft_canvas_export (weft_document_get_graph (doc), path, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpuint (len, >, 500);
      g_assert_true (memcmp (data, magic[i], strlen (magic[i])) == 0);
      g_unlink (path);
    }
  {
    g_autofree char *path = g_strdup_printf ("%s/graph.bmp", dir);
    g_assert_false (weft_canvas_export (weft_document_get_graph (doc), path, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  g_assert_false (weft_canvas_export (weft_document_get_graph (doc), "/nonexistent-dir/x.png",
                                      "png", &error));
  g_assert_nonnull (error);
  g_rmdir (dir);
  g_assert_finalize_object (doc);
}

/* Counts are grouped as the locale says: German writes 1.234.567. The German locale is
 * compiled into a temporary folder when the system has the sources but not the locale. */
static void
test_format_count_follows_locale (void)
{
  g_autofree char *dir = NULL, *out = NULL, *count = NULL;
  char *old = g_strdup (setlocale (LC_NUMERIC, NULL));

  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") == NULL)
    {
      g_autofree char *localedef = g_find_program_in_path ("localedef");
      if (localedef == NULL || !g_file_test ("/usr/share/i18n/locales/de_DE", G_FILE_TEST_EXISTS))
        {
          g_test_skip ("no German locale and no localedef to make one");
          g_free (old);
          return;
        }
      dir = g_dir_make_tmp ("weft-locale-XXXXXX", NULL);
      out = g_build_filename (dir, "de_DE.UTF-8", NULL);
      {
        const char *argv[] = { localedef, "-i", "de_DE", "-f", "UTF-8", out, NULL };
        int status = 0;
        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL
                                     | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                                     &status, NULL));
      }
      g_setenv ("LOCPATH", dir, TRUE);
      g_assert_nonnull (setlocale (LC_NUMERIC, "de_DE.UTF-8"));
    }
  count = weft_canvas_format_count (1234567);
  g_assert_cmpstr (count, ==, "1.234.567");
  setlocale (LC_NUMERIC, old);
  g_free (old);
  if (dir != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
      g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
    }
}

/* Pixels darker than the light theme's borders: only text is that dark. */
static int
count_dark (cairo_surface_t *s)
{
  int w = cairo_image_surface_get_width (s), h = cairo_image_surface_get_height (s), n = 0;

  cairo_surface_flush (s);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 p = pixel (s, x, y);
        int lum = (((p >> 16) & 0xff) + ((p >> 8) & 0xff) + (p & 0xff)) / 3;
        if (lum < 70)
          n++;
      }
  return n;
}

/* Far away (less than WEFT_CANVAS_DETAIL_ZOOM device pixels per unit) nodes are plain boxes
 * without text; from there on they carry their text, whatever mix of view zoom and context
 * scale gives the size. */
/* A drag paints the still layer once and the moving one per frame: the still layer leaves the
 * moving box out, the moving layer holds only it (and its wires) on transparency, and the
 * two together look like the whole where nothing overlaps. */
static void
test_paint_layers (void)
{
  WeftId input, dense, again;
  WeftDocument *doc = sample (&input, &dense, &again);
  WeftGraph *g = weft_document_get_graph (doc);
  WeftCanvasScene *scene = weft_canvas_scene_new ();
  cairo_surface_t *all = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  cairo_surface_t *still = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  cairo_surface_t *moving = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  WeftCanvasPaintOptions o;
  WeftCanvasNode *n;
  WeftRect bounds;
  cairo_t *cr;
  int body_x = 20 + 300 + 100, body_y = 20 + (int) WEFT_CANVAS_HEADER_HEIGHT + 30;
  int input_x = 20 + 100, input_y = 20 + 20;

  weft_canvas_scene_build (scene, g, weft_document_get_model (doc), NULL);
  g_assert_false (weft_canvas_moving_bounds (scene, &bounds));
  n = weft_canvas_scene_lookup (scene, dense);
  n->moving = TRUE;
  g_assert_true (weft_canvas_moving_bounds (scene, &bounds));
  /* the box and its wires: from the input's output port to the head right of it */
  g_assert_cmpfloat (bounds.x, <=, WEFT_CANVAS_NODE_WIDTH);
  g_assert_cmpfloat (bounds.x + bounds.width, >=,
                     weft_canvas_scene_lookup (scene, WEFT_CANVAS_HEAD_ID (0))->x);
  g_assert_cmpfloat (bounds.y, <=, n->y);
  g_assert_cmpfloat (bounds.y + bounds.height, >=, n->y + n->height);

  weft_canvas_paint_options_init (&o);
  o.view.offset_x = 20;
  o.view.offset_y = 20;
  o.width = 800;
  o.height = 500;
  o.grid = FALSE;
  o.font = "DejaVu Sans";
  cr = cairo_create (all);
  weft_canvas_paint (cr, g, weft_document_get_model (doc), scene, &o);
  cairo_destroy (cr);
  o.layer = WEFT_CANVAS_LAYER_STILL;
  cr = cairo_create (still);
  weft_canvas_paint (cr, g, weft_document_get_model (doc), scene, &o);
  cairo_destroy (cr);
  o.layer = WEFT_CANVAS_LAYER_MOVING;
  cr = cairo_create (moving);
  weft_canvas_paint (cr, g, weft_document_get_model (doc), scene, &o);
  cairo_destroy (cr);
  cairo_surface_flush (all);
  cairo_surface_flush (still);
  cairo_surface_flush (moving);

  /* still: background where the moving box is, the input box as in the whole */
  g_assert_cmpuint (pixel (still, body_x, body_y), ==, pixel (still, 5, 5));
  g_assert_cmpuint (pixel (still, input_x, input_y), ==, pixel (all, input_x, input_y));
  g_assert_cmpuint (pixel (still, input_x, input_y), !=, pixel (still, 5, 5));
  /* moving: the box opaque, nothing else (no background) */
  g_assert_cmpuint (pixel (moving, body_x, body_y) >> 24, ==, 0xff);
  g_assert_cmpuint (pixel (moving, body_x, body_y), ==, pixel (all, body_x, body_y));
  g_assert_cmpuint (pixel (moving, 5, 5), ==, 0);
  g_assert_cmpuint (pixel (moving, input_x, input_y), ==, 0);

  /* together */
  cr = cairo_create (still);
  cairo_set_source_surface (cr, moving, 0, 0);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_flush (still);
  g_assert_cmpuint (pixel (still, body_x, body_y), ==, pixel (all, body_x, body_y));
  g_assert_cmpuint (pixel (still, 20 + 300 + 90, 20), ==, pixel (all, 20 + 300 + 90, 20));

  cairo_surface_destroy (all);
  cairo_surface_destroy (still);
  cairo_surface_destroy (moving);
  weft_canvas_scene_free (scene);
  g_assert_finalize_object (doc);
}

static void
test_paint_level_of_detail (void)
{
  WeftId input, dense, again;
  g_autoptr (WeftDocument) doc = sample (&input, &dense, &again);
  WeftCanvasScene *scene = weft_canvas_scene_new ();
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  WeftCanvasPaintOptions o;
  const double zooms[] = { 0.3, 0.5 };
  int dark[2];

  weft_canvas_scene_build (scene, weft_document_get_graph (doc), weft_document_get_model (doc), NULL);
  for (int i = 0; i < 2; i++)
    {
      cairo_t *cr = cairo_create (s);
      weft_canvas_paint_options_init (&o);
      o.view.zoom = zooms[i];
      o.width = 800;
      o.height = 500;
      o.grid = FALSE;
      o.font = "DejaVu Sans";
      weft_canvas_paint (cr, weft_document_get_graph (doc), weft_document_get_model (doc), scene, &o);
      cairo_destroy (cr);
      dark[i] = count_dark (s);
    }
  g_assert_cmpint (dark[0], ==, 0);
  g_assert_cmpint (dark[1], >, 50);

  /* the same 0.5 reached through the context (a thumbnail) is detailed too */
  {
    cairo_t *cr = cairo_create (s);
    weft_canvas_paint_options_init (&o);
    o.width = 800;
    o.height = 500;
    o.grid = FALSE;
    o.font = "DejaVu Sans";
    cairo_scale (cr, 0.5, 0.5);
    weft_canvas_paint (cr, weft_document_get_graph (doc), weft_document_get_model (doc), scene, &o);
    cairo_destroy (cr);
    g_assert_cmpint (count_dark (s), >, 50);
  }
  cairo_surface_destroy (s);
  weft_canvas_scene_free (scene);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/canvas-painter/scene/nodes-wires-and-heads", test_scene_build);
  g_test_add_func ("/ui/canvas-painter/scene/lays-out-imported-graph", test_scene_build_lays_out_imported_graph);
  g_test_add_func ("/ui/canvas-painter/format/counts-and-values", test_format);
  g_test_add_func ("/ui/canvas-painter/format/count-follows-locale", test_format_count_follows_locale);
  g_test_add_func ("/ui/canvas-painter/paint/draws-nodes-and-selection", test_paint_draws_nodes_and_selection);
  g_test_add_func ("/ui/canvas-painter/paint/level-of-detail", test_paint_level_of_detail);
  g_test_add_func ("/ui/canvas-painter/paint/still-and-moving-layers", test_paint_layers);
  g_test_add_func ("/ui/canvas-painter/export/png-svg-pdf-and-errors", test_export_formats);
  return g_test_run ();
}
