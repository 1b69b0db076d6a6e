/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-canvas-geometry.h: node boxes, ports, wires, hit-testing, the view transform and the
 * automatic layered layout of the node canvas. Plain C over GLib containers (no GTK, no
 * Cairo), so that it is unit-tested without a display. All coordinates are doubles in graph
 * space unless a name says "screen". */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "weft-types.h"

G_BEGIN_DECLS

#define WEFT_CANVAS_NODE_WIDTH     184.0
#define WEFT_CANVAS_HEADER_HEIGHT  44.0   /* name + type */
#define WEFT_CANVAS_LINE_HEIGHT    16.0   /* one key setting */
#define WEFT_CANVAS_FOOTER_HEIGHT  24.0   /* parameter count and output shape */
#define WEFT_CANVAS_PORT_RADIUS    6.0
#define WEFT_CANVAS_PORT_SPACING   20.0
#define WEFT_CANVAS_GRID           20.0
#define WEFT_CANVAS_HIT_TOLERANCE  5.0    /* screen pixels around ports and wires */
#define WEFT_CANVAS_MIN_ZOOM       0.1
#define WEFT_CANVAS_MAX_ZOOM       4.0

typedef struct { double x, y; } WeftPoint;
typedef struct { double x, y, width, height; } WeftRect;

/* A node box. n_inputs counts the input ports drawn (a variadic merge shows one spare). */
typedef struct
{
  WeftId   id;
  double   x, y;               /* top-left corner */
  double   width, height;
  int      n_inputs;
  int      n_outputs;
  gboolean selected;
  gboolean moving;             /* being dragged: painted on a layer of its own */
} WeftCanvasNode;

typedef struct
{
  WeftId   src;
  int      src_port;
  WeftId   dst;
  int      dst_port;
  gboolean selected;
} WeftCanvasWire;

/* The boxes and wires of one model as drawn; id lookups go through a hash table. */
typedef struct
{
  GArray     *nodes;           /* WeftCanvasNode, in drawing order (last is on top) */
  GArray     *wires;           /* WeftCanvasWire */
  GHashTable *index;           /* WeftId -> index + 1 into nodes */
} WeftCanvasScene;

WeftCanvasScene *weft_canvas_scene_new        (void);
void             weft_canvas_scene_free       (WeftCanvasScene *scene);       /* NULL-safe */
void             weft_canvas_scene_clear      (WeftCanvasScene *scene);
/* Height of a box showing n_key_lines key settings. */
double           weft_canvas_node_height      (int n_key_lines);
/* Adds a box (replacing one with the same id); returns it, borrowed until the next add. */
WeftCanvasNode  *weft_canvas_scene_add_node   (WeftCanvasScene *scene, WeftId id, double x,
                                               double y, double width, double height,
                                               int n_inputs, int n_outputs);
void             weft_canvas_scene_add_wire   (WeftCanvasScene *scene, WeftId src,
                                               int src_port, WeftId dst, int dst_port);
/* Borrowed; NULL when the id has no box. */
WeftCanvasNode  *weft_canvas_scene_lookup     (const WeftCanvasScene *scene, WeftId id);
/* Bounding box of all boxes; false for an empty scene. */
gboolean         weft_canvas_scene_bounds     (const WeftCanvasScene *scene, WeftRect *bounds);

/* ---- ports and wires ---- */
WeftPoint        weft_canvas_input_port       (const WeftCanvasNode *node, int port);
WeftPoint        weft_canvas_output_port      (const WeftCanvasNode *node, int port);
/* Control points of the cubic from an output port `a` to an input port `b`: horizontal
 * tangents, control offset half the horizontal gap (at least min_offset, for backward
 * wires). c[0] = a, c[3] = b. */
void             weft_canvas_wire_cubic       (WeftPoint a, WeftPoint b, WeftPoint c[4]);
WeftPoint        weft_canvas_cubic_point      (const WeftPoint c[4], double t);
/* Distance from p to the cubic flattened into `segments` line segments. */
double           weft_canvas_cubic_distance   (const WeftPoint c[4], WeftPoint p, int segments);
/* Wire endpoints in the scene; false when an end has no box. */
gboolean         weft_canvas_scene_wire_cubic (const WeftCanvasScene *scene,
                                               const WeftCanvasWire *wire, WeftPoint c[4]);

/* ---- hit-testing ---- */
typedef enum
{
  WEFT_CANVAS_HIT_NONE,
  WEFT_CANVAS_HIT_INPUT_PORT,
  WEFT_CANVAS_HIT_OUTPUT_PORT,
  WEFT_CANVAS_HIT_NODE,
  WEFT_CANVAS_HIT_WIRE,
} WeftCanvasHitKind;

typedef struct
{
  WeftCanvasHitKind kind;
  WeftId            node;      /* ports and nodes; WEFT_ID_NONE otherwise */
  int               port;      /* ports */
  int               wire;      /* index into scene->wires for WIRE, else -1 */
} WeftCanvasHit;

/* Picks ports first (topmost node first), then node bodies, then wires within tolerance
 * (graph units: pass WEFT_CANVAS_HIT_TOLERANCE / zoom). */
WeftCanvasHit    weft_canvas_scene_hit        (const WeftCanvasScene *scene, WeftPoint p,
                                               double tolerance);
/* Ids of the boxes intersecting the rectangle spanned by a and b (any corner order). */
GArray          *weft_canvas_scene_rubber_band (const WeftCanvasScene *scene, WeftPoint a,
                                                WeftPoint b);
WeftRect         weft_canvas_rect_from_points (WeftPoint a, WeftPoint b);
gboolean         weft_canvas_rect_intersects  (const WeftRect *a, const WeftRect *b);

/* ---- view transform: screen = graph * zoom + offset ---- */
typedef struct
{
  double zoom;
  double offset_x, offset_y;
} WeftCanvasView;

void             weft_canvas_view_init        (WeftCanvasView *view);
WeftPoint        weft_canvas_view_to_screen   (const WeftCanvasView *view, WeftPoint graph);
WeftPoint        weft_canvas_view_to_graph    (const WeftCanvasView *view, WeftPoint screen);
/* Multiplies the zoom by factor (clamped) keeping the graph point under `screen` fixed. */
void             weft_canvas_view_zoom_at     (WeftCanvasView *view, WeftPoint screen,
                                               double factor);
void             weft_canvas_view_pan         (WeftCanvasView *view, double dx, double dy);
/* Zoom (at most 1) and offset showing `bounds` centred in a viewport with a margin. */
void             weft_canvas_view_fit         (WeftCanvasView *view, const WeftRect *bounds,
                                               double viewport_width, double viewport_height,
                                               double margin);
/* The view a graph opens at: as fit, but never below min_zoom unless even min_zoom / 2 would
 * not fit (a large graph is shown whole). Content that fits is centred on that axis; content
 * wider (taller) than the viewport starts at the margin, so its inputs (left) stay in view. */
void             weft_canvas_view_open        (WeftCanvasView *view, const WeftRect *bounds,
                                               double viewport_width, double viewport_height,
                                               double margin, double min_zoom);
double           weft_canvas_snap             (double value);

/* ---- automatic layout ---- */
#define WEFT_CANVAS_LAYOUT_HGAP 72.0
#define WEFT_CANVAS_LAYOUT_VGAP 32.0
/* Layered layout left to right: longest-path layering from the sources, then barycentre
 * ordering sweeps to reduce crossings; moves every box (snapped to the grid), top-left of
 * the result at (origin_x, origin_y). */
void             weft_canvas_scene_layout     (WeftCanvasScene *scene, double origin_x,
                                               double origin_y);

G_END_DECLS
