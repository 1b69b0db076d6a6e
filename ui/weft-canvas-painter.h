/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-canvas-painter.h: draws a graph's nodes, wires and heads with plain Cairo (text with
 * PangoCairo). Used by WeftGraphCanvas on screen and headless by `weft export`. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "weft-canvas-geometry.h"
#include "weft-graph.h"

G_BEGIN_DECLS

/* Heads (model outputs) are drawn as boxes of their own with these pseudo ids. */
#define WEFT_CANVAS_HEAD_ID(i)        ((WeftId) (-2 - (i)))
#define WEFT_CANVAS_IS_HEAD_ID(id)    ((id) <= -2)
#define WEFT_CANVAS_HEAD_INDEX(id)    ((int) (-2 - (id)))

/* Rebuilds `scene` from the nodes and heads of `model`: boxes at the stored positions (sized
 * for their key settings), one input port per fixed input (wired slots + one spare for a
 * variadic merge), wires, then a box per head. head_positions (WeftPoint per head, may be
 * NULL or shorter; NaN = automatic) places the heads; automatic heads sit right of their
 * source. When every node shares one position (an imported graph) the layered layout runs. */
void      weft_canvas_scene_build       (WeftCanvasScene *scene,
                                         WeftGraph       *graph,
                                         WeftId           model,
                                         const GArray    *head_positions);

/* Below this many device pixels per graph unit nodes are drawn as plain boxes (no text). */
#define WEFT_CANVAS_DETAIL_ZOOM 0.4

typedef enum
{
  WEFT_CANVAS_PORT_NORMAL,
  WEFT_CANVAS_PORT_COMPATIBLE,    /* a wire being dragged may end here */
  WEFT_CANVAS_PORT_INCOMPATIBLE,  /* it may not (dimmed) */
  WEFT_CANVAS_PORT_TARGET,        /* the pointer is over this compatible port */
} WeftCanvasPortState;

typedef WeftCanvasPortState (*WeftCanvasPortStateFunc) (WeftId   node,
                                                        int      port,
                                                        gboolean is_input,
                                                        gpointer user_data);

/* Which part of the scene a paint draws. A drag of nodes paints the still part once and
 * only the moving part (boxes marked `moving` and the wires touching them) per frame. */
typedef enum
{
  WEFT_CANVAS_LAYER_ALL,
  WEFT_CANVAS_LAYER_STILL,        /* all but the moving boxes and their wires */
  WEFT_CANVAS_LAYER_MOVING,       /* only those: no background, grid, drag wire or band */
} WeftCanvasLayer;

typedef struct
{
  WeftCanvasView          view;          /* graph -> device transform */
  double                  width, height; /* device size (for the grid); 0 = no grid */
  gboolean                dark;
  gboolean                grid;
  const char             *font;          /* Pango family, NULL = "Sans" */
  /* wire being dragged: from `drag_from` to `drag_to` (graph space) when drag_wire */
  gboolean                drag_wire;
  WeftPoint               drag_from, drag_to;
  gboolean                drag_ok;       /* the pointer is over a compatible port */
  /* rubber band (graph space) when rubber_band */
  gboolean                rubber_band;
  WeftPoint               band_a, band_b;
  WeftCanvasPortStateFunc port_state;
  gpointer                port_state_data;
  WeftId                  hover_node;    /* WEFT_ID_NONE for none */
  WeftCanvasLayer         layer;
} WeftCanvasPaintOptions;

void      weft_canvas_paint_options_init (WeftCanvasPaintOptions *options);
/* Draws the scene of `model` (built by weft_canvas_scene_build) onto cr. */
void      weft_canvas_paint              (cairo_t                      *cr,
                                          WeftGraph                    *graph,
                                          WeftId                        model,
                                          const WeftCanvasScene        *scene,
                                          const WeftCanvasPaintOptions *options);

/* Graph-space box around everything WEFT_CANVAS_LAYER_MOVING draws (shadows, ports, wire
 * labels included); FALSE when no box is moving. */
gboolean  weft_canvas_moving_bounds      (const WeftCanvasScene        *scene,
                                          WeftRect                     *bounds);

/* Text helpers shared with the inspector: "1,234" (grouped as LC_NUMERIC says, "1.234" in
 * German; a comma in the C locale) and a parameter value as Keras writes
 * it ("relu", "(3, 3)", "None"). Newly allocated. */
char     *weft_canvas_format_count       (gint64 count);
char     *weft_canvas_format_value       (const WeftParamSpec *spec,
                                          const WeftValue     *value);

/* Draws the main model of `graph` to `path` as "png", "svg" or "pdf" (NULL: from the
 * extension), light theme, fitted with a margin. FALSE with error set on a bad format or
 * when the file cannot be written. */
gboolean  weft_canvas_export             (WeftGraph   *graph,
                                          const char  *path,
                                          const char  *format,
                                          GError     **error);
/* Same with the main model's head positions (as weft_canvas_scene_build takes them). */
gboolean  weft_canvas_export_full        (WeftGraph    *graph,
                                          const GArray *head_positions,
                                          const char   *path,
                                          const char   *format,
                                          GError      **error);

/* A picture of the main model of `graph` fitted into width x height pixels (for the example
 * gallery). Returns a new ARGB32 image surface. */
cairo_surface_t *weft_canvas_paint_thumbnail (WeftGraph *graph,
                                              int        width,
                                              int        height,
                                              gboolean   dark);

G_END_DECLS
