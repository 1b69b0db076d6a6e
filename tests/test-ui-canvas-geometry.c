/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Geometry and hit-testing of the node canvas: no display needed. */
#include "weft-canvas-geometry.h"

#include <math.h>

#define EPS 1e-9

static WeftCanvasScene *
two_nodes (void)
{
  WeftCanvasScene *scene = weft_canvas_scene_new ();

  weft_canvas_scene_add_node (scene, 10, 0, 0, 100, 60, 1, 1);
  weft_canvas_scene_add_node (scene, 20, 300, 100, 100, 60, 2, 1);
  weft_canvas_scene_add_wire (scene, 10, 0, 20, 1);
  return scene;
}

static void
test_scene_lookup_and_replace (void)
{
  WeftCanvasScene *scene = two_nodes ();
  WeftCanvasNode *n;

  g_assert_cmpuint (scene->nodes->len, ==, 2);
  n = weft_canvas_scene_lookup (scene, 20);
  g_assert_nonnull (n);
  g_assert_cmpfloat (n->x, ==, 300);
  g_assert_null (weft_canvas_scene_lookup (scene, 99));
  weft_canvas_scene_add_node (scene, 20, 5, 6, 100, 60, 2, 1);
  g_assert_cmpuint (scene->nodes->len, ==, 2);
  g_assert_cmpfloat (weft_canvas_scene_lookup (scene, 20)->x, ==, 5);
  weft_canvas_scene_clear (scene);
  g_assert_null (weft_canvas_scene_lookup (scene, 20));
  weft_canvas_scene_free (scene);
}

static void
test_node_height_grows_with_key_lines (void)
{
  g_assert_cmpfloat (weft_canvas_node_height (2) - weft_canvas_node_height (0), ==,
                     2 * WEFT_CANVAS_LINE_HEIGHT);
  g_assert_cmpfloat (weft_canvas_node_height (-3), ==, weft_canvas_node_height (0));
}

static void
test_ports_on_edges_evenly_spaced (void)
{
  WeftCanvasScene *scene = two_nodes ();
  WeftCanvasNode *a = weft_canvas_scene_lookup (scene, 10);
  WeftCanvasNode *b = weft_canvas_scene_lookup (scene, 20);
  WeftPoint p0 = weft_canvas_input_port (b, 0), p1 = weft_canvas_input_port (b, 1);
  WeftPoint out = weft_canvas_output_port (a, 0);

  g_assert_cmpfloat (out.x, ==, 100);
  g_assert_cmpfloat (out.y, ==, 30);       /* single port: vertical centre */
  g_assert_cmpfloat (p0.x, ==, 300);
  g_assert_cmpfloat (p1.y - p0.y, ==, WEFT_CANVAS_PORT_SPACING);
  g_assert_cmpfloat (fabs ((p0.y + p1.y) / 2 - 130), <, EPS);
  weft_canvas_scene_free (scene);
}

static void
test_ports_stay_inside_short_box (void)
{
  WeftCanvasNode n = { 1, 0, 0, 100, 40, 8, 1, FALSE };

  for (int k = 0; k < 8; k++)
    {
      WeftPoint p = weft_canvas_input_port (&n, k);
      g_assert_cmpfloat (p.y, >=, 0);
      g_assert_cmpfloat (p.y, <=, 40);
    }
}

static void
test_wire_cubic_has_horizontal_tangents (void)
{
  WeftPoint c[4];

  weft_canvas_wire_cubic ((WeftPoint) { 100, 30 }, (WeftPoint) { 300, 140 }, c);
  g_assert_cmpfloat (c[1].y, ==, 30);
  g_assert_cmpfloat (c[2].y, ==, 140);
  g_assert_cmpfloat (c[1].x - c[0].x, ==, 100);   /* half of the 200 gap */
  g_assert_cmpfloat (c[3].x - c[2].x, ==, 100);
  g_assert_cmpfloat (weft_canvas_cubic_point (c, 0).x, ==, 100);
  g_assert_cmpfloat (weft_canvas_cubic_point (c, 1).y, ==, 140);
  /* by symmetry the midpoint is the middle of the two ends */
  g_assert_cmpfloat (fabs (weft_canvas_cubic_point (c, 0.5).y - 85), <, EPS);
}

static void
test_backward_wire_keeps_minimum_offset (void)
{
  WeftPoint c[4];

  weft_canvas_wire_cubic ((WeftPoint) { 300, 0 }, (WeftPoint) { 290, 0 }, c);
  g_assert_cmpfloat (c[1].x, >, c[0].x);
  g_assert_cmpfloat (c[2].x, <, c[3].x);
}

static void
test_cubic_distance (void)
{
  WeftPoint c[4];

  weft_canvas_wire_cubic ((WeftPoint) { 0, 0 }, (WeftPoint) { 200, 0 }, c);
  g_assert_cmpfloat (weft_canvas_cubic_distance (c, (WeftPoint) { 100, 7 }, 32), <, 7 + EPS);
  g_assert_cmpfloat (weft_canvas_cubic_distance (c, (WeftPoint) { 100, 7 }, 32), >, 7 - EPS);
  g_assert_cmpfloat (weft_canvas_cubic_distance (c, (WeftPoint) { -3, 4 }, 32), <, 5 + EPS);
}

static void
test_hit_prefers_ports_over_bodies (void)
{
  WeftCanvasScene *scene = two_nodes ();
  WeftCanvasHit hit;

  /* output port of node 10 sits on its right edge, inside the body's outline */
  hit = weft_canvas_scene_hit (scene, (WeftPoint) { 98, 31 }, 3);
  g_assert_cmpint (hit.kind, ==, WEFT_CANVAS_HIT_OUTPUT_PORT);
  g_assert_cmpint (hit.node, ==, 10);
  g_assert_cmpint (hit.port, ==, 0);
  hit = weft_canvas_scene_hit (scene, weft_canvas_input_port (weft_canvas_scene_lookup (scene, 20), 1), 3);
  g_assert_cmpint (hit.kind, ==, WEFT_CANVAS_HIT_INPUT_PORT);
  g_assert_cmpint (hit.port, ==, 1);
  hit = weft_canvas_scene_hit (scene, (WeftPoint) { 50, 10 }, 3);
  g_assert_cmpint (hit.kind, ==, WEFT_CANVAS_HIT_NODE);
  g_assert_cmpint (hit.node, ==, 10);
  weft_canvas_scene_free (scene);
}

static void
test_hit_topmost_body_wins (void)
{
  WeftCanvasScene *scene = weft_canvas_scene_new ();
  WeftCanvasHit hit;

  weft_canvas_scene_add_node (scene, 1, 0, 0, 100, 60, 0, 0);
  weft_canvas_scene_add_node (scene, 2, 50, 20, 100, 60, 0, 0);
  hit = weft_canvas_scene_hit (scene, (WeftPoint) { 70, 40 }, 3);
  g_assert_cmpint (hit.node, ==, 2);
  weft_canvas_scene_free (scene);
}

static void
test_hit_wire_within_tolerance_only (void)
{
  WeftCanvasScene *scene = two_nodes ();
  WeftPoint c[4], mid;
  WeftCanvasHit hit;

  g_assert_true (weft_canvas_scene_wire_cubic (scene, &g_array_index (scene->wires, WeftCanvasWire, 0), c));
  mid = weft_canvas_cubic_point (c, 0.5);
  hit = weft_canvas_scene_hit (scene, (WeftPoint) { mid.x, mid.y + 2 }, 4);
  g_assert_cmpint (hit.kind, ==, WEFT_CANVAS_HIT_WIRE);
  g_assert_cmpint (hit.wire, ==, 0);
  hit = weft_canvas_scene_hit (scene, (WeftPoint) { mid.x, mid.y + 30 }, 4);
  g_assert_cmpint (hit.kind, ==, WEFT_CANVAS_HIT_NONE);
  g_assert_cmpint (hit.node, ==, WEFT_ID_NONE);
  weft_canvas_scene_free (scene);
}

static void
test_rubber_band_any_corner_order (void)
{
  WeftCanvasScene *scene = two_nodes ();
  GArray *ids;

  ids = weft_canvas_scene_rubber_band (scene, (WeftPoint) { 120, 50 }, (WeftPoint) { -10, -10 });
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpint (g_array_index (ids, WeftId, 0), ==, 10);
  g_array_unref (ids);
  ids = weft_canvas_scene_rubber_band (scene, (WeftPoint) { 500, 500 }, (WeftPoint) { 90, 20 });
  g_assert_cmpuint (ids->len, ==, 2);
  g_array_unref (ids);
  ids = weft_canvas_scene_rubber_band (scene, (WeftPoint) { 150, 0 }, (WeftPoint) { 200, 90 });
  g_assert_cmpuint (ids->len, ==, 0);
  g_array_unref (ids);
  weft_canvas_scene_free (scene);
}

static void
test_view_round_trip (void)
{
  WeftCanvasView view = { 2.0, 10, -20 };
  WeftPoint g = { 3.5, -7 };
  WeftPoint s = weft_canvas_view_to_screen (&view, g);
  WeftPoint back = weft_canvas_view_to_graph (&view, s);

  g_assert_cmpfloat (s.x, ==, 17);
  g_assert_cmpfloat (s.y, ==, -34);
  g_assert_cmpfloat (fabs (back.x - g.x), <, EPS);
  g_assert_cmpfloat (fabs (back.y - g.y), <, EPS);
}

static void
test_view_zoom_keeps_point_under_pointer (void)
{
  WeftCanvasView view;
  WeftPoint pointer = { 333, 127 };
  WeftPoint before, after;

  weft_canvas_view_init (&view);
  weft_canvas_view_pan (&view, 40, -15);
  before = weft_canvas_view_to_graph (&view, pointer);
  weft_canvas_view_zoom_at (&view, pointer, 1.25);
  after = weft_canvas_view_to_graph (&view, pointer);
  g_assert_cmpfloat (view.zoom, ==, 1.25);
  g_assert_cmpfloat (fabs (before.x - after.x), <, EPS);
  g_assert_cmpfloat (fabs (before.y - after.y), <, EPS);
  for (int i = 0; i < 50; i++)
    weft_canvas_view_zoom_at (&view, pointer, 2);
  g_assert_cmpfloat (view.zoom, ==, WEFT_CANVAS_MAX_ZOOM);
  for (int i = 0; i < 50; i++)
    weft_canvas_view_zoom_at (&view, pointer, 0.5);
  g_assert_cmpfloat (view.zoom, ==, WEFT_CANVAS_MIN_ZOOM);
  after = weft_canvas_view_to_graph (&view, pointer);
  g_assert_cmpfloat (fabs (before.x - after.x), <, 1e-6);
  weft_canvas_view_zoom_at (&view, pointer, NAN);
  weft_canvas_view_zoom_at (&view, pointer, -1);
  g_assert_cmpfloat (view.zoom, ==, WEFT_CANVAS_MIN_ZOOM);
}

static void
test_view_fit_shows_everything_centred (void)
{
  WeftRect big = { -500, 100, 2000, 400 }, small = { 10, 10, 50, 50 };
  WeftCanvasView view;
  WeftPoint tl, br;

  weft_canvas_view_init (&view);
  weft_canvas_view_fit (&view, &big, 800, 600, 20);
  tl = weft_canvas_view_to_screen (&view, (WeftPoint) { big.x, big.y });
  br = weft_canvas_view_to_screen (&view, (WeftPoint) { big.x + big.width, big.y + big.height });
  g_assert_cmpfloat (tl.x, >=, 20 - EPS);
  g_assert_cmpfloat (br.x, <=, 780 + EPS);
  g_assert_cmpfloat (tl.y, >=, 0);
  g_assert_cmpfloat (br.y, <=, 600);
  g_assert_cmpfloat (fabs ((tl.y + br.y) / 2 - 300), <, EPS);
  /* a small graph is not blown up beyond 100 % */
  weft_canvas_view_fit (&view, &small, 800, 600, 20);
  g_assert_cmpfloat (view.zoom, ==, 1.0);
}

/* Opening: fit, but a graph fitting only below the legible zoom is shown at that zoom,
 * centred on the axis that fits and from its left edge (inputs) on the one that does not; a
 * large graph is still shown whole. */
static void
test_view_open_keeps_text_legible (void)
{
  WeftRect small = { 10, 10, 50, 50 }, wide = { 100, 50, 1400, 300 }, huge = { 0, 0, 9000, 3000 };
  WeftCanvasView view, fit;
  WeftPoint tl, br;

  weft_canvas_view_open (&view, &small, 800, 600, 20, 0.75);
  weft_canvas_view_fit (&fit, &small, 800, 600, 20);
  g_assert_cmpmem (&view, sizeof view, &fit, sizeof fit);

  /* fit would be (800 - 40) / 1400 = 0.54 */
  weft_canvas_view_fit (&fit, &wide, 800, 600, 20);
  g_assert_cmpfloat (fit.zoom, <, 0.75);
  weft_canvas_view_open (&view, &wide, 800, 600, 20, 0.75);
  g_assert_cmpfloat (view.zoom, ==, 0.75);
  tl = weft_canvas_view_to_screen (&view, (WeftPoint) { wide.x, wide.y });
  br = weft_canvas_view_to_screen (&view, (WeftPoint) { wide.x + wide.width, wide.y + wide.height });
  g_assert_cmpfloat (fabs (tl.x - 20), <, EPS);                 /* starts at the margin */
  g_assert_cmpfloat (br.x, >, 800);                             /* and runs off the right */
  g_assert_cmpfloat (fabs ((tl.y + br.y) / 2 - 300), <, EPS);   /* centred vertically */

  /* far too big for 75 %: the overview */
  weft_canvas_view_open (&view, &huge, 800, 600, 20, 0.75);
  weft_canvas_view_fit (&fit, &huge, 800, 600, 20);
  g_assert_cmpmem (&view, sizeof view, &fit, sizeof fit);
}

static void
test_snap_to_grid (void)
{
  g_assert_cmpfloat (weft_canvas_snap (29), ==, 20);
  g_assert_cmpfloat (weft_canvas_snap (31), ==, 40);
  g_assert_cmpfloat (weft_canvas_snap (-31), ==, -40);
}

static void
test_bounds (void)
{
  WeftCanvasScene *scene = two_nodes ();
  WeftRect r;

  g_assert_true (weft_canvas_scene_bounds (scene, &r));
  g_assert_cmpfloat (r.x, ==, -WEFT_CANVAS_PORT_RADIUS);
  g_assert_cmpfloat (r.y, ==, 0);
  g_assert_cmpfloat (r.width, ==, 400 + 2 * WEFT_CANVAS_PORT_RADIUS);
  g_assert_cmpfloat (r.height, ==, 160);
  weft_canvas_scene_clear (scene);
  g_assert_false (weft_canvas_scene_bounds (scene, &r));
  weft_canvas_scene_free (scene);
}

/* counts crossings between wires whose ends are in consecutive columns */
static int
count_crossings (WeftCanvasScene *scene)
{
  int crossings = 0;

  for (guint i = 0; i < scene->wires->len; i++)
    for (guint j = i + 1; j < scene->wires->len; j++)
      {
        WeftCanvasWire *a = &g_array_index (scene->wires, WeftCanvasWire, i);
        WeftCanvasWire *b = &g_array_index (scene->wires, WeftCanvasWire, j);
        WeftCanvasNode *as = weft_canvas_scene_lookup (scene, a->src);
        WeftCanvasNode *ad = weft_canvas_scene_lookup (scene, a->dst);
        WeftCanvasNode *bs = weft_canvas_scene_lookup (scene, b->src);
        WeftCanvasNode *bd = weft_canvas_scene_lookup (scene, b->dst);
        if (as->x != bs->x || ad->x != bd->x)
          continue;
        if ((as->y - bs->y) * (ad->y - bd->y) < 0)
          crossings++;
      }
  return crossings;
}

static void
test_layout_layers_follow_longest_path (void)
{
  WeftCanvasScene *scene = weft_canvas_scene_new ();

  /* 1 -> 2 -> 3, 1 -> 3 (skip), 4 -> 3: 3 goes after 2, 4 joins the first column */
  for (int id = 1; id <= 4; id++)
    weft_canvas_scene_add_node (scene, id, 0, 0, 100, weft_canvas_node_height (1), 1, 1);
  weft_canvas_scene_add_wire (scene, 1, 0, 2, 0);
  weft_canvas_scene_add_wire (scene, 2, 0, 3, 0);
  weft_canvas_scene_add_wire (scene, 1, 0, 3, 1);
  weft_canvas_scene_add_wire (scene, 4, 0, 3, 2);
  weft_canvas_scene_layout (scene, 40, 60);

  g_assert_cmpfloat (weft_canvas_scene_lookup (scene, 1)->x, ==, 40);
  g_assert_cmpfloat (weft_canvas_scene_lookup (scene, 4)->x, ==, 40);
  g_assert_cmpfloat (weft_canvas_scene_lookup (scene, 2)->x, >, 140);
  g_assert_cmpfloat (weft_canvas_scene_lookup (scene, 3)->x, >,
                     weft_canvas_scene_lookup (scene, 2)->x + 100);
  for (guint i = 0; i < scene->nodes->len; i++)
    {
      WeftCanvasNode *a = &g_array_index (scene->nodes, WeftCanvasNode, i);
      g_assert_cmpfloat (a->x, ==, weft_canvas_snap (a->x));
      g_assert_cmpfloat (a->y, ==, weft_canvas_snap (a->y));
      g_assert_cmpfloat (a->y, >=, 60);
      for (guint j = i + 1; j < scene->nodes->len; j++)
        {
          WeftCanvasNode *b = &g_array_index (scene->nodes, WeftCanvasNode, j);
          WeftRect ra = { a->x, a->y, a->width, a->height };
          WeftRect rb = { b->x, b->y, b->width, b->height };
          g_assert_false (weft_canvas_rect_intersects (&ra, &rb));
        }
    }
  weft_canvas_scene_free (scene);
}

static void
test_layout_barycentre_removes_crossings (void)
{
  WeftCanvasScene *scene = weft_canvas_scene_new ();

  /* sources a(1), b(2) stacked; sinks c(3), d(4) stacked in the opposite order of
   * their sources: a -> d, b -> c crosses until reordered */
  weft_canvas_scene_add_node (scene, 1, 0, 0, 100, 60, 0, 1);
  weft_canvas_scene_add_node (scene, 2, 0, 100, 100, 60, 0, 1);
  weft_canvas_scene_add_node (scene, 3, 300, 0, 100, 60, 1, 0);
  weft_canvas_scene_add_node (scene, 4, 300, 100, 100, 60, 1, 0);
  weft_canvas_scene_add_wire (scene, 1, 0, 4, 0);
  weft_canvas_scene_add_wire (scene, 2, 0, 3, 0);
  g_assert_cmpint (count_crossings (scene), ==, 1);
  weft_canvas_scene_layout (scene, 0, 0);
  g_assert_cmpint (count_crossings (scene), ==, 0);
  weft_canvas_scene_free (scene);
}

static void
test_layout_survives_cycle_and_empty_scene (void)
{
  WeftCanvasScene *scene = weft_canvas_scene_new ();

  weft_canvas_scene_layout (scene, 0, 0);
  weft_canvas_scene_add_node (scene, 1, 0, 0, 100, 60, 1, 1);
  weft_canvas_scene_add_node (scene, 2, 0, 0, 100, 60, 1, 1);
  weft_canvas_scene_add_wire (scene, 1, 0, 2, 0);
  weft_canvas_scene_add_wire (scene, 2, 0, 1, 0);
  weft_canvas_scene_add_wire (scene, 7, 0, 1, 0);    /* dangling end: ignored */
  weft_canvas_scene_layout (scene, 0, 0);
  g_assert_false (weft_canvas_scene_lookup (scene, 1)->x == weft_canvas_scene_lookup (scene, 2)->x
                  && weft_canvas_scene_lookup (scene, 1)->y == weft_canvas_scene_lookup (scene, 2)->y);
  weft_canvas_scene_free (scene);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/canvas-geometry/scene/lookup-and-replace", test_scene_lookup_and_replace);
  g_test_add_func ("/ui/canvas-geometry/scene/bounds-include-ports", test_bounds);
  g_test_add_func ("/ui/canvas-geometry/node/height-grows-with-key-lines", test_node_height_grows_with_key_lines);
  g_test_add_func ("/ui/canvas-geometry/ports/on-edges-evenly-spaced", test_ports_on_edges_evenly_spaced);
  g_test_add_func ("/ui/canvas-geometry/ports/stay-inside-short-box", test_ports_stay_inside_short_box);
  g_test_add_func ("/ui/canvas-geometry/wire/horizontal-tangents-half-gap", test_wire_cubic_has_horizontal_tangents);
  g_test_add_func ("/ui/canvas-geometry/wire/backward-keeps-minimum-offset", test_backward_wire_keeps_minimum_offset);
  g_test_add_func ("/ui/canvas-geometry/wire/distance-to-flattened-cubic", test_cubic_distance);
  g_test_add_func ("/ui/canvas-geometry/hit/ports-before-bodies", test_hit_prefers_ports_over_bodies);
  g_test_add_func ("/ui/canvas-geometry/hit/topmost-body-wins", test_hit_topmost_body_wins);
  g_test_add_func ("/ui/canvas-geometry/hit/wire-within-tolerance-only", test_hit_wire_within_tolerance_only);
  g_test_add_func ("/ui/canvas-geometry/rubber-band/any-corner-order", test_rubber_band_any_corner_order);
  g_test_add_func ("/ui/canvas-geometry/view/round-trip", test_view_round_trip);
  g_test_add_func ("/ui/canvas-geometry/view/zoom-keeps-point-under-pointer", test_view_zoom_keeps_point_under_pointer);
  g_test_add_func ("/ui/canvas-geometry/view/fit-shows-everything-centred", test_view_fit_shows_everything_centred);
  g_test_add_func ("/ui/canvas-geometry/snap/rounds-to-grid", test_snap_to_grid);
  g_test_add_func ("/ui/canvas-geometry/view/open-keeps-text-legible", test_view_open_keeps_text_legible);
  g_test_add_func ("/ui/canvas-geometry/layout/layers-follow-longest-path", test_layout_layers_follow_longest_path);
  g_test_add_func ("/ui/canvas-geometry/layout/barycentre-removes-crossings", test_layout_barycentre_removes_crossings);
  g_test_add_func ("/ui/canvas-geometry/layout/survives-cycle-and-empty-scene", test_layout_survives_cycle_and_empty_scene);
  return g_test_run ();
}
