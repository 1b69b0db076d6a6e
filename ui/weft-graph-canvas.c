/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-graph-canvas"

#include "config.h"

#include "weft-graph-canvas.h"

#include <glib/gi18n.h>
#include <math.h>

#include "weft-canvas-painter.h"
#include "weft-file.h"
#include "weft-test-hook.h"

#define FIT_MARGIN   40.0
/* A graph opens at least this large (titles ~9 px, settings ~7.5 px on screen) unless it is
 * too big for that to show much of it. */
#define OPEN_ZOOM    0.75
#define PASTE_OFFSET 40.0
#define CLICK_SLOP   3.0

struct _WeftGraphCanvas
{
  GtkWidget            parent_instance;

  /* Owned */
  WeftDocument        *document;
  WeftCanvasScene     *scene;
  GArray              *selection;       /* WeftId */
  GHashTable          *port_reasons;    /* port key -> reason (NULL value: compatible) */
  GArray              *move_ids;        /* WeftId */
  GArray              *move_origins;    /* WeftPoint */
  GtkWidget           *quick_add;       /* GtkPopover */
  GtkWidget           *quick_entry;
  GtkWidget           *quick_list;
  char                *hover_reason;
  /* The canvas paints into image surfaces of its own and hands them to GTK as textures: the
   * still part is kept across frames (a drag of nodes repaints only the moving part, and GSK
   * sees an unchanged texture), and the Cairo renderer on X11 never replays thousands of
   * shapes through XRender. */
  GskRenderNode       *still;          /* kept: an unchanged node is no damage to GSK */
  gboolean             still_valid;
  WeftCanvasView       still_view;
  int                  still_width, still_height, still_scale;
  gboolean             still_dark, still_split;

  WeftCanvasView       view;
  gboolean             view_ready;
  gboolean             view_opening;    /* a pending placement is an opening (legible zoom) */
  gboolean             first_frame;
  int                  selected_wire;   /* index into scene->wires or -1 */

  /* Pointer */
  WeftCanvasDragState  drag;
  WeftPoint            drag_start;      /* screen */
  WeftCanvasView       drag_view;
  gboolean             drag_moved;
  gboolean             drag_toggle;     /* ctrl-click on a selected node: unselect on release */
  WeftId               drag_node;
  int                  drag_port;
  gboolean             wire_from_output;
  /* a wire dropped on empty canvas waits for the quick-add choice: the new node gets it */
  gboolean             pending_wire;
  gboolean             pending_from_output;
  WeftId               pending_node;
  int                  pending_port;
  WeftPoint            wire_to;         /* graph */
  gboolean             wire_target;     /* wire_to is on a compatible port */
  WeftId               target_node;
  int                  target_port;
  WeftPoint            band_a, band_b;
  double               move_dx, move_dy;
  WeftPoint            pointer;         /* screen */
  gboolean             pointer_inside;
  gboolean             space_down;
  WeftId               hover_node;
  WeftPoint            quick_add_at;    /* graph */
  double               pinch_zoom;
  gboolean             hook_boxes;
};

G_DEFINE_FINAL_TYPE (WeftGraphCanvas, weft_graph_canvas, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

enum
{
  SELECTION_CHANGED,
  NODE_ACTIVATED,
  ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The clipboard holds the selection as a .weft document of its own (JSON, no weights). */
#define WEFT_CLIPBOARD_MIME "application/x-weft"

static gint64
port_key (WeftId node, int port, gboolean is_input)
{
  return ((gint64) (guint32) node << 20) | ((gint64) port << 1) | (is_input ? 1 : 0);
}

static WeftGraph *
graph_of (WeftGraphCanvas *self)
{
  return self->document != NULL ? weft_document_get_graph (self->document) : NULL;
}

static WeftId
model_of (WeftGraphCanvas *self)
{
  return self->document != NULL ? weft_document_get_model (self->document) : WEFT_ID_NONE;
}

static WeftPoint
to_graph (WeftGraphCanvas *self, double x, double y)
{
  return weft_canvas_view_to_graph (&self->view, (WeftPoint) { x, y });
}

static void
report_error (WeftGraphCanvas *self, const GError *error)
{
  if (error == NULL)
    return;
  weft_test_hook ("error %s", error->message);
  g_signal_emit (self, signals[ERROR], 0, error->message);
}

/* Something drawn changed: the still layer must be painted again. */
static void
redraw (WeftGraphCanvas *self)
{
  self->still_valid = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
is_selected (WeftGraphCanvas *self, WeftId id)
{
  for (guint i = 0; i < self->selection->len; i++)
    if (g_array_index (self->selection, WeftId, i) == id)
      return TRUE;
  return FALSE;
}

/* ---- accessibility and actions ---- */

static void
update_accessible (WeftGraphCanvas *self)
{
  g_autofree char *text = NULL;
  WeftGraph *g = graph_of (self);
  WeftId node = weft_graph_canvas_get_focus_node (self);

  if (g == NULL || self->selection->len == 0)
    text = g_strdup (_("Nothing selected"));
  else if (node != WEFT_ID_NONE)
    {
      WeftId callee = weft_graph_node_callee (g, node);
      const WeftOpDesc *op = weft_graph_layer_op (g, callee);
      const WeftDiagnostic *diag = weft_graph_node_diagnostic (g, node);
      WeftShape shape;
      char buf[96] = "?";
      if (weft_graph_node_shape (g, node, 0, &shape))
        weft_shape_format (&shape, buf, sizeof buf);
      /* TRANSLATORS: accessible description: name, type and output shape of a node */
      text = g_strdup_printf (_("Selected %s (%s), output %s"), weft_graph_get_name (g, callee),
                              op != NULL ? op->name : _("Model"), buf);
      if (diag != NULL)
        {
          char *with = g_strdup_printf (_("%s. Error: %s"), text, diag->message);
          g_free (text);
          text = with;
        }
    }
  else
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u item selected",
                                         "%u items selected", self->selection->len),
                            self->selection->len);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

static gboolean
clipboard_has_graph (WeftGraphCanvas *self)
{
  GdkContentFormats *formats = gdk_clipboard_get_formats (gtk_widget_get_clipboard (GTK_WIDGET (self)));

  return gdk_content_formats_contain_mime_type (formats, WEFT_CLIPBOARD_MIME)
         || gdk_content_formats_contain_gtype (formats, G_TYPE_STRING)
         || gdk_content_formats_contain_mime_type (formats, "text/plain;charset=utf-8");
}

static void
update_actions (WeftGraphCanvas *self)
{
  WeftGraph *g = graph_of (self);
  WeftId node = weft_graph_canvas_get_focus_node (self);
  gboolean any_node = FALSE, model_node = FALSE, input_node = FALSE;

  for (guint i = 0; g != NULL && i < self->selection->len; i++)
    if (!WEFT_CANVAS_IS_HEAD_ID (g_array_index (self->selection, WeftId, i)))
      any_node = TRUE;
  if (node != WEFT_ID_NONE)
    {
      WeftId callee = weft_graph_node_callee (g, node);
      const WeftOpDesc *op = weft_graph_layer_op (g, callee);
      model_node = weft_graph_kind (g, callee) == WEFT_KIND_MODEL;
      input_node = op != NULL && (op->flags & WEFT_OP_INPUT);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.delete",
                                 self->selection->len > 0 || self->selected_wire >= 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.duplicate", any_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.copy", any_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.cut", any_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.paste",
                                 self->document != NULL && clipboard_has_graph (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.call-again",
                                 node != WEFT_ID_NONE && !input_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.group", any_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.ungroup", model_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.open-model", model_node);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.add-head", node != WEFT_ID_NONE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph.close-model",
                                 g != NULL && model_of (self) != weft_graph_get_main_model (g));
}

static void
selection_changed (WeftGraphCanvas *self)
{
  for (guint i = 0; i < self->scene->nodes->len; i++)
    {
      WeftCanvasNode *n = &g_array_index (self->scene->nodes, WeftCanvasNode, i);
      n->selected = is_selected (self, n->id);
    }
  for (guint i = 0; i < self->scene->wires->len; i++)
    g_array_index (self->scene->wires, WeftCanvasWire, i).selected = (int) i == self->selected_wire;
  update_accessible (self);
  update_actions (self);
  redraw (self);
  weft_test_hook ("selected %u", self->selection->len);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

static void
set_selection (WeftGraphCanvas *self, const WeftId *ids, int n)
{
  g_array_set_size (self->selection, 0);
  if (n > 0)
    g_array_append_vals (self->selection, ids, n);
  self->selected_wire = -1;
  selection_changed (self);
}

static void
rebuild (WeftGraphCanvas *self)
{
  guint before = self->selection->len;

  if (self->document == NULL)
    weft_canvas_scene_clear (self->scene);
  else
    {
      g_autoptr (GArray) heads = weft_document_dup_head_positions (self->document);
      weft_canvas_scene_build (self->scene, graph_of (self), model_of (self), heads);
    }
  /* forget selected ids that are gone */
  for (guint i = self->selection->len; i-- > 0;)
    if (weft_canvas_scene_lookup (self->scene, g_array_index (self->selection, WeftId, i)) == NULL)
      g_array_remove_index (self->selection, i);
  if (self->selected_wire >= (int) self->scene->wires->len)
    self->selected_wire = -1;
  if (before != self->selection->len)
    selection_changed (self);
  else
    {
      for (guint i = 0; i < self->scene->nodes->len; i++)
        {
          WeftCanvasNode *n = &g_array_index (self->scene->nodes, WeftCanvasNode, i);
          n->selected = is_selected (self, n->id);
        }
      update_accessible (self);
      update_actions (self);
    }
  self->hook_boxes = TRUE;
  redraw (self);
}

/* Test hook: where each box and its first ports are, in window coordinates. */
static void
hook_print_boxes (WeftGraphCanvas *self)
{
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self)));

  self->hook_boxes = FALSE;
  if (!weft_test_hook_enabled () || root == NULL)
    return;
  for (guint i = 0; i < self->scene->nodes->len; i++)
    {
      const WeftCanvasNode *n = &g_array_index (self->scene->nodes, WeftCanvasNode, i);
      WeftPoint c = weft_canvas_view_to_screen (&self->view, (WeftPoint) { n->x + n->width / 2, n->y + 12 });
      WeftPoint in = weft_canvas_view_to_screen (&self->view, weft_canvas_input_port (n, 0));
      WeftPoint out = weft_canvas_view_to_screen (&self->view, weft_canvas_output_port (n, 0));
      double cx, cy, ix, iy, ox, oy;
      gtk_widget_translate_coordinates (GTK_WIDGET (self), root, c.x, c.y, &cx, &cy);
      gtk_widget_translate_coordinates (GTK_WIDGET (self), root, in.x, in.y, &ix, &iy);
      gtk_widget_translate_coordinates (GTK_WIDGET (self), root, out.x, out.y, &ox, &oy);
      weft_test_hook ("box id=%d name=%s body=%.0f,%.0f in=%.0f,%.0f out=%.0f,%.0f", n->id,
                      WEFT_CANVAS_IS_HEAD_ID (n->id) ? "head"
                      : weft_graph_get_name (graph_of (self), weft_graph_node_callee (graph_of (self), n->id)),
                      cx, cy, ix, iy, ox, oy);
    }
  weft_test_hook ("boxes done %u", self->scene->nodes->len);
}

static void
document_changed_cb (WeftGraphCanvas *self)
{
  self->selected_wire = -1;
  rebuild (self);
}

static void place_view (WeftGraphCanvas *self, gboolean opening);

/* ---- painting ---- */

static WeftCanvasPortState
port_state_cb (WeftId node, int port, gboolean is_input, gpointer data)
{
  WeftGraphCanvas *self = data;
  gint64 key;
  gpointer reason;

  if (self->drag != WEFT_CANVAS_DRAG_WIRE)
    return WEFT_CANVAS_PORT_NORMAL;
  key = port_key (node, port, is_input);
  if (!g_hash_table_lookup_extended (self->port_reasons, &key, NULL, &reason))
    return WEFT_CANVAS_PORT_NORMAL;
  if (reason != NULL)
    return WEFT_CANVAS_PORT_INCOMPATIBLE;
  if (self->wire_target && self->target_node == node && self->target_port == port)
    return WEFT_CANVAS_PORT_TARGET;
  return WEFT_CANVAS_PORT_COMPATIBLE;
}

static gboolean
prefers_dark (WeftGraphCanvas *self)
{
  GdkRGBA fg;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return (fg.red + fg.green + fg.blue) / 3 > 0.5;
}

/* The hover reason's box (widget coordinates) and text while a wire is dragged. */
static PangoLayout *
reason_layout (WeftGraphCanvas *self, int width, graphene_rect_t *box)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), self->hover_reason);
  int tw, th;
  double x = self->pointer.x + 16, y = self->pointer.y + 16;

  pango_layout_set_width (layout, 320 * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_get_pixel_size (layout, &tw, &th);
  if (x + tw + 16 > width)
    x = MAX (4, width - tw - 16);
  graphene_rect_init (box, x - 6, y - 4, tw + 12, th + 8);
  return layout;
}

static void
draw_reason (WeftGraphCanvas *self, cairo_t *cr, int width)
{
  graphene_rect_t box;
  PangoLayout *layout = reason_layout (self, width, &box);

  cairo_rectangle (cr, box.origin.x, box.origin.y, box.size.width, box.size.height);
  cairo_set_source_rgba (cr, 0.75, 0.11, 0.16, 0.95);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, box.origin.x + 6, box.origin.y + 4);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

static void
free_surface (gpointer surface)
{
  cairo_surface_destroy (surface);
}

/* A render node showing the widget-space rectangle (x, y, w, h) of `o`, painted at `scale`
 * device pixels per unit into an image surface. The GL renderer gets it as a texture (uploaded
 * once per node). The Cairo renderer gets a Cairo node that paints the image: GTK 4.8 converts
 * a texture to a Cairo surface through floats, pixel by pixel (~40 ms for a window). */
static GskRenderNode *
paint_node (WeftGraphCanvas *self, const WeftCanvasPaintOptions *o, int x, int y, int w, int h,
            int scale, gboolean reason)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w * scale,
                                                         h * scale);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (GTK_WIDGET (self)));
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (x, y, w, h);
  GskRenderNode *node;
  cairo_t *cr;

  cairo_surface_set_device_scale (surface, scale, scale);
  cr = cairo_create (surface);
  cairo_translate (cr, -x, -y);
  weft_canvas_paint (cr, graph_of (self), model_of (self), self->scene, o);
  if (reason)
    draw_reason (self, cr, gtk_widget_get_width (GTK_WIDGET (self)));
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  if (renderer == NULL || GSK_IS_CAIRO_RENDERER (renderer))
    {
      node = gsk_cairo_node_new (&bounds);
      cr = gsk_cairo_node_get_draw_context (node);
      cairo_set_source_surface (cr, surface, x, y);
      cairo_paint (cr);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
    }
  else
    {
      int stride = cairo_image_surface_get_stride (surface);
      g_autoptr (GBytes) bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (surface),
                                                             (gsize) stride * h * scale,
                                                             free_surface, surface);
      g_autoptr (GdkTexture) texture = gdk_memory_texture_new (w * scale, h * scale,
                                                               GDK_MEMORY_DEFAULT, bytes,
                                                               stride);
      node = gsk_texture_node_new (texture, &bounds);
    }
  return node;
}

static void
union_points (graphene_rect_t *acc, gboolean *any, const WeftPoint *pts, int n, double pad)
{
  for (int i = 0; i < n; i++)
    {
      graphene_rect_t r = GRAPHENE_RECT_INIT (pts[i].x - pad, pts[i].y - pad, 2 * pad, 2 * pad);
      if (*any)
        graphene_rect_union (acc, &r, acc);
      else
        *acc = r;
      *any = TRUE;
    }
}

/* Widget-space box of what the moving layer draws: moving boxes and their wires, the wire
 * being dragged, the rubber band and the hover reason. FALSE when there is none. */
static gboolean
moving_layer_box (WeftGraphCanvas *self, const WeftCanvasPaintOptions *o, int width,
                  int height, graphene_rect_t *box)
{
  gboolean any = FALSE;
  WeftRect r;
  graphene_rect_t all = GRAPHENE_RECT_INIT (0, 0, width, height);

  if (weft_canvas_moving_bounds (self->scene, &r))
    {
      WeftPoint corners[2] = { weft_canvas_view_to_screen (&o->view, (WeftPoint) { r.x, r.y }),
                               weft_canvas_view_to_screen (&o->view, (WeftPoint) { r.x + r.width,
                                                                                  r.y + r.height }) };
      union_points (box, &any, corners, 2, 2);
    }
  if (o->drag_wire)
    {
      WeftPoint c[4];
      weft_canvas_wire_cubic (o->drag_from, o->drag_to, c);
      for (int i = 0; i < 4; i++)
        c[i] = weft_canvas_view_to_screen (&o->view, c[i]);
      union_points (box, &any, c, 4, 4);
    }
  if (o->rubber_band)
    {
      WeftPoint c[2] = { weft_canvas_view_to_screen (&o->view, o->band_a),
                         weft_canvas_view_to_screen (&o->view, o->band_b) };
      union_points (box, &any, c, 2, 2);
    }
  if (self->drag == WEFT_CANVAS_DRAG_WIRE && self->hover_reason != NULL)
    {
      graphene_rect_t reason;
      g_object_unref (reason_layout (self, width, &reason));
      if (any)
        graphene_rect_union (box, &reason, box);
      else
        *box = reason;
      any = TRUE;
    }
  if (!any || !graphene_rect_intersection (box, &all, box))
    return FALSE;
  graphene_rect_round_extents (box, box);
  return box->size.width >= 1 && box->size.height >= 1;
}

static void
weft_graph_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  gboolean split = self->drag == WEFT_CANVAS_DRAG_MOVE_NODES && self->drag_moved;
  WeftCanvasPaintOptions o;
  graphene_rect_t box;

  if (width <= 0 || height <= 0)
    return;
  if (!self->view_ready && self->document != NULL)
    {
      self->view_ready = TRUE;
      place_view (self, self->view_opening);
    }
  weft_canvas_paint_options_init (&o);
  o.view = self->view;
  o.width = width;
  o.height = height;
  o.dark = prefers_dark (self);
  o.port_state = port_state_cb;
  o.port_state_data = self;
  o.hover_node = self->hover_node;
  if (self->drag == WEFT_CANVAS_DRAG_WIRE)
    {
      const WeftCanvasNode *n = weft_canvas_scene_lookup (self->scene, self->drag_node);
      if (n != NULL)
        {
          WeftPoint p = self->wire_from_output ? weft_canvas_output_port (n, self->drag_port)
                                               : weft_canvas_input_port (n, self->drag_port);
          o.drag_wire = TRUE;
          o.drag_from = self->wire_from_output ? p : self->wire_to;
          o.drag_to = self->wire_from_output ? self->wire_to : p;
          o.drag_ok = self->wire_target;
        }
    }
  if (self->drag == WEFT_CANVAS_DRAG_RUBBER_BAND)
    {
      o.rubber_band = TRUE;
      o.band_a = self->band_a;
      o.band_b = self->band_b;
    }

  if (self->document == NULL)
    {
      g_clear_pointer (&self->still, gsk_render_node_unref);
      return;
    }
  if (self->still == NULL || !self->still_valid || self->still_width != width
      || self->still_height != height || self->still_scale != scale || self->still_dark != o.dark
      || self->still_split != split
      || memcmp (&self->still_view, &self->view, sizeof self->view) != 0)
    {
      o.layer = WEFT_CANVAS_LAYER_STILL;
      g_clear_pointer (&self->still, gsk_render_node_unref);
      self->still = paint_node (self, &o, 0, 0, width, height, scale, FALSE);
      self->still_valid = TRUE;
      self->still_view = self->view;
      self->still_width = width;
      self->still_height = height;
      self->still_scale = scale;
      self->still_dark = o.dark;
      self->still_split = split;
    }
  gtk_snapshot_append_node (snapshot, self->still);

  if (moving_layer_box (self, &o, width, height, &box))
    {
      GskRenderNode *moving;
      o.layer = WEFT_CANVAS_LAYER_MOVING;
      moving = paint_node (self, &o, box.origin.x, box.origin.y, box.size.width,
                           box.size.height, scale,
                           self->drag == WEFT_CANVAS_DRAG_WIRE && self->hover_reason != NULL);
      gtk_snapshot_append_node (snapshot, moving);
      gsk_render_node_unref (moving);
    }

  if (!self->first_frame)
    {
      self->first_frame = TRUE;
      self->hook_boxes = TRUE;
      weft_test_hook ("first frame");
    }
  if (self->hook_boxes && self->drag == WEFT_CANVAS_DRAG_NONE)
    hook_print_boxes (self);
}

/* ---- view ---- */

/* Fits the whole graph (opening: at a legible zoom at least, see OPEN_ZOOM), now or, before
 * the widget has a size, at its first frame. */
static void
place_view (WeftGraphCanvas *self, gboolean opening)
{
  WeftRect bounds;
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));

  self->view_opening = opening;
  if (w <= 0 || h <= 0)
    {
      self->view_ready = FALSE;
      return;
    }
  if (!weft_canvas_scene_bounds (self->scene, &bounds))
    weft_canvas_view_init (&self->view);
  else if (opening)
    weft_canvas_view_open (&self->view, &bounds, w, h, FIT_MARGIN, OPEN_ZOOM);
  else
    weft_canvas_view_fit (&self->view, &bounds, w, h, FIT_MARGIN);
  weft_test_hook ("view zoom=%.3f", self->view.zoom);
  self->hook_boxes = TRUE;
  redraw (self);
}

static void
open_view (WeftGraphCanvas *self)
{
  place_view (self, TRUE);
}

void
weft_graph_canvas_fit (WeftGraphCanvas *self)
{
  g_return_if_fail (WEFT_IS_GRAPH_CANVAS (self));
  place_view (self, FALSE);
}

void
weft_graph_canvas_set_view (WeftGraphCanvas *self, const WeftCanvasView *view)
{
  g_return_if_fail (WEFT_IS_GRAPH_CANVAS (self));
  g_return_if_fail (view != NULL);
  self->view = *view;
  self->view.zoom = CLAMP (view->zoom, WEFT_CANVAS_MIN_ZOOM, WEFT_CANVAS_MAX_ZOOM);
  self->view_ready = TRUE;
  self->hook_boxes = TRUE;
  weft_test_hook ("view zoom=%.3f", self->view.zoom);
  redraw (self);
}

WeftPoint
weft_graph_canvas_get_center (WeftGraphCanvas *self)
{
  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), ((WeftPoint) { 0, 0 }));
  return to_graph (self, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                   gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

static void
zoom_at (WeftGraphCanvas *self, double x, double y, double factor)
{
  weft_canvas_view_zoom_at (&self->view, (WeftPoint) { x, y }, factor);
  weft_test_hook ("view zoom=%.3f", self->view.zoom);
  redraw (self);
}

/* ---- commands ---- */

WeftId
weft_graph_canvas_add_at (WeftGraphCanvas *self, const char *type, double x, double y)
{
  g_autoptr (GError) error = NULL;
  WeftId node;
  double left = weft_canvas_snap (x - WEFT_CANVAS_NODE_WIDTH / 2), top = weft_canvas_snap (y - 20);

  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), WEFT_ID_NONE);
  g_return_val_if_fail (type != NULL, WEFT_ID_NONE);
  if (self->document == NULL)
    return WEFT_ID_NONE;
  if (g_str_has_prefix (type, "model:"))
    {
      WeftId model = weft_graph_find (graph_of (self), type + 6);
      node = weft_document_add_model_node (self->document, model, left, top, &error);
    }
  else
    node = weft_document_add_layer (self->document, type, left, top, &error);
  if (node == WEFT_ID_NONE)
    report_error (self, error);
  else
    {
      set_selection (self, &node, 1);
      gtk_widget_grab_focus (GTK_WIDGET (self));
    }
  return node;
}

static GArray *
selected_nodes (WeftGraphCanvas *self)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (WeftId));

  for (guint i = 0; i < self->selection->len; i++)
    {
      WeftId id = g_array_index (self->selection, WeftId, i);
      if (!WEFT_CANVAS_IS_HEAD_ID (id))
        g_array_append_val (ids, id);
    }
  return ids;
}

static void
delete_selection (WeftGraphCanvas *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) nodes = selected_nodes (self);
  g_autoptr (GArray) heads = g_array_new (FALSE, FALSE, sizeof (int));

  if (self->document == NULL)
    return;
  if (self->selected_wire >= 0)
    {
      WeftCanvasWire w = g_array_index (self->scene->wires, WeftCanvasWire, self->selected_wire);
      self->selected_wire = -1;
      if (WEFT_CANVAS_IS_HEAD_ID (w.dst))
        weft_document_remove_head (self->document, WEFT_CANVAS_HEAD_INDEX (w.dst));
      else if (!weft_document_disconnect (self->document, w.dst, w.dst_port, &error))
        report_error (self, error);
      weft_test_hook ("deleted wire");
      return;
    }
  for (guint i = 0; i < self->selection->len; i++)
    {
      WeftId id = g_array_index (self->selection, WeftId, i);
      if (WEFT_CANVAS_IS_HEAD_ID (id))
        {
          int index = WEFT_CANVAS_HEAD_INDEX (id);
          g_array_append_val (heads, index);
        }
    }
  /* heads of deleted nodes disappear with them; remove the others last-first */
  if (heads->len > 0)
    {
      for (guint i = heads->len; i-- > 0;)
        for (guint j = 0; j < i; j++)
          if (g_array_index (heads, int, j) > g_array_index (heads, int, i))
            {
              int t = g_array_index (heads, int, j);
              g_array_index (heads, int, j) = g_array_index (heads, int, i);
              g_array_index (heads, int, i) = t;
            }
      for (guint i = heads->len; i-- > 0;)
        weft_document_remove_head (self->document, g_array_index (heads, int, i));
    }
  if (nodes->len > 0)
    {
      if (!weft_document_remove_nodes (self->document, (WeftId *) (void *) nodes->data,
                                       nodes->len, &error))
        report_error (self, error);
      else
        weft_test_hook ("deleted %u", nodes->len);
    }
  set_selection (self, NULL, 0);
}

/* Copies the selected nodes, their layers' settings and the wires among them to the system
 * clipboard as a .weft document (application/x-weft and text/plain), without weights. */
static void
copy_selection (WeftGraphCanvas *self)
{
  g_autoptr (GArray) nodes = selected_nodes (self);
  g_autoptr (WeftDocument) clip = NULL;
  g_autoptr (GArray) copied = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  GdkContentProvider *providers[2];
  g_autoptr (GdkContentProvider) provider = NULL;
  char *json;

  if (self->document == NULL || nodes->len == 0)
    return;
  clip = weft_document_new ();
  copied = weft_document_paste (clip, graph_of (self), (const WeftId *) (void *) nodes->data,
                                nodes->len, 0, 0, FALSE, &error);
  if (copied == NULL)
    {
      report_error (self, error);
      return;
    }
  json = weft_file_to_json (weft_document_get_graph (clip), NULL, NULL, NULL);
  bytes = g_bytes_new_take (json, strlen (json));
  providers[0] = gdk_content_provider_new_for_bytes (WEFT_CLIPBOARD_MIME, bytes);
  providers[1] = gdk_content_provider_new_for_bytes ("text/plain;charset=utf-8", bytes);
  provider = gdk_content_provider_new_union (providers, 2);
  gdk_clipboard_set_content (gtk_widget_get_clipboard (GTK_WIDGET (self)), provider);
  update_actions (self);
  weft_test_hook ("copied %u", nodes->len);
}

static void paste_nodes (WeftGraphCanvas *self, WeftGraph *source, const GArray *nodes,
                         gboolean duplicate);

static void
paste_read_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (WeftGraphCanvas) self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_autoptr (GArray) nodes = NULL;
  WeftGraph *graph;
  WeftId main_model;

  if (self->document == NULL)
    return;
  if (text == NULL)
    {
      g_autoptr (GError) shown = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                      _("The clipboard is empty"));
      report_error (self, shown);
      return;
    }
  graph = weft_file_load_data (text, strlen (text), NULL, NULL, &error);
  if (graph == NULL)
    {
      g_autoptr (GError) shown = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                              _("The clipboard holds no Weft graph: %s"),
                                              error->message);
      report_error (self, shown);
      return;
    }
  main_model = weft_graph_get_main_model (graph);
  nodes = g_array_new (FALSE, FALSE, sizeof (WeftId));
  for (int i = 0; i < weft_graph_model_n_nodes (graph, main_model); i++)
    {
      WeftId id = weft_graph_model_node_at (graph, main_model, i);
      g_array_append_val (nodes, id);
    }
  paste_nodes (self, graph, nodes, FALSE);
  weft_graph_free (graph);
}

static void
paste_clipboard (WeftGraphCanvas *self)
{
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (self)), NULL,
                                 paste_read_cb, g_object_ref (self));
}

static void
paste_nodes (WeftGraphCanvas *self, WeftGraph *source, const GArray *nodes, gboolean duplicate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) created = NULL;
  double dx = PASTE_OFFSET, dy = PASTE_OFFSET;

  if (self->document == NULL || nodes == NULL || nodes->len == 0)
    return;
  if (!duplicate && self->pointer_inside)
    {
      /* paste under the pointer */
      WeftPoint at = to_graph (self, self->pointer.x, self->pointer.y);
      double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE;
      for (guint i = 0; i < nodes->len; i++)
        {
          double x, y;
          if (weft_graph_kind (source, g_array_index (nodes, WeftId, i)) != WEFT_KIND_NODE)
            continue;
          weft_graph_node_get_position (source, g_array_index (nodes, WeftId, i), &x, &y);
          x0 = MIN (x0, x);
          y0 = MIN (y0, y);
        }
      if (x0 < G_MAXDOUBLE)
        {
          dx = weft_canvas_snap (at.x - x0);
          dy = weft_canvas_snap (at.y - y0);
        }
    }
  created = weft_document_paste (self->document, source, (const WeftId *) (void *) nodes->data,
                                 nodes->len, dx, dy, duplicate, &error);
  if (created == NULL)
    {
      report_error (self, error);
      return;
    }
  weft_test_hook ("%s %u", duplicate ? "duplicated" : "pasted", created->len);
  set_selection (self, (WeftId *) (void *) created->data, created->len);
}

/* Keyboard selection: the next or previous box in reading order (rows of boxes top to
 * bottom, left to right), so that every node and head is reachable without a pointer. */
static int
reading_order (gconstpointer a, gconstpointer b)
{
  const WeftCanvasNode *x = *(const WeftCanvasNode **) a, *y = *(const WeftCanvasNode **) b;

  if (fabs (x->x - y->x) > WEFT_CANVAS_GRID)
    return x->x < y->x ? -1 : 1;
  if (x->y != y->y)
    return x->y < y->y ? -1 : 1;
  return 0;
}

static void
select_step (WeftGraphCanvas *self, int step)
{
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  WeftId current = self->selection->len > 0
                   ? g_array_index (self->selection, WeftId, self->selection->len - 1)
                   : WEFT_ID_NONE;
  int at = -1, n;
  const WeftCanvasNode *next;

  for (guint i = 0; i < self->scene->nodes->len; i++)
    g_ptr_array_add (order, &g_array_index (self->scene->nodes, WeftCanvasNode, i));
  if (order->len == 0)
    return;
  g_ptr_array_sort (order, reading_order);
  n = order->len;
  for (int i = 0; i < n; i++)
    if (((const WeftCanvasNode *) g_ptr_array_index (order, i))->id == current)
      at = i;
  at = at < 0 ? (step > 0 ? 0 : n - 1) : ((at + step) % n + n) % n;
  next = g_ptr_array_index (order, at);
  set_selection (self, &next->id, 1);
  /* keep it in view */
  {
    WeftPoint a = weft_canvas_view_to_screen (&self->view, (WeftPoint) { next->x, next->y });
    WeftPoint b = weft_canvas_view_to_screen (&self->view, (WeftPoint) { next->x + next->width,
                                                                         next->y + next->height });
    int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
    if (w > 0 && h > 0 && (a.x < 0 || a.y < 0 || b.x > w || b.y > h))
      {
        weft_canvas_view_pan (&self->view, w / 2.0 - (a.x + b.x) / 2, h / 2.0 - (a.y + b.y) / 2);
        redraw (self);
      }
  }
}

static void
action_cb (GtkWidget *widget, const char *action, GVariant *param)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (widget);
  g_autoptr (GError) error = NULL;
  WeftId node = weft_graph_canvas_get_focus_node (self);

  if (self->document == NULL)
    return;
  if (g_str_equal (action, "graph.delete"))
    delete_selection (self);
  else if (g_str_equal (action, "graph.copy"))
    copy_selection (self);
  else if (g_str_equal (action, "graph.cut"))
    {
      copy_selection (self);
      delete_selection (self);
    }
  else if (g_str_equal (action, "graph.paste"))
    paste_clipboard (self);
  else if (g_str_equal (action, "graph.duplicate"))
    {
      g_autoptr (GArray) nodes = selected_nodes (self);
      paste_nodes (self, graph_of (self), nodes, TRUE);
    }
  else if (g_str_equal (action, "graph.call-again") && node != WEFT_ID_NONE)
    {
      const WeftCanvasNode *n = weft_canvas_scene_lookup (self->scene, node);
      WeftId again = weft_document_call_again (self->document, node, n->x,
                                               weft_canvas_snap (n->y + n->height + 40), &error);
      if (again == WEFT_ID_NONE)
        report_error (self, error);
      else
        {
          weft_test_hook ("called again %d as %d", node, again);
          set_selection (self, &again, 1);
        }
    }
  else if (g_str_equal (action, "graph.group"))
    {
      g_autoptr (GArray) nodes = selected_nodes (self);
      WeftId call = weft_document_group (self->document, (WeftId *) (void *) nodes->data,
                                         nodes->len, &error);
      if (call == WEFT_ID_NONE)
        report_error (self, error);
      else
        {
          weft_test_hook ("grouped %u into %d", nodes->len, call);
          set_selection (self, &call, 1);
        }
    }
  else if (g_str_equal (action, "graph.ungroup") && node != WEFT_ID_NONE)
    {
      if (!weft_document_ungroup (self->document, node, &error))
        report_error (self, error);
    }
  else if (g_str_equal (action, "graph.open-model") && node != WEFT_ID_NONE)
    {
      WeftId callee = weft_graph_node_callee (graph_of (self), node);
      if (weft_graph_kind (graph_of (self), callee) == WEFT_KIND_MODEL)
        {
          set_selection (self, NULL, 0);
          weft_document_set_model (self->document, callee);
          open_view (self);
        }
    }
  else if (g_str_equal (action, "graph.close-model"))
    {
      set_selection (self, NULL, 0);
      weft_document_set_model (self->document, weft_graph_get_main_model (graph_of (self)));
      open_view (self);
    }
  else if (g_str_equal (action, "graph.add-head") && node != WEFT_ID_NONE)
    {
      if (!weft_document_add_head (self->document, node, 0, &error))
        report_error (self, error);
      else
        weft_test_hook ("head added");
    }
  else if (g_str_equal (action, "graph.fit"))
    weft_graph_canvas_fit (self);
  else if (g_str_equal (action, "graph.tidy"))
    {
      weft_document_tidy (self->document);
      weft_graph_canvas_fit (self);
    }
  else if (g_str_equal (action, "graph.select-all"))
    {
      g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (WeftId));
      for (guint i = 0; i < self->scene->nodes->len; i++)
        g_array_append_val (all, g_array_index (self->scene->nodes, WeftCanvasNode, i).id);
      set_selection (self, (WeftId *) (void *) all->data, all->len);
    }
  else if (g_str_equal (action, "graph.zoom-in"))
    zoom_at (self, gtk_widget_get_width (widget) / 2.0, gtk_widget_get_height (widget) / 2.0, 1.25);
  else if (g_str_equal (action, "graph.zoom-out"))
    zoom_at (self, gtk_widget_get_width (widget) / 2.0, gtk_widget_get_height (widget) / 2.0, 0.8);
  else if (g_str_equal (action, "graph.zoom-reset"))
    zoom_at (self, gtk_widget_get_width (widget) / 2.0, gtk_widget_get_height (widget) / 2.0,
             1.0 / self->view.zoom);
  else if (g_str_equal (action, "graph.quick-add"))
    {
      WeftPoint at = self->pointer_inside ? to_graph (self, self->pointer.x, self->pointer.y)
                                          : weft_graph_canvas_get_center (self);
      WeftPoint screen = weft_canvas_view_to_screen (&self->view, at);
      self->quick_add_at = at;
      gtk_popover_set_pointing_to (GTK_POPOVER (self->quick_add),
                                   &(GdkRectangle) { (int) screen.x, (int) screen.y, 1, 1 });
      gtk_editable_set_text (GTK_EDITABLE (self->quick_entry), "");
      gtk_popover_popup (GTK_POPOVER (self->quick_add));
      gtk_widget_grab_focus (self->quick_entry);
      weft_test_hook ("quick-add open");
    }
  else if (g_str_equal (action, "graph.unselect"))
    set_selection (self, NULL, 0);
  else if (g_str_equal (action, "graph.select-next") || g_str_equal (action, "graph.select-previous"))
    select_step (self, g_str_equal (action, "graph.select-next") ? 1 : -1);
}

/* ---- quick add ---- */

static gboolean
quick_filter (GtkListBoxRow *row, gpointer data)
{
  WeftGraphCanvas *self = data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->quick_entry));
  const char *name = g_object_get_data (G_OBJECT (row), "weft-type");
  g_autofree char *a = NULL, *b = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;
  a = g_utf8_casefold (name, -1);
  b = g_utf8_casefold (text, -1);
  return strstr (a, b) != NULL;
}

static void
quick_add_row (WeftGraphCanvas *self, GtkListBoxRow *row)
{
  const char *type = g_object_get_data (G_OBJECT (row), "weft-type");

  gboolean wire = self->pending_wire;
  WeftId added;

  self->pending_wire = FALSE;   /* popdown below emits "closed" */
  gtk_popover_popdown (GTK_POPOVER (self->quick_add));
  /* a node fed by the wire starts right of where it was dropped, a feeding one ends there */
  added = weft_graph_canvas_add_at (self, type,
                                    self->quick_add_at.x + (!wire ? 0
                                                            : self->pending_from_output
                                                                ? WEFT_CANVAS_NODE_WIDTH / 2
                                                                : -WEFT_CANVAS_NODE_WIDTH / 2),
                                    self->quick_add_at.y + 20);
  if (wire && added != WEFT_ID_NONE
      && weft_graph_kind (graph_of (self), self->pending_node) == WEFT_KIND_NODE)
    {
      g_autoptr (GError) error = NULL;
      WeftId src = self->pending_from_output ? self->pending_node : added;
      int src_port = self->pending_from_output ? self->pending_port : 0;
      WeftId dst = self->pending_from_output ? added : self->pending_node;
      int dst_port = self->pending_from_output ? 0 : self->pending_port;

      if (weft_document_connect (self->document, src, src_port, dst, dst_port, &error))
        weft_test_hook ("connected %d:%d -> %d:%d", src, src_port, dst, dst_port);
      else
        report_error (self, error);
    }
}

static void
quick_closed_cb (WeftGraphCanvas *self)
{
  self->pending_wire = FALSE;
}

static void
quick_row_activated_cb (GtkListBox *box, GtkListBoxRow *row, WeftGraphCanvas *self)
{
  quick_add_row (self, row);
}

static void
quick_search_changed_cb (WeftGraphCanvas *self)
{
  gtk_list_box_invalidate_filter (GTK_LIST_BOX (self->quick_list));
}

static void
quick_activate_cb (WeftGraphCanvas *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (self->quick_list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_BOX_ROW (child) && gtk_widget_get_child_visible (child))
      {
        quick_add_row (self, GTK_LIST_BOX_ROW (child));
        return;
      }
}

static void
build_quick_add (WeftGraphCanvas *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->quick_add = gtk_popover_new ();
  gtk_widget_set_parent (self->quick_add, GTK_WIDGET (self));
  self->quick_entry = gtk_search_entry_new ();
  g_object_set (self->quick_entry, "placeholder-text", _("Add layer…"), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->quick_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Search layer types"), -1);
  self->quick_list = gtk_list_box_new ();
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->quick_list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Layer types"), -1);
  for (int i = 0; i < weft_op_count (); i++)
    {
      const WeftOpDesc *op = weft_op_get (i);
      GtkWidget *label = gtk_label_new (op->name);
      GtkWidget *row = gtk_list_box_row_new ();
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_margin_start (label, 6);
      gtk_widget_set_margin_end (label, 6);
      gtk_widget_set_margin_top (label, 3);
      gtk_widget_set_margin_bottom (label, 3);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
      g_object_set_data_full (G_OBJECT (row), "weft-type", g_strdup (op->name), g_free);
      if (op->help != NULL)
        gtk_widget_set_tooltip_text (row, g_dgettext (GETTEXT_PACKAGE, op->help));
      gtk_list_box_append (GTK_LIST_BOX (self->quick_list), row);
    }
  gtk_list_box_set_filter_func (GTK_LIST_BOX (self->quick_list), quick_filter, self, NULL);
  g_signal_connect (self->quick_list, "row-activated", G_CALLBACK (quick_row_activated_cb), self);
  g_signal_connect_swapped (self->quick_entry, "search-changed",
                            G_CALLBACK (quick_search_changed_cb), self);
  g_signal_connect_swapped (self->quick_entry, "activate", G_CALLBACK (quick_activate_cb), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->quick_list);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 240);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_box_append (GTK_BOX (box), self->quick_entry);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_popover_set_child (GTK_POPOVER (self->quick_add), box);
  g_signal_connect_swapped (self->quick_add, "closed", G_CALLBACK (quick_closed_cb), self);
}

/* ---- pointer ---- */

static void
compute_port_reasons (WeftGraphCanvas *self)
{
  WeftGraph *g = graph_of (self);

  g_hash_table_remove_all (self->port_reasons);
  for (guint i = 0; i < self->scene->nodes->len; i++)
    {
      const WeftCanvasNode *n = &g_array_index (self->scene->nodes, WeftCanvasNode, i);
      if (self->wire_from_output)
        for (int port = 0; port < n->n_inputs; port++)
          {
            WeftError e = { 0 };
            char *reason = NULL;
            gint64 *key = g_new (gint64, 1);
            *key = port_key (n->id, port, TRUE);
            if (WEFT_CANVAS_IS_HEAD_ID (n->id))
              reason = NULL;
            else if (!weft_graph_can_connect (g, self->drag_node, self->drag_port, n->id, port, &e))
              reason = g_strdup (e.message[0] ? e.message : weft_document_describe_status (e.code));
            g_hash_table_insert (self->port_reasons, key, reason);
          }
      else
        for (int port = 0; port < n->n_outputs; port++)
          {
            WeftError e = { 0 };
            char *reason = NULL;
            gint64 *key = g_new (gint64, 1);
            *key = port_key (n->id, port, FALSE);
            if (!WEFT_CANVAS_IS_HEAD_ID (self->drag_node)
                && !weft_graph_can_connect (g, n->id, port, self->drag_node, self->drag_port, &e))
              reason = g_strdup (e.message[0] ? e.message : weft_document_describe_status (e.code));
            g_hash_table_insert (self->port_reasons, key, reason);
          }
    }
}

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, WeftGraphCanvas *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  gboolean extend = (mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;
  WeftPoint p = to_graph (self, x, y);
  WeftCanvasHit hit;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->drag_start = (WeftPoint) { x, y };
  self->drag_view = self->view;
  self->drag_moved = FALSE;
  self->drag_toggle = FALSE;
  self->drag = WEFT_CANVAS_DRAG_NONE;
  if (self->document == NULL)
    return;

  if (button == GDK_BUTTON_MIDDLE || (button == GDK_BUTTON_PRIMARY && self->space_down))
    {
      self->drag = WEFT_CANVAS_DRAG_PAN;
      return;
    }
  if (button != GDK_BUTTON_PRIMARY)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }

  hit = weft_canvas_scene_hit (self->scene, p, WEFT_CANVAS_HIT_TOLERANCE / self->view.zoom);
  switch (hit.kind)
    {
    case WEFT_CANVAS_HIT_OUTPUT_PORT:
    case WEFT_CANVAS_HIT_INPUT_PORT:
      self->drag = WEFT_CANVAS_DRAG_WIRE;
      self->wire_from_output = hit.kind == WEFT_CANVAS_HIT_OUTPUT_PORT;
      self->drag_node = hit.node;
      self->drag_port = hit.port;
      self->wire_to = p;
      self->wire_target = FALSE;
      compute_port_reasons (self);
      self->still_valid = FALSE;
      weft_test_hook ("wire-begin %d:%d", hit.node, hit.port);
      break;
    case WEFT_CANVAS_HIT_NODE:
      if (!is_selected (self, hit.node))
        {
          if (extend)
            {
              g_array_append_val (self->selection, hit.node);
              self->selected_wire = -1;
              selection_changed (self);
            }
          else
            set_selection (self, &hit.node, 1);
        }
      else if (extend)
        self->drag_toggle = TRUE;
      self->drag = WEFT_CANVAS_DRAG_MOVE_NODES;
      self->drag_node = hit.node;
      g_array_set_size (self->move_ids, 0);
      g_array_set_size (self->move_origins, 0);
      for (guint i = 0; i < self->selection->len; i++)
        {
          WeftId id = g_array_index (self->selection, WeftId, i);
          const WeftCanvasNode *n = weft_canvas_scene_lookup (self->scene, id);
          WeftPoint origin;
          if (n == NULL)
            continue;
          origin = (WeftPoint) { n->x, n->y };
          g_array_append_val (self->move_ids, id);
          g_array_append_val (self->move_origins, origin);
        }
      self->move_dx = self->move_dy = 0;
      break;
    case WEFT_CANVAS_HIT_WIRE:
      g_array_set_size (self->selection, 0);
      self->selected_wire = hit.wire;
      selection_changed (self);
      weft_test_hook ("wire selected %d", hit.wire);
      break;
    case WEFT_CANVAS_HIT_NONE:
      self->drag = WEFT_CANVAS_DRAG_RUBBER_BAND;
      self->band_a = self->band_b = p;
      if (!extend && (self->selection->len > 0 || self->selected_wire >= 0))
        set_selection (self, NULL, 0);
      break;
    }
}

static void
drag_update_cb (GtkGestureDrag *gesture, double ox, double oy, WeftGraphCanvas *self)
{
  WeftPoint p = to_graph (self, self->drag_start.x + ox, self->drag_start.y + oy);

  if (fabs (ox) > CLICK_SLOP || fabs (oy) > CLICK_SLOP)
    self->drag_moved = TRUE;
  self->pointer = (WeftPoint) { self->drag_start.x + ox, self->drag_start.y + oy };

  switch (self->drag)
    {
    case WEFT_CANVAS_DRAG_PAN:
      self->view.offset_x = self->drag_view.offset_x + ox;
      self->view.offset_y = self->drag_view.offset_y + oy;
      break;
    case WEFT_CANVAS_DRAG_MOVE_NODES:
      if (!self->drag_moved || self->move_ids->len == 0)
        return;
      {
        /* snap the grabbed node to the grid; the others keep their offsets */
        const WeftCanvasNode *anchor = weft_canvas_scene_lookup (self->scene, self->drag_node);
        WeftPoint o0 = g_array_index (self->move_origins, WeftPoint, 0);
        for (guint i = 0; i < self->move_ids->len; i++)
          if (g_array_index (self->move_ids, WeftId, i) == self->drag_node)
            o0 = g_array_index (self->move_origins, WeftPoint, i);
        (void) anchor;
        self->move_dx = weft_canvas_snap (o0.x + ox / self->view.zoom) - o0.x;
        self->move_dy = weft_canvas_snap (o0.y + oy / self->view.zoom) - o0.y;
        /* only the moved boxes change; nothing is analysed again until the drop */
        for (guint i = 0; i < self->move_ids->len; i++)
          {
            WeftCanvasNode *n = weft_canvas_scene_lookup (self->scene,
                                                          g_array_index (self->move_ids, WeftId, i));
            WeftPoint o = g_array_index (self->move_origins, WeftPoint, i);
            if (n == NULL)
              continue;
            n->x = o.x + self->move_dx;
            n->y = o.y + self->move_dy;
            n->moving = TRUE;
          }
      }
      break;
    case WEFT_CANVAS_DRAG_WIRE:
      {
        WeftCanvasHit hit = weft_canvas_scene_hit (self->scene, p,
                                                   WEFT_CANVAS_HIT_TOLERANCE * 2 / self->view.zoom);
        WeftCanvasHitKind wanted = self->wire_from_output ? WEFT_CANVAS_HIT_INPUT_PORT
                                                          : WEFT_CANVAS_HIT_OUTPUT_PORT;
        gint64 key;
        gpointer reason = NULL;
        gboolean known = FALSE;
        gboolean had_target = self->wire_target;
        WeftId old_node = self->target_node;
        int old_port = self->target_port;

        self->wire_to = p;
        self->wire_target = FALSE;
        g_clear_pointer (&self->hover_reason, g_free);
        if (hit.kind == wanted)
          {
            key = port_key (hit.node, hit.port, self->wire_from_output);
            known = g_hash_table_lookup_extended (self->port_reasons, &key, NULL, &reason);
          }
        if (known && reason == NULL)
          {
            const WeftCanvasNode *n = weft_canvas_scene_lookup (self->scene, hit.node);
            self->wire_target = TRUE;
            self->target_node = hit.node;
            self->target_port = hit.port;
            self->wire_to = self->wire_from_output ? weft_canvas_input_port (n, hit.port)
                                                   : weft_canvas_output_port (n, hit.port);
          }
        else if (known)
          self->hover_reason = g_strdup (reason);
        /* the target port is highlighted on the still layer */
        if (had_target != self->wire_target
            || (self->wire_target && (old_node != self->target_node || old_port != self->target_port)))
          self->still_valid = FALSE;
      }
      break;
    case WEFT_CANVAS_DRAG_RUBBER_BAND:
      self->band_b = p;
      break;
    case WEFT_CANVAS_DRAG_NONE:
      return;
    }
  /* moving boxes, the wire's end and the band are painted on the moving layer: the still
   * one stays (a pan changes the view, which repaints it anyway) */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
finish_wire (WeftGraphCanvas *self)
{
  g_autoptr (GError) error = NULL;
  WeftId src = self->wire_from_output ? self->drag_node : self->target_node;
  int src_port = self->wire_from_output ? self->drag_port : self->target_port;
  WeftId dst = self->wire_from_output ? self->target_node : self->drag_node;
  int dst_port = self->wire_from_output ? self->target_port : self->drag_port;
  gboolean ok;

  if (!self->wire_target)
    {
      WeftCanvasHit hit = weft_canvas_scene_hit (self->scene, self->wire_to,
                                                 WEFT_CANVAS_HIT_TOLERANCE / self->view.zoom);
      if (self->hover_reason != NULL)
        {
          g_autoptr (GError) refused = g_error_new_literal (WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                                                            self->hover_reason);
          report_error (self, refused);
        }
      else if (hit.kind == WEFT_CANVAS_HIT_NONE && !WEFT_CANVAS_IS_HEAD_ID (self->drag_node))
        {
          /* dropped on empty canvas: offer a new layer there, wired to the dragged port */
          self->pending_wire = TRUE;
          self->pending_from_output = self->wire_from_output;
          self->pending_node = self->drag_node;
          self->pending_port = self->drag_port;
          self->pointer = weft_canvas_view_to_screen (&self->view, self->wire_to);
          self->pointer_inside = TRUE;
          gtk_widget_activate_action (GTK_WIDGET (self), "graph.quick-add", NULL);
          weft_test_hook ("wire dropped on empty canvas");
        }
      return;
    }
  if (WEFT_CANVAS_IS_HEAD_ID (dst))
    {
      WeftHead head = *weft_graph_model_output (graph_of (self), model_of (self),
                                                WEFT_CANVAS_HEAD_INDEX (dst));
      head.node = src;
      head.port = src_port;
      ok = weft_document_set_head (self->document, WEFT_CANVAS_HEAD_INDEX (dst), &head,
                                   _("Connect"), &error);
    }
  else
    ok = weft_document_connect (self->document, src, src_port, dst, dst_port, &error);
  if (ok)
    weft_test_hook ("connected %d:%d -> %d:%d", src, src_port, dst, dst_port);
  else
    report_error (self, error);
}

static void
drag_end_cb (GtkGestureDrag *gesture, double ox, double oy, WeftGraphCanvas *self)
{
  WeftCanvasDragState state = self->drag;

  self->drag = WEFT_CANVAS_DRAG_NONE;
  for (guint i = 0; i < self->scene->nodes->len; i++)
    g_array_index (self->scene->nodes, WeftCanvasNode, i).moving = FALSE;
  self->still_valid = FALSE;
  switch (state)
    {
    case WEFT_CANVAS_DRAG_MOVE_NODES:
      if (self->drag_moved && (self->move_dx != 0 || self->move_dy != 0))
        {
          WeftId *ids = (WeftId *) (void *) self->move_ids->data;
          weft_document_move_nodes (self->document, ids, self->move_ids->len,
                                    self->move_dx, self->move_dy);
          weft_test_hook ("moved %u by %.0f %.0f", self->move_ids->len, self->move_dx,
                          self->move_dy);
        }
      else if (self->drag_moved)
        rebuild (self);
      else if (self->drag_toggle)
        {
          for (guint i = 0; i < self->selection->len; i++)
            if (g_array_index (self->selection, WeftId, i) == self->drag_node)
              {
                g_array_remove_index (self->selection, i);
                break;
              }
          selection_changed (self);
        }
      break;
    case WEFT_CANVAS_DRAG_WIRE:
      finish_wire (self);
      g_hash_table_remove_all (self->port_reasons);
      g_clear_pointer (&self->hover_reason, g_free);
      break;
    case WEFT_CANVAS_DRAG_RUBBER_BAND:
      if (self->drag_moved)
        {
          g_autoptr (GArray) ids = weft_canvas_scene_rubber_band (self->scene, self->band_a,
                                                                  self->band_b);
          for (guint i = 0; i < ids->len; i++)
            if (!is_selected (self, g_array_index (ids, WeftId, i)))
              g_array_append_val (self->selection, g_array_index (ids, WeftId, i));
          selection_changed (self);
        }
      break;
    case WEFT_CANVAS_DRAG_PAN:
    case WEFT_CANVAS_DRAG_NONE:
      break;
    }
  redraw (self);
}

static void
pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, WeftGraphCanvas *self)
{
  WeftCanvasHit hit;

  if (n_press != 2 || self->document == NULL)
    return;
  hit = weft_canvas_scene_hit (self->scene, to_graph (self, x, y),
                               WEFT_CANVAS_HIT_TOLERANCE / self->view.zoom);
  if (hit.kind == WEFT_CANVAS_HIT_NONE)
    {
      self->pointer = (WeftPoint) { x, y };
      self->pointer_inside = TRUE;
      gtk_widget_activate_action (GTK_WIDGET (self), "graph.quick-add", NULL);
    }
  else if (hit.kind == WEFT_CANVAS_HIT_NODE && !WEFT_CANVAS_IS_HEAD_ID (hit.node))
    {
      WeftId callee = weft_graph_node_callee (graph_of (self), hit.node);
      if (weft_graph_kind (graph_of (self), callee) == WEFT_KIND_MODEL)
        gtk_widget_activate_action (GTK_WIDGET (self), "graph.open-model", NULL);
      else
        g_signal_emit (self, signals[NODE_ACTIVATED], 0, hit.node);
    }
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, WeftGraphCanvas *self)
{
  WeftCanvasHit hit;
  WeftId hover;

  self->pointer = (WeftPoint) { x, y };
  self->pointer_inside = TRUE;
  if (self->drag != WEFT_CANVAS_DRAG_NONE)
    return;
  hit = weft_canvas_scene_hit (self->scene, to_graph (self, x, y),
                               WEFT_CANVAS_HIT_TOLERANCE / self->view.zoom);
  hover = hit.kind == WEFT_CANVAS_HIT_NODE ? hit.node : WEFT_ID_NONE;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                   hit.kind == WEFT_CANVAS_HIT_INPUT_PORT
                                   || hit.kind == WEFT_CANVAS_HIT_OUTPUT_PORT ? "crosshair"
                                   : hit.kind == WEFT_CANVAS_HIT_NODE ? "grab"
                                   : hit.kind == WEFT_CANVAS_HIT_WIRE ? "pointer" : "default");
  if (hover != self->hover_node)
    {
      self->hover_node = hover;
      redraw (self);
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, WeftGraphCanvas *self)
{
  self->pointer_inside = FALSE;
  if (self->hover_node != WEFT_ID_NONE)
    {
      self->hover_node = WEFT_ID_NONE;
      redraw (self);
    }
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, WeftGraphCanvas *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));

  if (mods & GDK_CONTROL_MASK)
    zoom_at (self, self->pointer.x, self->pointer.y, pow (1.15, -dy));
  else
    {
      if (mods & GDK_SHIFT_MASK)
        dx = dy, dy = 0;
      weft_canvas_view_pan (&self->view, -dx * 40, -dy * 40);
      redraw (self);
    }
  return TRUE;
}

static void
zoom_begin_cb (GtkGesture *gesture, GdkEventSequence *sequence, WeftGraphCanvas *self)
{
  self->pinch_zoom = self->view.zoom;
}

static void
zoom_scale_cb (GtkGestureZoom *gesture, double scale, WeftGraphCanvas *self)
{
  double cx, cy;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    return;
  zoom_at (self, cx, cy, self->pinch_zoom * scale / self->view.zoom);
}

static gboolean
key_pressed_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
                WeftGraphCanvas *self)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_down = TRUE;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grab");
      return TRUE;
    }
  return FALSE;
}

static void
key_released_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
                 WeftGraphCanvas *self)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_down = FALSE;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "default");
    }
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  WeftGraphCanvas *self)
{
  WeftGraph *g = graph_of (self);
  WeftCanvasHit hit;
  g_autofree char *text = NULL;

  if (g == NULL || self->drag != WEFT_CANVAS_DRAG_NONE)
    return FALSE;
  hit = weft_canvas_scene_hit (self->scene, to_graph (self, x, y),
                               WEFT_CANVAS_HIT_TOLERANCE / self->view.zoom);
  if (hit.kind == WEFT_CANVAS_HIT_NODE && WEFT_CANVAS_IS_HEAD_ID (hit.node))
    {
      int index = WEFT_CANVAS_HEAD_INDEX (hit.node);
      const WeftHead *head = weft_graph_model_output (g, model_of (self), index);
      if (head->loss == WEFT_LOSS_NONE && model_of (self) == weft_graph_get_main_model (g))
        text = g_strdup_printf (_("Head “%s” has no loss: choose one in the inspector"),
                                weft_graph_model_output_name (g, model_of (self), index));
      else
        text = g_strdup_printf (_("Head “%s”"), weft_graph_model_output_name (g, model_of (self), index));
    }
  else if (hit.kind == WEFT_CANVAS_HIT_NODE)
    {
      const WeftDiagnostic *diag = weft_graph_node_diagnostic (g, hit.node);
      WeftId callee = weft_graph_node_callee (g, hit.node);
      const WeftOpDesc *op = weft_graph_layer_op (g, callee);
      if (diag != NULL)
        text = g_strdup_printf ("%s\n%s", weft_document_describe_status (diag->code), diag->message);
      else if (op != NULL && op->help != NULL)
        text = g_strdup_printf ("%s — %s", op->name, g_dgettext (GETTEXT_PACKAGE, op->help));
    }
  else if (hit.kind == WEFT_CANVAS_HIT_INPUT_PORT && !WEFT_CANVAS_IS_HEAD_ID (hit.node))
    {
      WeftId src;
      int sp;
      if (weft_graph_node_input (g, hit.node, hit.port, &src, &sp))
        text = g_strdup_printf (_("Input %d, from %s"), hit.port + 1, weft_graph_get_name (g, weft_graph_node_callee (g, src)));
      else
        text = g_strdup_printf (_("Input %d: drag from an output to connect"), hit.port + 1);
    }
  else if (hit.kind == WEFT_CANVAS_HIT_OUTPUT_PORT)
    text = g_strdup (_("Output: drag to an input to connect"));
  else if (hit.kind == WEFT_CANVAS_HIT_WIRE)
    text = g_strdup (_("Wire: click to select, Delete to remove"));
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, WeftGraphCanvas *self)
{
  const char *type;
  WeftPoint p = to_graph (self, x, y);
  WeftId node;

  if (!G_VALUE_HOLDS_STRING (value) || (type = g_value_get_string (value)) == NULL)
    return FALSE;
  if (g_str_equal (type, "head"))
    {
      g_autoptr (GError) error = NULL;
      WeftCanvasHit hit = weft_canvas_scene_hit (self->scene, p, WEFT_CANVAS_HIT_TOLERANCE / self->view.zoom);
      if (self->document == NULL || hit.node == WEFT_ID_NONE || WEFT_CANVAS_IS_HEAD_ID (hit.node))
        {
          error = g_error_new_literal (WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                                       _("Drop the head onto the node whose output it reads"));
          report_error (self, error);
          return FALSE;
        }
      if (!weft_document_add_head (self->document, hit.node, 0, &error))
        {
          report_error (self, error);
          return FALSE;
        }
      weft_test_hook ("drop head on %d", hit.node);
      return TRUE;
    }
  node = weft_graph_canvas_add_at (self, type, p.x, p.y);
  weft_test_hook ("drop %s id=%d x=%.0f y=%.0f", type, node, x, y);
  return node != WEFT_ID_NONE;
}

static GdkDragAction
drop_enter_cb (GtkDropTarget *target, double x, double y, WeftGraphCanvas *self)
{
  weft_test_hook ("drop-enter");
  return GDK_ACTION_COPY;
}

/* ---- GObject ---- */

static void
weft_graph_canvas_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (widget);

  gtk_popover_present (GTK_POPOVER (self->quick_add));
}

static void
weft_graph_canvas_dispose (GObject *object)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (object);

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_pointer (&self->quick_add, gtk_widget_unparent);
  G_OBJECT_CLASS (weft_graph_canvas_parent_class)->dispose (object);
}

static void
weft_graph_canvas_finalize (GObject *object)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (object);

  weft_canvas_scene_free (self->scene);
  g_array_unref (self->selection);
  g_array_unref (self->move_ids);
  g_array_unref (self->move_origins);
  g_hash_table_unref (self->port_reasons);
  g_free (self->hover_reason);
  g_clear_pointer (&self->still, gsk_render_node_unref);
  G_OBJECT_CLASS (weft_graph_canvas_parent_class)->finalize (object);
}

static void
weft_graph_canvas_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT: g_value_set_object (value, self->document); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_graph_canvas_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  WeftGraphCanvas *self = WEFT_GRAPH_CANVAS (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT: weft_graph_canvas_set_document (self, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_graph_canvas_class_init (WeftGraphCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char *const actions[] = {
    "graph.delete", "graph.copy", "graph.cut", "graph.paste", "graph.duplicate",
    "graph.call-again", "graph.group", "graph.ungroup", "graph.open-model", "graph.close-model",
    "graph.add-head", "graph.fit", "graph.tidy", "graph.select-all", "graph.zoom-in",
    "graph.zoom-out", "graph.zoom-reset", "graph.quick-add", "graph.unselect",
    "graph.select-next", "graph.select-previous",
  };

  object_class->dispose = weft_graph_canvas_dispose;
  object_class->finalize = weft_graph_canvas_finalize;
  object_class->get_property = weft_graph_canvas_get_property;
  object_class->set_property = weft_graph_canvas_set_property;
  widget_class->snapshot = weft_graph_canvas_snapshot;
  widget_class->size_allocate = weft_graph_canvas_size_allocate;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, WEFT_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 0);
  /* A double-click on a layer node (the window shows its inspector). */
  signals[NODE_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_INT);
  /* A refused edit, with a translated message for the user. */
  signals[ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], NULL, action_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "graph.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0, "graph.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_BackSpace, 0, "graph.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK, "graph.copy", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_x, GDK_CONTROL_MASK, "graph.cut", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, "graph.paste", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, "graph.duplicate", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_ALT_MASK, "graph.call-again", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK, "graph.group", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "graph.ungroup", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, 0, "graph.fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F, GDK_SHIFT_MASK, "graph.fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_a, GDK_CONTROL_MASK, "graph.select-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "graph.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "graph.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "graph.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "graph.zoom-reset", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "graph.quick-add", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_h, GDK_CONTROL_MASK, "graph.add-head", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "graph.unselect", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, GDK_ALT_MASK, "graph.close-model", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "graph.select-next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, 0, "graph.select-next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "graph.select-previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, 0, "graph.select-previous", NULL);

  gtk_widget_class_set_css_name (widget_class, "weft-graph-canvas");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
weft_graph_canvas_init (WeftGraphCanvas *self)
{
  GtkGesture *drag, *click, *zoom;
  GtkEventController *motion, *scroll, *key;
  GtkDropTarget *drop;

  self->scene = weft_canvas_scene_new ();
  self->selection = g_array_new (FALSE, FALSE, sizeof (WeftId));
  self->move_ids = g_array_new (FALSE, FALSE, sizeof (WeftId));
  self->move_origins = g_array_new (FALSE, FALSE, sizeof (WeftPoint));
  self->port_reasons = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->selected_wire = -1;
  self->hover_node = WEFT_ID_NONE;
  weft_canvas_view_init (&self->view);

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (zoom_begin_cb), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (zoom_scale_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (zoom));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  g_signal_connect (key, "key-released", G_CALLBACK (key_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), key);

  drop = gtk_drop_target_new (G_TYPE_STRING, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  g_signal_connect (drop, "enter", G_CALLBACK (drop_enter_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  build_quick_add (self);
  g_signal_connect_object (gtk_widget_get_clipboard (GTK_WIDGET (self)), "changed",
                           G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Graph canvas"), -1);
  update_accessible (self);
  update_actions (self);
}

/* ---- public API ---- */

GtkWidget *
weft_graph_canvas_new (void)
{
  return g_object_new (WEFT_TYPE_GRAPH_CANVAS, NULL);
}

void
weft_graph_canvas_set_document (WeftGraphCanvas *self, WeftDocument *document)
{
  g_return_if_fail (WEFT_IS_GRAPH_CANVAS (self));
  g_return_if_fail (document == NULL || WEFT_IS_DOCUMENT (document));

  if (self->document == document)
    return;
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  if (document != NULL)
    g_signal_connect_object (document, "changed", G_CALLBACK (document_changed_cb), self,
                             G_CONNECT_SWAPPED);
  g_array_set_size (self->selection, 0);
  self->selected_wire = -1;
  rebuild (self);
  self->view_ready = FALSE;
  open_view (self);
  selection_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

WeftDocument *
weft_graph_canvas_get_document (WeftGraphCanvas *self)
{
  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), NULL);
  return self->document;
}

const GArray *
weft_graph_canvas_get_selection (WeftGraphCanvas *self)
{
  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), NULL);
  return self->selection;
}

void
weft_graph_canvas_select (WeftGraphCanvas *self, const WeftId *ids, int n_ids)
{
  g_return_if_fail (WEFT_IS_GRAPH_CANVAS (self));
  set_selection (self, ids, n_ids);
}

WeftId
weft_graph_canvas_get_focus_node (WeftGraphCanvas *self)
{
  WeftId id;

  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), WEFT_ID_NONE);
  if (self->selection->len != 1 || self->document == NULL)
    return WEFT_ID_NONE;
  id = g_array_index (self->selection, WeftId, 0);
  if (WEFT_CANVAS_IS_HEAD_ID (id) || weft_graph_kind (graph_of (self), id) != WEFT_KIND_NODE)
    return WEFT_ID_NONE;
  return id;
}

const WeftCanvasView *
weft_graph_canvas_get_view (WeftGraphCanvas *self)
{
  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), NULL);
  return &self->view;
}

const WeftCanvasScene *
weft_graph_canvas_get_scene (WeftGraphCanvas *self)
{
  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), NULL);
  return self->scene;
}

WeftCanvasDragState
weft_graph_canvas_get_drag_state (WeftGraphCanvas *self)
{
  g_return_val_if_fail (WEFT_IS_GRAPH_CANVAS (self), WEFT_CANVAS_DRAG_NONE);
  return self->drag;
}
