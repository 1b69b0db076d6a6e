/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-canvas-geometry.h"

#include <math.h>
#include <stdlib.h>

#define CUBIC_MIN_OFFSET 40.0
#define HIT_SEGMENTS     32
#define LAYOUT_SWEEPS    6

WeftCanvasScene *
weft_canvas_scene_new (void)
{
  WeftCanvasScene *scene = g_new0 (WeftCanvasScene, 1);

  scene->nodes = g_array_new (FALSE, TRUE, sizeof (WeftCanvasNode));
  scene->wires = g_array_new (FALSE, TRUE, sizeof (WeftCanvasWire));
  scene->index = g_hash_table_new (g_direct_hash, g_direct_equal);
  return scene;
}

void
weft_canvas_scene_free (WeftCanvasScene *scene)
{
  if (scene == NULL)
    return;
  g_array_unref (scene->nodes);
  g_array_unref (scene->wires);
  g_hash_table_unref (scene->index);
  g_free (scene);
}

void
weft_canvas_scene_clear (WeftCanvasScene *scene)
{
  g_return_if_fail (scene != NULL);
  g_array_set_size (scene->nodes, 0);
  g_array_set_size (scene->wires, 0);
  g_hash_table_remove_all (scene->index);
}

double
weft_canvas_node_height (int n_key_lines)
{
  return WEFT_CANVAS_HEADER_HEIGHT + MAX (n_key_lines, 0) * WEFT_CANVAS_LINE_HEIGHT
         + WEFT_CANVAS_FOOTER_HEIGHT;
}

WeftCanvasNode *
weft_canvas_scene_add_node (WeftCanvasScene *scene, WeftId id, double x, double y,
                            double width, double height, int n_inputs, int n_outputs)
{
  WeftCanvasNode node = { id, x, y, width, height, MAX (n_inputs, 0), MAX (n_outputs, 0),
                          FALSE, FALSE };
  guint i;

  g_return_val_if_fail (scene != NULL, NULL);
  i = GPOINTER_TO_UINT (g_hash_table_lookup (scene->index, GINT_TO_POINTER (id)));
  if (i > 0)
    {
      g_array_index (scene->nodes, WeftCanvasNode, i - 1) = node;
      return &g_array_index (scene->nodes, WeftCanvasNode, i - 1);
    }
  g_array_append_val (scene->nodes, node);
  g_hash_table_insert (scene->index, GINT_TO_POINTER (id),
                       GUINT_TO_POINTER (scene->nodes->len));
  return &g_array_index (scene->nodes, WeftCanvasNode, scene->nodes->len - 1);
}

void
weft_canvas_scene_add_wire (WeftCanvasScene *scene, WeftId src, int src_port, WeftId dst,
                            int dst_port)
{
  WeftCanvasWire wire = { src, src_port, dst, dst_port, FALSE };

  g_return_if_fail (scene != NULL);
  g_array_append_val (scene->wires, wire);
}

WeftCanvasNode *
weft_canvas_scene_lookup (const WeftCanvasScene *scene, WeftId id)
{
  guint i;

  g_return_val_if_fail (scene != NULL, NULL);
  i = GPOINTER_TO_UINT (g_hash_table_lookup (scene->index, GINT_TO_POINTER (id)));
  return i > 0 ? &g_array_index (scene->nodes, WeftCanvasNode, i - 1) : NULL;
}

gboolean
weft_canvas_scene_bounds (const WeftCanvasScene *scene, WeftRect *bounds)
{
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;

  g_return_val_if_fail (scene != NULL && bounds != NULL, FALSE);
  if (scene->nodes->len == 0)
    return FALSE;
  for (guint i = 0; i < scene->nodes->len; i++)
    {
      const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      x0 = MIN (x0, n->x);
      y0 = MIN (y0, n->y);
      x1 = MAX (x1, n->x + n->width);
      y1 = MAX (y1, n->y + n->height);
    }
  /* ports stick out of the boxes by their radius */
  *bounds = (WeftRect) { x0 - WEFT_CANVAS_PORT_RADIUS, y0,
                         x1 - x0 + 2 * WEFT_CANVAS_PORT_RADIUS, y1 - y0 };
  return TRUE;
}

/* ---- ports and wires ---- */

static double
port_y (const WeftCanvasNode *node, int port, int n_ports)
{
  double first;

  if (n_ports <= 1)
    return node->y + node->height / 2;
  /* ports centred on the box, spaced evenly, never outside it */
  first = node->y + node->height / 2 - (n_ports - 1) * WEFT_CANVAS_PORT_SPACING / 2;
  if ((n_ports - 1) * WEFT_CANVAS_PORT_SPACING > node->height - 2 * WEFT_CANVAS_PORT_RADIUS)
    return node->y + WEFT_CANVAS_PORT_RADIUS
           + port * (node->height - 2 * WEFT_CANVAS_PORT_RADIUS) / (n_ports - 1);
  return first + port * WEFT_CANVAS_PORT_SPACING;
}

WeftPoint
weft_canvas_input_port (const WeftCanvasNode *node, int port)
{
  return (WeftPoint) { node->x, port_y (node, port, node->n_inputs) };
}

WeftPoint
weft_canvas_output_port (const WeftCanvasNode *node, int port)
{
  return (WeftPoint) { node->x + node->width, port_y (node, port, node->n_outputs) };
}

void
weft_canvas_wire_cubic (WeftPoint a, WeftPoint b, WeftPoint c[4])
{
  double offset = MAX (fabs (b.x - a.x) / 2, CUBIC_MIN_OFFSET);

  c[0] = a;
  c[1] = (WeftPoint) { a.x + offset, a.y };
  c[2] = (WeftPoint) { b.x - offset, b.y };
  c[3] = b;
}

WeftPoint
weft_canvas_cubic_point (const WeftPoint c[4], double t)
{
  double u = 1 - t;
  double b0 = u * u * u, b1 = 3 * u * u * t, b2 = 3 * u * t * t, b3 = t * t * t;

  return (WeftPoint) { b0 * c[0].x + b1 * c[1].x + b2 * c[2].x + b3 * c[3].x,
                       b0 * c[0].y + b1 * c[1].y + b2 * c[2].y + b3 * c[3].y };
}

static double
segment_distance (WeftPoint a, WeftPoint b, WeftPoint p)
{
  double dx = b.x - a.x, dy = b.y - a.y;
  double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;

  t = CLAMP (t, 0, 1);
  return hypot (a.x + t * dx - p.x, a.y + t * dy - p.y);
}

double
weft_canvas_cubic_distance (const WeftPoint c[4], WeftPoint p, int segments)
{
  double best = G_MAXDOUBLE;
  WeftPoint prev = c[0];

  segments = MAX (segments, 1);
  for (int i = 1; i <= segments; i++)
    {
      WeftPoint q = weft_canvas_cubic_point (c, (double) i / segments);
      best = MIN (best, segment_distance (prev, q, p));
      prev = q;
    }
  return best;
}

gboolean
weft_canvas_scene_wire_cubic (const WeftCanvasScene *scene, const WeftCanvasWire *wire,
                              WeftPoint c[4])
{
  const WeftCanvasNode *src = weft_canvas_scene_lookup (scene, wire->src);
  const WeftCanvasNode *dst = weft_canvas_scene_lookup (scene, wire->dst);

  if (src == NULL || dst == NULL)
    return FALSE;
  weft_canvas_wire_cubic (weft_canvas_output_port (src, wire->src_port),
                          weft_canvas_input_port (dst, wire->dst_port), c);
  return TRUE;
}

/* ---- hit-testing ---- */

static gboolean
rect_contains (const WeftRect *r, WeftPoint p)
{
  return p.x >= r->x && p.x <= r->x + r->width && p.y >= r->y && p.y <= r->y + r->height;
}

WeftCanvasHit
weft_canvas_scene_hit (const WeftCanvasScene *scene, WeftPoint p, double tolerance)
{
  WeftCanvasHit hit = { WEFT_CANVAS_HIT_NONE, WEFT_ID_NONE, -1, -1 };
  double reach = WEFT_CANVAS_PORT_RADIUS + tolerance;
  double best = G_MAXDOUBLE;

  g_return_val_if_fail (scene != NULL, hit);

  for (guint i = scene->nodes->len; i-- > 0;)
    {
      const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      for (int k = 0; k < n->n_inputs; k++)
        {
          WeftPoint q = weft_canvas_input_port (n, k);
          double d = hypot (q.x - p.x, q.y - p.y);
          if (d <= reach && d < best)
            {
              best = d;
              hit = (WeftCanvasHit) { WEFT_CANVAS_HIT_INPUT_PORT, n->id, k, -1 };
            }
        }
      for (int k = 0; k < n->n_outputs; k++)
        {
          WeftPoint q = weft_canvas_output_port (n, k);
          double d = hypot (q.x - p.x, q.y - p.y);
          if (d <= reach && d < best)
            {
              best = d;
              hit = (WeftCanvasHit) { WEFT_CANVAS_HIT_OUTPUT_PORT, n->id, k, -1 };
            }
        }
    }
  if (hit.kind != WEFT_CANVAS_HIT_NONE)
    return hit;

  for (guint i = scene->nodes->len; i-- > 0;)
    {
      const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      WeftRect r = { n->x, n->y, n->width, n->height };
      if (rect_contains (&r, p))
        return (WeftCanvasHit) { WEFT_CANVAS_HIT_NODE, n->id, -1, -1 };
    }

  for (guint i = 0; i < scene->wires->len; i++)
    {
      WeftPoint c[4];
      double d;
      if (!weft_canvas_scene_wire_cubic (scene, &g_array_index (scene->wires,
                                                                WeftCanvasWire, i), c))
        continue;
      /* cheap reject with the control polygon's bounding box */
      if (p.x < MIN (MIN (c[0].x, c[1].x), MIN (c[2].x, c[3].x)) - tolerance
          || p.x > MAX (MAX (c[0].x, c[1].x), MAX (c[2].x, c[3].x)) + tolerance
          || p.y < MIN (c[0].y, c[3].y) - tolerance || p.y > MAX (c[0].y, c[3].y) + tolerance)
        continue;
      d = weft_canvas_cubic_distance (c, p, HIT_SEGMENTS);
      if (d <= tolerance && d < best)
        {
          best = d;
          hit = (WeftCanvasHit) { WEFT_CANVAS_HIT_WIRE, WEFT_ID_NONE, -1, (int) i };
        }
    }
  return hit;
}

WeftRect
weft_canvas_rect_from_points (WeftPoint a, WeftPoint b)
{
  return (WeftRect) { MIN (a.x, b.x), MIN (a.y, b.y), fabs (b.x - a.x), fabs (b.y - a.y) };
}

gboolean
weft_canvas_rect_intersects (const WeftRect *a, const WeftRect *b)
{
  return a->x <= b->x + b->width && b->x <= a->x + a->width
         && a->y <= b->y + b->height && b->y <= a->y + a->height;
}

GArray *
weft_canvas_scene_rubber_band (const WeftCanvasScene *scene, WeftPoint a, WeftPoint b)
{
  WeftRect band = weft_canvas_rect_from_points (a, b);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (WeftId));

  g_return_val_if_fail (scene != NULL, ids);
  for (guint i = 0; i < scene->nodes->len; i++)
    {
      const WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      WeftRect r = { n->x, n->y, n->width, n->height };
      if (weft_canvas_rect_intersects (&band, &r))
        g_array_append_val (ids, n->id);
    }
  return ids;
}

/* ---- view ---- */

void
weft_canvas_view_init (WeftCanvasView *view)
{
  *view = (WeftCanvasView) { 1.0, 0.0, 0.0 };
}

WeftPoint
weft_canvas_view_to_screen (const WeftCanvasView *view, WeftPoint g)
{
  return (WeftPoint) { g.x * view->zoom + view->offset_x, g.y * view->zoom + view->offset_y };
}

WeftPoint
weft_canvas_view_to_graph (const WeftCanvasView *view, WeftPoint s)
{
  return (WeftPoint) { (s.x - view->offset_x) / view->zoom, (s.y - view->offset_y) / view->zoom };
}

void
weft_canvas_view_zoom_at (WeftCanvasView *view, WeftPoint screen, double factor)
{
  WeftPoint anchor = weft_canvas_view_to_graph (view, screen);

  if (!(factor > 0) || !isfinite (factor))
    return;
  view->zoom = CLAMP (view->zoom * factor, WEFT_CANVAS_MIN_ZOOM, WEFT_CANVAS_MAX_ZOOM);
  view->offset_x = screen.x - anchor.x * view->zoom;
  view->offset_y = screen.y - anchor.y * view->zoom;
}

void
weft_canvas_view_pan (WeftCanvasView *view, double dx, double dy)
{
  view->offset_x += dx;
  view->offset_y += dy;
}

void
weft_canvas_view_fit (WeftCanvasView *view, const WeftRect *bounds, double viewport_width,
                      double viewport_height, double margin)
{
  double avail_w = MAX (viewport_width - 2 * margin, 1);
  double avail_h = MAX (viewport_height - 2 * margin, 1);
  double zoom = 1.0;

  if (bounds->width > 0 && bounds->height > 0)
    zoom = MIN (avail_w / bounds->width, avail_h / bounds->height);
  view->zoom = CLAMP (MIN (zoom, 1.0), WEFT_CANVAS_MIN_ZOOM, WEFT_CANVAS_MAX_ZOOM);
  view->offset_x = viewport_width / 2 - (bounds->x + bounds->width / 2) * view->zoom;
  view->offset_y = viewport_height / 2 - (bounds->y + bounds->height / 2) * view->zoom;
}

void
weft_canvas_view_open (WeftCanvasView *view, const WeftRect *bounds, double viewport_width,
                       double viewport_height, double margin, double min_zoom)
{
  weft_canvas_view_fit (view, bounds, viewport_width, viewport_height, margin);
  if (view->zoom >= min_zoom || view->zoom < min_zoom / 2)
    return;
  view->zoom = CLAMP (min_zoom, WEFT_CANVAS_MIN_ZOOM, WEFT_CANVAS_MAX_ZOOM);
  if (bounds->width * view->zoom <= viewport_width - 2 * margin)
    view->offset_x = viewport_width / 2 - (bounds->x + bounds->width / 2) * view->zoom;
  else
    view->offset_x = margin - bounds->x * view->zoom;
  if (bounds->height * view->zoom <= viewport_height - 2 * margin)
    view->offset_y = viewport_height / 2 - (bounds->y + bounds->height / 2) * view->zoom;
  else
    view->offset_y = margin - bounds->y * view->zoom;
}

double
weft_canvas_snap (double value)
{
  return round (value / WEFT_CANVAS_GRID) * WEFT_CANVAS_GRID;
}

/* ---- layout ---- */

typedef struct
{
  guint  node;     /* index into scene->nodes */
  double key;
} SortItem;

static int
compare_items (const void *a, const void *b)
{
  const SortItem *x = a, *y = b;

  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->node < y->node ? -1 : x->node > y->node;
}

void
weft_canvas_scene_layout (WeftCanvasScene *scene, double origin_x, double origin_y)
{
  guint n, n_layers = 0;
  g_autofree int *layer = NULL, *indeg = NULL, *queue = NULL;
  g_autofree double *pos = NULL;
  g_autofree guint *src = NULL, *dst = NULL;
  guint n_edges = 0, head = 0, tail = 0;
  GPtrArray *layers;

  g_return_if_fail (scene != NULL);
  n = scene->nodes->len;
  if (n == 0)
    return;

  layer = g_new0 (int, n);
  indeg = g_new0 (int, n);
  queue = g_new0 (int, n);
  pos = g_new0 (double, n);
  src = g_new0 (guint, scene->wires->len);
  dst = g_new0 (guint, scene->wires->len);

  for (guint i = 0; i < scene->wires->len; i++)
    {
      const WeftCanvasWire *w = &g_array_index (scene->wires, WeftCanvasWire, i);
      guint s = GPOINTER_TO_UINT (g_hash_table_lookup (scene->index, GINT_TO_POINTER (w->src)));
      guint d = GPOINTER_TO_UINT (g_hash_table_lookup (scene->index, GINT_TO_POINTER (w->dst)));
      if (s == 0 || d == 0 || s == d)
        continue;
      src[n_edges] = s - 1;
      dst[n_edges] = d - 1;
      indeg[d - 1]++;
      n_edges++;
    }

  /* longest path from the sources (Kahn order); nodes left on a cycle keep layer 0 + preds */
  for (guint i = 0; i < n; i++)
    if (indeg[i] == 0)
      queue[tail++] = i;
  while (head < tail)
    {
      int u = queue[head++];
      for (guint e = 0; e < n_edges; e++)
        if (src[e] == (guint) u)
          {
            layer[dst[e]] = MAX (layer[dst[e]], layer[u] + 1);
            if (--indeg[dst[e]] == 0)
              queue[tail++] = dst[e];
          }
    }
  for (guint i = 0; i < n; i++)
    n_layers = MAX (n_layers, (guint) layer[i] + 1);

  layers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint l = 0; l < n_layers; l++)
    g_ptr_array_add (layers, g_array_new (FALSE, FALSE, sizeof (SortItem)));
  /* initial order: the current vertical positions */
  for (guint i = 0; i < n; i++)
    {
      SortItem item = { i, g_array_index (scene->nodes, WeftCanvasNode, i).y };
      g_array_append_val (g_ptr_array_index (layers, layer[i]), item);
    }
  for (guint l = 0; l < n_layers; l++)
    {
      GArray *a = g_ptr_array_index (layers, l);
      g_array_sort (a, compare_items);
      for (guint k = 0; k < a->len; k++)
        pos[g_array_index (a, SortItem, k).node] = k;
    }

  /* barycentre sweeps: down using predecessors, then up using successors */
  for (int sweep = 0; sweep < LAYOUT_SWEEPS; sweep++)
    {
      gboolean down = sweep % 2 == 0;
      for (guint step = 1; step < n_layers; step++)
        {
          guint l = down ? step : n_layers - 1 - step;
          GArray *a = g_ptr_array_index (layers, l);
          for (guint k = 0; k < a->len; k++)
            {
              SortItem *item = &g_array_index (a, SortItem, k);
              double sum = 0;
              int count = 0;
              for (guint e = 0; e < n_edges; e++)
                {
                  if (down && dst[e] == item->node && layer[src[e]] < (int) l)
                    sum += pos[src[e]], count++;
                  else if (!down && src[e] == item->node && layer[dst[e]] > (int) l)
                    sum += pos[dst[e]], count++;
                }
              item->key = count > 0 ? sum / count : pos[item->node];
            }
          g_array_sort (a, compare_items);
          for (guint k = 0; k < a->len; k++)
            pos[g_array_index (a, SortItem, k).node] = k;
        }
    }

  /* coordinates: columns as wide as their widest box, each column centred vertically */
  {
    double x = origin_x, tallest = 0;
    g_autofree double *heights = g_new0 (double, n_layers);
    for (guint l = 0; l < n_layers; l++)
      {
        GArray *a = g_ptr_array_index (layers, l);
        for (guint k = 0; k < a->len; k++)
          heights[l] += g_array_index (scene->nodes, WeftCanvasNode,
                                       g_array_index (a, SortItem, k).node).height
                        + (k > 0 ? WEFT_CANVAS_LAYOUT_VGAP : 0);
        tallest = MAX (tallest, heights[l]);
      }
    for (guint l = 0; l < n_layers; l++)
      {
        GArray *a = g_ptr_array_index (layers, l);
        double y = origin_y + weft_canvas_snap ((tallest - heights[l]) / 2);
        double widest = 0;
        for (guint k = 0; k < a->len; k++)
          {
            WeftCanvasNode *node = &g_array_index (scene->nodes, WeftCanvasNode,
                                                   g_array_index (a, SortItem, k).node);
            node->x = weft_canvas_snap (x);
            node->y = weft_canvas_snap (y);
            y = node->y + node->height + WEFT_CANVAS_LAYOUT_VGAP;
            widest = MAX (widest, node->width);
          }
        x += widest + WEFT_CANVAS_LAYOUT_HGAP;
      }
  }
  g_ptr_array_unref (layers);
}
