/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-canvas-painter"

#include "config.h"

#include "weft-canvas-painter.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#define CORNER        8.0
#define PAD           10.0
#define HEAD_GAP      80.0
#define EXPORT_MARGIN 24.0
#define THUMB_MARGIN 8.0

typedef struct { double r, g, b; } Rgb;

/* Named palette (GNOME HIG colours) for the palette groups and the families. */
static const struct { const char *category; Rgb colour; } category_colours[] = {
  { "Inputs",         { 0.18, 0.76, 0.49 } },  /* green 3 */
  { "Core",           { 0.21, 0.52, 0.89 } },  /* blue 3 */
  { "Convolution",    { 0.57, 0.25, 0.67 } },  /* purple 3 */
  { "Pooling",        { 0.75, 0.38, 0.80 } },  /* purple 2 */
  { "Recurrent",      { 0.90, 0.38, 0.00 } },  /* orange 5 */
  { "Normalisation",  { 0.90, 0.65, 0.04 } },  /* yellow 5 */
  { "Merge",          { 0.15, 0.64, 0.41 } },  /* green 5 */
  { "Reshaping",      { 0.53, 0.37, 0.24 } },  /* brown 3 */
  { "Regularisation", { 0.47, 0.46, 0.48 } },  /* dark 1 */
  { "Activation",     { 0.11, 0.44, 0.85 } },  /* blue 4 */
  { "Heads",          { 0.88, 0.11, 0.14 } },  /* red 3 */
  { "Models",         { 0.38, 0.21, 0.51 } },  /* purple 5 */
};

static const Rgb family_colours[] = {
  { 0.90, 0.38, 0.00 }, { 0.57, 0.25, 0.67 }, { 0.15, 0.64, 0.41 },
  { 0.11, 0.44, 0.85 }, { 0.75, 0.11, 0.16 }, { 0.53, 0.37, 0.24 },
};

static const Rgb accent = { 0.21, 0.52, 0.89 };
static const Rgb error_red = { 0.88, 0.11, 0.14 };
static const Rgb ok_green = { 0.18, 0.76, 0.49 };

typedef struct
{
  Rgb    background, grid, body, border, text, dim, wire, label_bg;
} Theme;

static const Theme light_theme = {
  { 0.98, 0.98, 0.98 }, { 0.80, 0.80, 0.80 }, { 1, 1, 1 }, { 0.75, 0.75, 0.74 },
  { 0.14, 0.12, 0.19 }, { 0.40, 0.40, 0.42 }, { 0.55, 0.55, 0.58 }, { 0.93, 0.93, 0.93 },
};

static const Theme dark_theme = {
  { 0.14, 0.14, 0.14 }, { 0.26, 0.26, 0.26 }, { 0.22, 0.22, 0.22 }, { 0.33, 0.33, 0.33 },
  { 1, 1, 1 }, { 0.72, 0.72, 0.72 }, { 0.55, 0.55, 0.58 }, { 0.19, 0.19, 0.19 },
};

static Rgb
category_colour (const char *category)
{
  for (gsize i = 0; i < G_N_ELEMENTS (category_colours); i++)
    if (g_strcmp0 (category, category_colours[i].category) == 0)
      return category_colours[i].colour;
  return (Rgb) { 0.47, 0.46, 0.48 };
}

static void
set_rgb (cairo_t *cr, Rgb c, double alpha)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
}

/* ---- text ---- */

char *
weft_canvas_format_count (gint64 count)
{
  GString *s = g_string_new (NULL);
  char digits[32];
  int n, lead;
  const struct lconv *lc = localeconv ();
  /* the locale's grouping ("1.234" in German); the C locale has none, so keep Keras' comma */
  const char *sep = lc->thousands_sep != NULL && lc->thousands_sep[0] != '\0' ? lc->thousands_sep
                                                                            : ",";

  g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, ABS (count));
  n = strlen (digits);
  lead = n % 3 == 0 ? 3 : n % 3;
  if (count < 0)
    g_string_append_c (s, '-');
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && (i - lead) % 3 == 0)
        g_string_append (s, sep);
      g_string_append_c (s, digits[i]);
    }
  return g_string_free (s, FALSE);
}

char *
weft_canvas_format_value (const WeftParamSpec *spec, const WeftValue *value)
{
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if ((spec->flags & WEFT_PARAM_NULLABLE) && value->num == 0)
        return g_strdup ("None");
      return g_strdup_printf ("%d", (int) value->num);
    case WEFT_PARAM_FLOAT:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup (g_ascii_formatd (buf, sizeof buf, "%g", value->num));
      }
    case WEFT_PARAM_BOOL:
      return g_strdup (value->num != 0 ? "true" : "false");
    case WEFT_PARAM_CHOICE:
      {
        int n = 0;
        while (spec->choices != NULL && spec->choices[n] != NULL)
          n++;
        if (value->num >= 0 && value->num < n)
          return g_strdup (spec->choices[(int) value->num]);
        return g_strdup ("?");
      }
    case WEFT_PARAM_INTS:
      {
        GString *s = g_string_new ("(");
        for (int i = 0; i < value->n && i < WEFT_MAX_RANK; i++)
          g_string_append_printf (s, i > 0 ? ", %d" : "%d", value->ints[i]);
        if (value->n == 1)
          g_string_append_c (s, ',');
        g_string_append_c (s, ')');
        return g_string_free (s, FALSE);
      }
    }
  return g_strdup ("?");
}

static int
n_key_params (const WeftOpDesc *op)
{
  int n = 0;

  for (int i = 0; op != NULL && i < op->n_params; i++)
    if (op->params[i].flags & WEFT_PARAM_KEY)
      n++;
  return n;
}

/* ---- scene ---- */

static int
drawn_inputs (WeftGraph *graph, WeftId node)
{
  WeftId callee = weft_graph_node_callee (graph, node);
  int wired = weft_graph_node_n_inputs (graph, node);

  if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL)
    return weft_graph_model_n_inputs (graph, callee);
  else
    {
      const WeftOpDesc *op = weft_graph_layer_op (graph, callee);
      if (op == NULL)
        return wired;
      if (op->max_inputs == WEFT_VARIADIC)
        return MAX (wired + 1, op->min_inputs);
      return MAX (op->max_inputs, wired);
    }
}

static double
node_height (WeftGraph *graph, WeftId node)
{
  WeftId callee = weft_graph_node_callee (graph, node);

  if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL)
    return weft_canvas_node_height (1);
  return weft_canvas_node_height (n_key_params (weft_graph_layer_op (graph, callee)));
}

void
weft_canvas_scene_build (WeftCanvasScene *scene, WeftGraph *graph, WeftId model,
                         const GArray *head_positions)
{
  int n_nodes, n_heads;
  gboolean all_same = TRUE;
  double x0 = 0, y0 = 0;

  g_return_if_fail (scene != NULL && graph != NULL);
  weft_canvas_scene_clear (scene);
  if (weft_graph_kind (graph, model) != WEFT_KIND_MODEL)
    return;

  n_nodes = weft_graph_model_n_nodes (graph, model);
  for (int i = 0; i < n_nodes; i++)
    {
      WeftId node = weft_graph_model_node_at (graph, model, i);
      double x, y;
      weft_graph_node_get_position (graph, node, &x, &y);
      if (i == 0)
        x0 = x, y0 = y;
      else if (x != x0 || y != y0)
        all_same = FALSE;
      weft_canvas_scene_add_node (scene, node, x, y, WEFT_CANVAS_NODE_WIDTH,
                                  node_height (graph, node), drawn_inputs (graph, node),
                                  weft_graph_node_n_outputs (graph, node));
    }
  for (int i = 0; i < n_nodes; i++)
    {
      WeftId node = weft_graph_model_node_at (graph, model, i);
      int n_in = weft_graph_node_n_inputs (graph, node);
      for (int port = 0; port < n_in; port++)
        {
          WeftId src;
          int src_port;
          if (weft_graph_node_input (graph, node, port, &src, &src_port))
            weft_canvas_scene_add_wire (scene, src, src_port, node, port);
        }
    }
  if (n_nodes > 1 && all_same)
    weft_canvas_scene_layout (scene, x0, y0);

  n_heads = weft_graph_model_n_outputs (graph, model);
  for (int i = 0; i < n_heads; i++)
    {
      const WeftHead *head = weft_graph_model_output (graph, model, i);
      const WeftCanvasNode *src = weft_canvas_scene_lookup (scene, head->node);
      double x = 0, y = 0;
      const WeftPoint *pos = NULL;

      if (head_positions != NULL && (guint) i < head_positions->len)
        pos = &g_array_index (head_positions, WeftPoint, i);
      if (pos != NULL && !isnan (pos->x) && !isnan (pos->y))
        x = pos->x, y = pos->y;
      else if (src != NULL)
        {
          int earlier = 0;
          /* stack heads reading the same node */
          for (int j = 0; j < i; j++)
            if (weft_graph_model_output (graph, model, j)->node == head->node)
              earlier++;
          x = weft_canvas_snap (src->x + src->width + HEAD_GAP);
          y = weft_canvas_snap (src->y + earlier * (weft_canvas_node_height (2) + 20));
        }
      weft_canvas_scene_add_node (scene, WEFT_CANVAS_HEAD_ID (i), x, y, WEFT_CANVAS_NODE_WIDTH,
                                  weft_canvas_node_height (2), 1, 0);
      weft_canvas_scene_add_wire (scene, head->node, head->port, WEFT_CANVAS_HEAD_ID (i), 0);
    }
}

/* ---- painting ---- */

void
weft_canvas_paint_options_init (WeftCanvasPaintOptions *options)
{
  memset (options, 0, sizeof *options);
  weft_canvas_view_init (&options->view);
  options->grid = TRUE;
  options->hover_node = WEFT_ID_NONE;
}

/* Text layouts are cached across paints, keyed by their text and style: shaping text was most
 * of a redraw at 100 %. All layouts share one PangoContext, updated from each paint's cairo_t;
 * when its transform or font options change, Pango re-lays the cached layouts out lazily
 * (translation alone, as in panning and dragging, changes nothing). The cache is dropped
 * whole when it grows past LAYOUT_CACHE_MAX entries. Painting holds paint_lock, so that a
 * thumbnail painted off the main thread never shares a layout with the canvas. */
#define LAYOUT_CACHE_MAX 4096

G_LOCK_DEFINE_STATIC (paint_lock);
static PangoContext *paint_context;
static GHashTable   *layout_cache;   /* key string -> PangoLayout */

static void
layouts_prepare (cairo_t *cr)
{
  if (paint_context == NULL)
    {
      cairo_font_options_t *fo = cairo_font_options_create ();
      paint_context = pango_font_map_create_context (pango_cairo_font_map_get_default ());
      /* hinting off: text must scale smoothly with the zoom */
      cairo_font_options_set_hint_metrics (fo, CAIRO_HINT_METRICS_OFF);
      cairo_font_options_set_hint_style (fo, CAIRO_HINT_STYLE_NONE);
      pango_cairo_context_set_font_options (paint_context, fo);
      cairo_font_options_destroy (fo);
      layout_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
    }
  pango_cairo_update_context (cr, paint_context);
  if (g_hash_table_size (layout_cache) > LAYOUT_CACHE_MAX)
    g_hash_table_remove_all (layout_cache);
}

/* Borrowed from the cache: text in `family` at `size` graph units, ellipsized at `width`
 * (<= 0: no limit) and aligned in it. */
static PangoLayout *
get_layout (const char *family, const char *text, double size, gboolean bold, double width,
            PangoAlignment align)
{
  char stack_key[256];
  g_autofree char *heap_key = NULL;
  const char *key;
  PangoLayout *layout;
  PangoFontDescription *desc;

  if (width <= 0)
    align = PANGO_ALIGN_LEFT;
  if (g_snprintf (stack_key, sizeof stack_key, "%s\x1f%g\x1f%d\x1f%g\x1f%d\x1f%s",
                  family != NULL ? family : "Sans", size, bold, MAX (width, 0), align, text)
      < (int) sizeof stack_key)
    key = stack_key;
  else
    key = heap_key = g_strdup_printf ("%s\x1f%g\x1f%d\x1f%g\x1f%d\x1f%s",
                                      family != NULL ? family : "Sans", size, bold,
                                      MAX (width, 0), align, text);
  layout = g_hash_table_lookup (layout_cache, key);
  if (layout != NULL)
    return layout;

  layout = pango_layout_new (paint_context);
  desc = pango_font_description_new ();
  pango_font_description_set_family (desc, family != NULL ? family : "Sans");
  pango_font_description_set_absolute_size (desc, size * PANGO_SCALE);
  pango_font_description_set_weight (desc, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  if (width > 0)
    {
      pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_set_alignment (layout, align);
    }
  pango_layout_set_text (layout, text, -1);
  g_hash_table_insert (layout_cache, heap_key != NULL ? g_steal_pointer (&heap_key)
                                                      : g_strdup (key), layout);
  return layout;
}

static void
draw_text (cairo_t *cr, const WeftCanvasPaintOptions *o, const char *text, double x, double y,
           double size, gboolean bold, double width, PangoAlignment align)
{
  PangoLayout *layout = get_layout (o->font, text, size, bold, width, align);

  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

static void
text_size (cairo_t *cr, const WeftCanvasPaintOptions *o, const char *text, double size,
           gboolean bold, double *w, double *h)
{
  PangoLayout *layout = get_layout (o->font, text, size, bold, -1, PANGO_ALIGN_LEFT);
  int pw, ph;

  pango_layout_get_size (layout, &pw, &ph);
  *w = (double) pw / PANGO_SCALE;
  *h = (double) ph / PANGO_SCALE;
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* The top `h` of a rounded rectangle `w` wide: rounded top corners, square bottom. */
static void
header_path (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_move_to (cr, x, y + h);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_line_to (cr, x + w, y + h);
  cairo_close_path (cr);
}

/* The left `sw` (< r) of a rounded rectangle `h` high: the column cut by the corner arcs. */
static void
stripe_path (cairo_t *cr, double x, double y, double sw, double h, double r)
{
  double a = acos ((r - sw) / r);

  cairo_new_sub_path (cr);
  cairo_arc_negative (cr, x + r, y + r, r, G_PI + a, G_PI);
  cairo_arc_negative (cr, x + r, y + h - r, r, G_PI, G_PI - a);
  cairo_close_path (cr);
}

/* What stroking rounded_rect (x, y, w, h, r) with a line `lw` wide covers, as two sub-paths
 * to fill with the even-odd rule (cheaper than the stroker). */
static void
ring_path (cairo_t *cr, double x, double y, double w, double h, double r, double lw)
{
  double d = lw / 2;

  cairo_new_path (cr);
  rounded_rect (cr, x - d, y - d, w + lw, h + lw, r + d);
  rounded_rect (cr, x + d, y + d, w - lw, h - lw, MAX (r - d, 0.01));
}

static void
draw_grid (cairo_t *cr, const Theme *t, const WeftCanvasPaintOptions *o)
{
  double step = WEFT_CANVAS_GRID * o->view.zoom;
  double x, y, r;

  while (step < 12)
    step *= 4;
  r = MAX (0.8, MIN (1.4, o->view.zoom));
  set_rgb (cr, t->grid, 1);
  for (x = fmod (o->view.offset_x, step); x < o->width; x += step)
    for (y = fmod (o->view.offset_y, step); y < o->height; y += step)
      {
        cairo_rectangle (cr, floor (x) - r / 2 + 0.5, floor (y) - r / 2 + 0.5, r, r);
      }
  cairo_fill (cr);
}

static void
shape_label (WeftGraph *graph, WeftId node, int port, char *buf, gsize len)
{
  WeftShape shape;

  if (weft_graph_node_shape (graph, node, port, &shape))
    weft_shape_format (&shape, buf, len);
  else
    g_strlcpy (buf, "?", len);
}

static void
draw_wire (cairo_t *cr, const Theme *t, const WeftCanvasPaintOptions *o, WeftGraph *graph,
           const WeftCanvasScene *scene, const WeftCanvasWire *wire)
{
  WeftPoint c[4], mid;
  char label[96];
  double tw, th;
  gboolean to_head = WEFT_CANVAS_IS_HEAD_ID (wire->dst);

  if (!weft_canvas_scene_wire_cubic (scene, wire, c))
    return;
  cairo_move_to (cr, c[0].x, c[0].y);
  cairo_curve_to (cr, c[1].x, c[1].y, c[2].x, c[2].y, c[3].x, c[3].y);
  if (wire->selected)
    {
      set_rgb (cr, accent, 0.35);
      cairo_set_line_width (cr, 7);
      cairo_stroke_preserve (cr);
      set_rgb (cr, accent, 1);
    }
  else
    set_rgb (cr, to_head ? error_red : t->wire, to_head ? 0.7 : 1);
  cairo_set_line_width (cr, 2);
  if (to_head)
    {
      double dash[] = { 6, 4 };
      cairo_set_dash (cr, dash, 2, 0);
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (to_head)
    return;
  shape_label (graph, wire->src, wire->src_port, label, sizeof label);
  mid = weft_canvas_cubic_point (c, 0.5);
  text_size (cr, o, label, 9, FALSE, &tw, &th);
  rounded_rect (cr, mid.x - tw / 2 - 5, mid.y - th / 2 - 1, tw + 10, th + 2, (th + 2) / 2);
  set_rgb (cr, t->label_bg, 0.95);
  cairo_fill_preserve (cr);
  set_rgb (cr, wire->selected ? accent : t->border, 1);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  set_rgb (cr, t->dim, 1);
  draw_text (cr, o, label, mid.x - tw / 2, mid.y - th / 2, 9, FALSE, -1, PANGO_ALIGN_LEFT);
}

static void
draw_port (cairo_t *cr, const Theme *t, const WeftCanvasPaintOptions *o, WeftPoint p,
           Rgb colour, WeftId node, int port, gboolean is_input)
{
  WeftCanvasPortState state = WEFT_CANVAS_PORT_NORMAL;
  double r = WEFT_CANVAS_PORT_RADIUS - 1;

  if (o->port_state != NULL)
    state = o->port_state (node, port, is_input, o->port_state_data);
  /* text leaves a current point behind; an arc would draw a line from it */
  cairo_new_path (cr);
  switch (state)
    {
    case WEFT_CANVAS_PORT_TARGET:
      r += 3;
      /* fall through */
    case WEFT_CANVAS_PORT_COMPATIBLE:
      cairo_arc (cr, p.x, p.y, r + 4, 0, 2 * G_PI);
      set_rgb (cr, ok_green, 0.35);
      cairo_fill (cr);
      colour = ok_green;
      break;
    case WEFT_CANVAS_PORT_INCOMPATIBLE:
      colour = t->grid;
      break;
    case WEFT_CANVAS_PORT_NORMAL:
      break;
    }
  cairo_arc (cr, p.x, p.y, r, 0, 2 * G_PI);
  set_rgb (cr, t->body, 1);
  cairo_fill_preserve (cr);
  set_rgb (cr, colour, 1);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);
  if (state == WEFT_CANVAS_PORT_INCOMPATIBLE)
    {
      /* a small cross says "not here" without relying on colour alone */
      cairo_move_to (cr, p.x - 2.5, p.y - 2.5);
      cairo_line_to (cr, p.x + 2.5, p.y + 2.5);
      cairo_move_to (cr, p.x + 2.5, p.y - 2.5);
      cairo_line_to (cr, p.x - 2.5, p.y + 2.5);
      cairo_set_line_width (cr, 1.2);
      cairo_stroke (cr);
    }
}

/* All ports of a box: the ones in the normal state as one fill and one stroke per colour,
 * the few highlighted while a wire is dragged one by one. */
static void
draw_ports (cairo_t *cr, const Theme *t, const WeftCanvasPaintOptions *o,
            const WeftCanvasNode *n, Rgb in_colour, Rgb out_colour)
{
  double r = WEFT_CANVAS_PORT_RADIUS - 1;
  int n_ports = n->n_inputs + n->n_outputs;
  gboolean plain[64];
  gboolean any = FALSE;

  for (int k = 0; k < n_ports; k++)
    {
      gboolean is_input = k < n->n_inputs;
      int port = is_input ? k : k - n->n_inputs;
      WeftCanvasPortState state = o->port_state == NULL
                                  ? WEFT_CANVAS_PORT_NORMAL
                                  : o->port_state (n->id, port, is_input, o->port_state_data);
      gboolean normal = state == WEFT_CANVAS_PORT_NORMAL;
      if (k < (int) G_N_ELEMENTS (plain))
        plain[k] = normal;
      if (!normal || k >= (int) G_N_ELEMENTS (plain))
        draw_port (cr, t, o, is_input ? weft_canvas_input_port (n, port)
                                      : weft_canvas_output_port (n, port),
                   is_input ? in_colour : out_colour, n->id, port, is_input);
      else
        any = TRUE;
    }
  if (!any)
    return;
  /* a disc of the ring's colour, the body colour inside: what filling and stroking the port
   * circle drew, with two opaque fills per colour instead of a stroke per port */
  for (int pass = 0; pass < 3; pass++)
    {
      gboolean drawn = FALSE;
      cairo_new_path (cr);
      for (int k = 0; k < MIN (n_ports, (int) G_N_ELEMENTS (plain)); k++)
        {
          gboolean is_input = k < n->n_inputs;
          WeftPoint p;
          if (!plain[k] || (pass == 0 && !is_input) || (pass == 1 && is_input))
            continue;
          p = is_input ? weft_canvas_input_port (n, k) : weft_canvas_output_port (n, k - n->n_inputs);
          cairo_new_sub_path (cr);
          cairo_arc (cr, p.x, p.y, pass < 2 ? r + 1 : r - 1, 0, 2 * G_PI);
          drawn = TRUE;
        }
      if (!drawn)
        continue;
      set_rgb (cr, pass == 0 ? in_colour : pass == 1 ? out_colour : t->body, 1);
      cairo_fill (cr);
    }
}

/* The rule above a box's footer: a hairline filled as a rectangle (round caps included). */
static void
footer_line (cairo_t *cr, const Theme *t, const WeftCanvasNode *n)
{
  cairo_new_path (cr);
  cairo_rectangle (cr, n->x + 3.5, n->y + n->height - WEFT_CANVAS_FOOTER_HEIGHT,
                   n->width - 3, 1);
  set_rgb (cr, t->border, 0.6);
  cairo_fill (cr);
}

static void
draw_box (cairo_t *cr, const Theme *t, const WeftCanvasNode *n, Rgb colour, gboolean error,
          gboolean hover)
{
  Rgb tint = { colour.r * 0.16 + t->body.r * 0.84, colour.g * 0.16 + t->body.g * 0.84,
               colour.b * 0.16 + t->body.b * 0.84 };

  /* Every layer is opaque but the shadow, and the shadow covers only the sliver outside the
   * box: blending is what costs on large boxes. The outlines are rings filled, not stroked. */
  cairo_new_path (cr);
  rounded_rect (cr, n->x + 1, n->y + 2, n->width, n->height, CORNER);
  rounded_rect (cr, n->x, n->y, n->width, n->height, CORNER);
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.08);
  cairo_fill (cr);

  rounded_rect (cr, n->x, n->y, n->width, n->height, CORNER);
  set_rgb (cr, t->body, 1);
  cairo_fill (cr);

  /* header band tinted with the group colour (pre-mixed with the body) and the stripe on the
   * left edge, as paths that follow the rounded corners (no clip) */
  header_path (cr, n->x, n->y, n->width, WEFT_CANVAS_HEADER_HEIGHT, CORNER);
  set_rgb (cr, tint, 1);
  cairo_fill (cr);
  stripe_path (cr, n->x, n->y, 4, n->height, CORNER);
  set_rgb (cr, colour, 1);
  cairo_fill (cr);

  if (n->selected)
    {
      ring_path (cr, n->x + 0.5, n->y + 0.5, n->width - 1, n->height - 1, CORNER, 2.5);
      set_rgb (cr, accent, 1);
    }
  else if (error)
    {
      ring_path (cr, n->x + 0.5, n->y + 0.5, n->width - 1, n->height - 1, CORNER, 2);
      set_rgb (cr, error_red, 1);
    }
  else
    {
      ring_path (cr, n->x + 0.5, n->y + 0.5, n->width - 1, n->height - 1, CORNER, 1);
      set_rgb (cr, hover ? t->dim : t->border, 1);
    }
  cairo_fill (cr);
  if (n->selected && error)
    {
      ring_path (cr, n->x + 3, n->y + 3, n->width - 6, n->height - 6, CORNER - 2, 1.5);
      set_rgb (cr, error_red, 1);
      cairo_fill (cr);
    }
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_WINDING);
}

static void
draw_badge (cairo_t *cr, const WeftCanvasPaintOptions *o, double cx, double cy, Rgb colour,
            const char *text)
{
  double tw, th, w;

  text_size (cr, o, text, 9, TRUE, &tw, &th);
  w = MAX (tw + 10, th + 4);
  rounded_rect (cr, cx - w / 2, cy - (th + 4) / 2, w, th + 4, (th + 4) / 2);
  set_rgb (cr, colour, 1);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  draw_text (cr, o, text, cx - tw / 2, cy - th / 2, 9, TRUE, -1, PANGO_ALIGN_LEFT);
}

/* Device pixels per user unit of cr's current transform (x axis). */
static double
scale_of (cairo_t *cr)
{
  double dx = 1, dy = 0;

  cairo_user_to_device_distance (cr, &dx, &dy);
  return hypot (dx, dy);
}

static Rgb
node_colour (WeftGraph *graph, WeftId node)
{
  WeftId callee = weft_graph_node_callee (graph, node);
  gboolean is_model = weft_graph_kind (graph, callee) == WEFT_KIND_MODEL;
  const WeftOpDesc *op = is_model ? NULL : weft_graph_layer_op (graph, callee);

  return category_colour (is_model ? "Models" : op != NULL ? op->category : NULL);
}

/* Graph-space box around a wire: the curve stays inside its control points' hull; the label
 * may stick out. */
static WeftRect
wire_box (const WeftPoint c[4])
{
  WeftRect box;

  box.x = MIN (MIN (c[0].x, c[1].x), MIN (c[2].x, c[3].x)) - 40;
  box.y = MIN (MIN (c[0].y, c[1].y), MIN (c[2].y, c[3].y)) - 12;
  box.width = MAX (MAX (c[0].x, c[1].x), MAX (c[2].x, c[3].x)) - box.x + 40;
  box.height = MAX (MAX (c[0].y, c[1].y), MAX (c[2].y, c[3].y)) - box.y + 12;
  return box;
}

static WeftRect
node_box (const WeftCanvasNode *n)
{
  return (WeftRect) { n->x - 12, n->y - 12, n->width + 24, n->height + 24 };
}

static gboolean
wire_moving (const WeftCanvasScene *scene, const WeftCanvasWire *wire)
{
  const WeftCanvasNode *a = weft_canvas_scene_lookup (scene, wire->src);
  const WeftCanvasNode *b = weft_canvas_scene_lookup (scene, wire->dst);

  return (a != NULL && a->moving) || (b != NULL && b->moving);
}

static gboolean
wire_visible (const WeftCanvasScene *scene, const WeftCanvasWire *wire, const WeftRect *visible,
              WeftCanvasLayer layer, WeftPoint c[4])
{
  WeftRect box;

  if (layer != WEFT_CANVAS_LAYER_ALL
      && wire_moving (scene, wire) != (layer == WEFT_CANVAS_LAYER_MOVING))
    return FALSE;
  if (!weft_canvas_scene_wire_cubic (scene, wire, c))
    return FALSE;
  box = wire_box (c);
  return weft_canvas_rect_intersects (&box, visible);
}

static gboolean
node_visible (const WeftCanvasNode *n, const WeftRect *visible, WeftCanvasLayer layer)
{
  WeftRect box = node_box (n);

  if (layer != WEFT_CANVAS_LAYER_ALL && n->moving != (layer == WEFT_CANVAS_LAYER_MOVING))
    return FALSE;
  return weft_canvas_rect_intersects (&box, visible);
}

static void
rect_union (WeftRect *acc, gboolean *any, const WeftRect *r)
{
  if (!*any)
    *acc = *r;
  else
    {
      double x2 = MAX (acc->x + acc->width, r->x + r->width);
      double y2 = MAX (acc->y + acc->height, r->y + r->height);
      acc->x = MIN (acc->x, r->x);
      acc->y = MIN (acc->y, r->y);
      acc->width = x2 - acc->x;
      acc->height = y2 - acc->y;
    }
  *any = TRUE;
}

gboolean
weft_canvas_moving_bounds (const WeftCanvasScene *scene, WeftRect *bounds)
{
  gboolean any = FALSE;
  WeftRect acc = { 0 };

  g_return_val_if_fail (scene != NULL && bounds != NULL, FALSE);
  for (guint i = 0; i < scene->nodes->len; i++)
    {
      const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      if (n->moving)
        {
          WeftRect box = node_box (n);
          rect_union (&acc, &any, &box);
        }
    }
  if (!any)
    return FALSE;
  for (guint i = 0; i < scene->wires->len; i++)
    {
      const WeftCanvasWire *wire = &g_array_index (scene->wires, WeftCanvasWire, i);
      WeftPoint c[4];
      if (wire_moving (scene, wire) && weft_canvas_scene_wire_cubic (scene, wire, c))
        {
          WeftRect box = wire_box (c);
          rect_union (&acc, &any, &box);
        }
    }
  *bounds = acc;
  return TRUE;
}

/* The whole graph far away: boxes in their group colour, selection and error outlines and
 * wires, no text. Primitives of one colour go into one path, so the cost stays a handful of
 * fills and strokes whatever the size of the graph. */
static void
paint_simple (cairo_t *cr, const Theme *t, WeftGraph *graph, WeftId model,
              const WeftCanvasScene *scene, const WeftRect *visible, WeftCanvasLayer layer)
{
  g_autoptr (GPtrArray) shown = g_ptr_array_new ();
  gboolean any;

  for (int pass = 0; pass < 2; pass++)
    {
      any = FALSE;
      for (guint i = 0; i < scene->wires->len; i++)
        {
          const WeftCanvasWire *wire = &g_array_index (scene->wires, WeftCanvasWire, i);
          WeftPoint c[4];
          if ((WEFT_CANVAS_IS_HEAD_ID (wire->dst) || wire->selected) != (pass == 1)
              || !wire_visible (scene, wire, visible, layer, c))
            continue;
          cairo_move_to (cr, c[0].x, c[0].y);
          cairo_curve_to (cr, c[1].x, c[1].y, c[2].x, c[2].y, c[3].x, c[3].y);
          any = TRUE;
        }
      if (any)
        {
          set_rgb (cr, pass == 0 ? t->wire : error_red, pass == 0 ? 1 : 0.7);
          cairo_set_line_width (cr, 4);
          cairo_stroke (cr);
        }
    }

  for (guint i = 0; i < scene->nodes->len; i++)
    {
      const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      if (!node_visible (n, visible, layer))
        continue;
      if (WEFT_CANVAS_IS_HEAD_ID (n->id)
          ? WEFT_CANVAS_HEAD_INDEX (n->id) >= weft_graph_model_n_outputs (graph, model)
          : weft_graph_kind (graph, n->id) != WEFT_KIND_NODE)
        continue;
      g_ptr_array_add (shown, (gpointer) n);
      cairo_rectangle (cr, n->x, n->y, n->width, n->height);
    }
  set_rgb (cr, t->body, 1);
  cairo_fill (cr);

  /* header tint and stripe, one path per group colour */
  for (gsize k = 0; k <= G_N_ELEMENTS (category_colours); k++)
    {
      Rgb colour = k < G_N_ELEMENTS (category_colours) ? category_colours[k].colour
                                                       : category_colour (NULL);
      any = FALSE;
      for (guint i = 0; i < shown->len; i++)
        {
          const WeftCanvasNode *n = g_ptr_array_index (shown, i);
          Rgb c = WEFT_CANVAS_IS_HEAD_ID (n->id) ? category_colour ("Heads")
                                                 : node_colour (graph, n->id);
          if (memcmp (&c, &colour, sizeof c) != 0)
            continue;
          cairo_rectangle (cr, n->x, n->y, n->width, WEFT_CANVAS_HEADER_HEIGHT);
          any = TRUE;
        }
      if (!any)
        continue;
      set_rgb (cr, colour, 0.35);
      cairo_fill (cr);
      for (guint i = 0; i < shown->len; i++)
        {
          const WeftCanvasNode *n = g_ptr_array_index (shown, i);
          Rgb c = WEFT_CANVAS_IS_HEAD_ID (n->id) ? category_colour ("Heads")
                                                 : node_colour (graph, n->id);
          if (memcmp (&c, &colour, sizeof c) == 0)
            cairo_rectangle (cr, n->x, n->y, 8, n->height);
        }
      set_rgb (cr, colour, 1);
      cairo_fill (cr);
    }

  /* outlines: plain, error, selected */
  for (int pass = 0; pass < 3; pass++)
    {
      any = FALSE;
      for (guint i = 0; i < shown->len; i++)
        {
          const WeftCanvasNode *n = g_ptr_array_index (shown, i);
          gboolean error = !WEFT_CANVAS_IS_HEAD_ID (n->id)
                           && weft_graph_node_diagnostic (graph, n->id) != NULL;
          int kind = n->selected ? 2 : error ? 1 : 0;
          if (kind != pass)
            continue;
          cairo_rectangle (cr, n->x, n->y, n->width, n->height);
          any = TRUE;
        }
      if (!any)
        continue;
      set_rgb (cr, pass == 0 ? t->border : pass == 1 ? error_red : accent, 1);
      cairo_set_line_width (cr, pass == 0 ? 2 : 6);
      cairo_stroke (cr);
    }
}

static void
draw_node (cairo_t *cr, const Theme *t, const WeftCanvasPaintOptions *o, WeftGraph *graph,
           const WeftCanvasNode *n)
{
  WeftId callee = weft_graph_node_callee (graph, n->id);
  gboolean is_model = weft_graph_kind (graph, callee) == WEFT_KIND_MODEL;
  const WeftOpDesc *op = is_model ? NULL : weft_graph_layer_op (graph, callee);
  const WeftDiagnostic *diag = weft_graph_node_diagnostic (graph, n->id);
  Rgb colour = category_colour (is_model ? "Models" : op != NULL ? op->category : NULL);
  double inner = n->width - 2 * PAD;
  double y = n->y + WEFT_CANVAS_HEADER_HEIGHT + 4;
  int calls = weft_graph_callee_n_nodes (graph, callee);
  gint64 trainable = 0, frozen = 0;
  g_autofree char *count = NULL, *footer = NULL;
  char shape[96];

  draw_box (cr, t, n, colour, diag != NULL, o->hover_node == n->id);

  set_rgb (cr, t->text, 1);
  draw_text (cr, o, weft_graph_get_name (graph, callee), n->x + PAD, n->y + 6, 12.5, TRUE,
             inner - (calls > 1 || diag != NULL ? 34 : 0), PANGO_ALIGN_LEFT);
  set_rgb (cr, t->dim, 1);
  draw_text (cr, o, is_model ? _("Model") : op != NULL ? op->name : "?", n->x + PAD,
             n->y + 24, 10, FALSE, inner, PANGO_ALIGN_LEFT);

  if (is_model)
    {
      g_autofree char *line = g_strdup_printf (_("%d in, %d out"),
                                               weft_graph_model_n_inputs (graph, callee),
                                               weft_graph_model_n_outputs (graph, callee));
      set_rgb (cr, t->text, 1);
      draw_text (cr, o, line, n->x + PAD, y, 10, FALSE, inner, PANGO_ALIGN_LEFT);
    }
  else if (op != NULL)
    {
      const WeftValue *cfg = weft_graph_layer_config (graph, callee);
      for (int i = 0; i < op->n_params; i++)
        {
          g_autofree char *value = NULL, *line = NULL;
          if (!(op->params[i].flags & WEFT_PARAM_KEY))
            continue;
          value = weft_canvas_format_value (&op->params[i], &cfg[i]);
          line = g_strdup_printf ("%s  %s", op->params[i].name, value);
          set_rgb (cr, t->text, 0.9);
          draw_text (cr, o, line, n->x + PAD, y, 10, FALSE, inner, PANGO_ALIGN_LEFT);
          y += WEFT_CANVAS_LINE_HEIGHT;
        }
    }

  /* footer: parameter count left, output shape right */
  footer_line (cr, t, n);
  if (weft_graph_count_params (graph, callee, &trainable, &frozen))
    {
      count = weft_canvas_format_count (trainable + frozen);
      /* TRANSLATORS: parameter count on a node of the canvas, e.g. "1,234 params" */
      footer = g_strdup_printf (_("%s params"), count);
    }
  else
    footer = g_strdup (_("? params"));
  set_rgb (cr, t->dim, 1);
  draw_text (cr, o, footer, n->x + PAD, n->y + n->height - WEFT_CANVAS_FOOTER_HEIGHT + 5, 9.5,
             FALSE, inner / 2, PANGO_ALIGN_LEFT);
  if (diag != NULL)
    {
      set_rgb (cr, error_red, 1);
      draw_text (cr, o, _("error"), n->x + n->width / 2,
                 n->y + n->height - WEFT_CANVAS_FOOTER_HEIGHT + 5, 9.5, TRUE, inner / 2 + 0,
                 PANGO_ALIGN_RIGHT);
    }
  else
    {
      shape_label (graph, n->id, 0, shape, sizeof shape);
      set_rgb (cr, t->text, 1);
      draw_text (cr, o, shape, n->x + n->width / 2,
                 n->y + n->height - WEFT_CANVAS_FOOTER_HEIGHT + 5, 9.5, TRUE,
                 inner / 2, PANGO_ALIGN_RIGHT);
    }

  /* badges: error mark and the family of nodes calling one layer */
  {
    double bx = n->x + n->width - PAD - 8;
    if (diag != NULL)
      {
        draw_badge (cr, o, bx, n->y + 14, error_red, "!");
        bx -= 22;
      }
    if (calls > 1)
      {
        g_autofree char *text = g_strdup_printf ("×%d", calls);
        Rgb fc = family_colours[(guint) callee % G_N_ELEMENTS (family_colours)];
        draw_badge (cr, o, bx - 4, n->y + 14, fc, text);
        /* a second stripe in the family colour marks every member */
        cairo_rectangle (cr, n->x + 4, n->y + 8, 3, n->height - 16);
        set_rgb (cr, fc, 1);
        cairo_fill (cr);
      }
  }

  draw_ports (cr, t, o, n, t->dim, colour);
}

static void
draw_head (cairo_t *cr, const Theme *t, const WeftCanvasPaintOptions *o, WeftGraph *graph,
           WeftId model, const WeftCanvasNode *n)
{
  int index = WEFT_CANVAS_HEAD_INDEX (n->id);
  const WeftHead *head = weft_graph_model_output (graph, model, index);
  Rgb colour = category_colour ("Heads");
  double inner = n->width - 2 * PAD;
  g_autofree char *loss = NULL, *weight = NULL;
  char buf[G_ASCII_DTOSTR_BUF_SIZE], shape[96];
  gboolean no_loss = head->loss == WEFT_LOSS_NONE && model == weft_graph_get_main_model (graph);

  draw_box (cr, t, n, colour, no_loss, o->hover_node == n->id);
  set_rgb (cr, t->text, 1);
  draw_text (cr, o, weft_graph_model_output_name (graph, model, index), n->x + PAD, n->y + 6,
             12.5, TRUE, inner - (no_loss ? 22 : 0), PANGO_ALIGN_LEFT);
  set_rgb (cr, t->dim, 1);
  draw_text (cr, o, _("Output head"), n->x + PAD, n->y + 24, 10, FALSE, inner,
             PANGO_ALIGN_LEFT);
  loss = g_strdup_printf ("loss  %s", head->loss > WEFT_LOSS_NONE && head->loss < WEFT_LOSS_COUNT
                                      ? weft_loss_names[head->loss] : _("none"));
  weight = g_strdup_printf ("loss_weight  %s",
                            g_ascii_formatd (buf, sizeof buf, "%g", head->weight));
  set_rgb (cr, no_loss ? error_red : t->text, 0.9);
  draw_text (cr, o, loss, n->x + PAD, n->y + WEFT_CANVAS_HEADER_HEIGHT + 4, 10, FALSE, inner,
             PANGO_ALIGN_LEFT);
  set_rgb (cr, t->text, 0.9);
  draw_text (cr, o, weight, n->x + PAD,
             n->y + WEFT_CANVAS_HEADER_HEIGHT + 4 + WEFT_CANVAS_LINE_HEIGHT, 10, FALSE, inner,
             PANGO_ALIGN_LEFT);
  footer_line (cr, t, n);
  shape_label (graph, head->node, head->port, shape, sizeof shape);
  set_rgb (cr, t->text, 1);
  draw_text (cr, o, shape, n->x + n->width / 2,
             n->y + n->height - WEFT_CANVAS_FOOTER_HEIGHT + 5, 9.5, TRUE, inner / 2,
             PANGO_ALIGN_RIGHT);
  if (no_loss)
    draw_badge (cr, o, n->x + n->width - PAD - 8, n->y + 14, error_red, "!");
  draw_ports (cr, t, o, n, colour, colour);
}

void
weft_canvas_paint (cairo_t *cr, WeftGraph *graph, WeftId model, const WeftCanvasScene *scene,
                   const WeftCanvasPaintOptions *o)
{
  const Theme *t = o->dark ? &dark_theme : &light_theme;
  WeftRect visible;
  double x2, y2;
  gboolean simple;

  g_return_if_fail (cr != NULL && graph != NULL && scene != NULL && o != NULL);

  G_LOCK (paint_lock);
  cairo_save (cr);
  if (o->width > 0 && o->height > 0 && o->layer != WEFT_CANVAS_LAYER_MOVING)
    {
      set_rgb (cr, t->background, 1);
      cairo_paint (cr);
      if (o->grid)
        draw_grid (cr, t, o);
    }
  cairo_translate (cr, o->view.offset_x, o->view.offset_y);
  cairo_scale (cr, o->view.zoom, o->view.zoom);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_clip_extents (cr, &visible.x, &visible.y, &x2, &y2);
  visible.width = x2 - visible.x;
  visible.height = y2 - visible.y;
  /* text smaller than ~4 px on screen is unreadable: draw plain boxes instead */
  simple = scale_of (cr) < WEFT_CANVAS_DETAIL_ZOOM;   /* the view zoom is in the matrix now */

  if (!simple)
    layouts_prepare (cr);

  if (simple)
    paint_simple (cr, t, graph, model, scene, &visible, o->layer);
  else
    {
      for (guint i = 0; i < scene->wires->len; i++)
        {
          const WeftCanvasWire *wire = &g_array_index (scene->wires, WeftCanvasWire, i);
          WeftPoint c[4];
          if (wire_visible (scene, wire, &visible, o->layer, c))
            draw_wire (cr, t, o, graph, scene, wire);
        }
      for (guint i = 0; i < scene->nodes->len; i++)
        {
          const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
          if (!node_visible (n, &visible, o->layer))
            continue;
          if (WEFT_CANVAS_IS_HEAD_ID (n->id))
            {
              if (WEFT_CANVAS_HEAD_INDEX (n->id) < weft_graph_model_n_outputs (graph, model))
                draw_head (cr, t, o, graph, model, n);
            }
          else if (weft_graph_kind (graph, n->id) == WEFT_KIND_NODE)
            draw_node (cr, t, o, graph, n);
        }
    }

  if (o->drag_wire && o->layer != WEFT_CANVAS_LAYER_MOVING)
    {
      WeftPoint c[4];
      weft_canvas_wire_cubic (o->drag_from, o->drag_to, c);
      cairo_move_to (cr, c[0].x, c[0].y);
      cairo_curve_to (cr, c[1].x, c[1].y, c[2].x, c[2].y, c[3].x, c[3].y);
      set_rgb (cr, o->drag_ok ? ok_green : accent, 1);
      cairo_set_line_width (cr, 2.5);
      cairo_stroke (cr);
    }
  if (o->rubber_band && o->layer != WEFT_CANVAS_LAYER_MOVING)
    {
      WeftRect r = weft_canvas_rect_from_points (o->band_a, o->band_b);
      cairo_rectangle (cr, r.x, r.y, r.width, r.height);
      set_rgb (cr, accent, 0.15);
      cairo_fill_preserve (cr);
      set_rgb (cr, accent, 0.8);
      cairo_set_line_width (cr, 1 / o->view.zoom);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
  G_UNLOCK (paint_lock);
}

/* ---- export ---- */

static cairo_status_t
write_to_stream (void *closure, const unsigned char *data, unsigned int length)
{
  GOutputStream *out = closure;

  return g_output_stream_write_all (out, data, length, NULL, NULL, NULL)
         ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

gboolean
weft_canvas_export (WeftGraph *graph, const char *path, const char *format, GError **error)
{
  return weft_canvas_export_full (graph, NULL, path, format, error);
}

gboolean
weft_canvas_export_full (WeftGraph *graph, const GArray *head_positions, const char *path,
                         const char *format, GError **error)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileOutputStream) out = NULL;
  WeftCanvasScene *scene;
  WeftCanvasPaintOptions o;
  cairo_surface_t *surface = NULL;
  cairo_t *cr;
  WeftRect bounds = { 0, 0, 1, 1 };
  cairo_status_t status;
  double w, h;
  const char *ext;

  g_return_val_if_fail (graph != NULL && path != NULL, FALSE);

  if (format == NULL)
    {
      ext = strrchr (path, '.');
      format = ext != NULL ? ext + 1 : "";
    }
  if (g_ascii_strcasecmp (format, "png") != 0 && g_ascii_strcasecmp (format, "svg") != 0
      && g_ascii_strcasecmp (format, "pdf") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Unknown picture format “%s” (use png, svg or pdf)"), format);
      return FALSE;
    }

  weft_graph_analyse (graph);
  scene = weft_canvas_scene_new ();
  weft_canvas_scene_build (scene, graph, weft_graph_get_main_model (graph), head_positions);
  weft_canvas_scene_bounds (scene, &bounds);
  w = ceil (bounds.width + 2 * EXPORT_MARGIN);
  h = ceil (bounds.height + 2 * EXPORT_MARGIN);

  file = g_file_new_for_path (path);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (out == NULL)
    {
      weft_canvas_scene_free (scene);
      return FALSE;
    }

  if (g_ascii_strcasecmp (format, "svg") == 0)
    surface = cairo_svg_surface_create_for_stream (write_to_stream, out, w, h);
  else if (g_ascii_strcasecmp (format, "pdf") == 0)
    surface = cairo_pdf_surface_create_for_stream (write_to_stream, out, w, h);
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) w, (int) h);

  weft_canvas_paint_options_init (&o);
  o.view.offset_x = EXPORT_MARGIN - bounds.x;
  o.view.offset_y = EXPORT_MARGIN - bounds.y;
  o.width = w;
  o.height = h;
  o.grid = FALSE;
  cr = cairo_create (surface);
  weft_canvas_paint (cr, graph, weft_graph_get_main_model (graph), scene, &o);
  cairo_destroy (cr);
  weft_canvas_scene_free (scene);

  if (cairo_surface_get_type (surface) == CAIRO_SURFACE_TYPE_IMAGE)
    status = cairo_surface_write_to_png_stream (surface, write_to_stream, out);
  else
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not draw “%s”: %s"), path,
                   cairo_status_to_string (status));
      g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL);
      return FALSE;
    }
  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

cairo_surface_t *
weft_canvas_paint_thumbnail (WeftGraph *graph, int width, int height, gboolean dark)
{
  WeftCanvasScene *scene;
  WeftCanvasPaintOptions o;
  WeftRect bounds = { 0, 0, 1, 1 };
  cairo_surface_t *surface;
  double zoom;
  cairo_t *cr;

  g_return_val_if_fail (graph != NULL && width > 0 && height > 0, NULL);

  weft_graph_analyse (graph);
  scene = weft_canvas_scene_new ();
  weft_canvas_scene_build (scene, graph, weft_graph_get_main_model (graph), NULL);
  weft_canvas_scene_bounds (scene, &bounds);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);

  weft_canvas_paint_options_init (&o);
  o.grid = FALSE;
  o.dark = dark;
  o.width = width;
  o.height = height;
  /* the view's zoom is clamped for editing; a thumbnail may need to shrink further, so
   * scale the context instead */
  zoom = MIN ((width - 2 * THUMB_MARGIN) / MAX (bounds.width, 1.0),
              (height - 2 * THUMB_MARGIN) / MAX (bounds.height, 1.0));
  zoom = MIN (zoom, 1.0);
  cr = cairo_create (surface);
  cairo_translate (cr, width / 2.0 - (bounds.x + bounds.width / 2) * zoom,
                   height / 2.0 - (bounds.y + bounds.height / 2) * zoom);
  cairo_scale (cr, zoom, zoom);
  weft_canvas_paint (cr, graph, weft_graph_get_main_model (graph), scene, &o);
  cairo_destroy (cr);
  weft_canvas_scene_free (scene);
  return surface;
}
