/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-interop-util.h: helpers shared by the Keras, ONNX and PyTorch exporters and the Keras
 * importer (private to engine/io). */
#pragma once

#include <glib.h>

#include "weft-graph.h"

G_BEGIN_DECLS

/* Errors of the interop formats (import and export). */
#define WEFT_INTEROP_ERROR (weft_interop_error_quark ())
GQuark weft_interop_error_quark (void);

typedef enum
{
  WEFT_INTEROP_ERROR_FORMAT,       /* malformed input (bad JSON, wrong types, dangling names) */
  WEFT_INTEROP_ERROR_UNSUPPORTED,  /* a layer, option or construct the target cannot express */
  WEFT_INTEROP_ERROR_MISMATCH,     /* weights missing, unknown or of the wrong shape/size */
  WEFT_INTEROP_ERROR_TOO_LARGE,    /* an absurd size or nesting depth */
  WEFT_INTEROP_ERROR_INVALID,      /* the Weft graph itself is invalid (shape errors...) */
  WEFT_INTEROP_ERROR_IO,           /* a file could not be read or written */
} WeftInteropError;

/* Nodes of `model` in an order where every node comes after the nodes feeding it. Returns a
 * new array of WeftId, or NULL with error set (cycle, unconnected port). */
GArray   *weft_interop_topo_order    (WeftGraph *graph, WeftId model, GError **error);
/* Analyses the graph and fails with the first error of a model reachable from the main
 * model (a missing loss is not an error for an export). */
gboolean  weft_interop_check_graph   (WeftGraph *graph, GError **error);
/* Gives every weight without data its initial value (weft_graph_init_weights), after
 * checking that the weights fit in memory: a hostile file's absurd layer is refused with a
 * message (WEFT_INTEROP_ERROR_TOO_LARGE) instead of an out-of-memory kill. */
gboolean  weft_interop_init_weights  (WeftGraph *graph, guint64 seed, GError **error);
/* Models in the order they must be defined: callees before callers, the main model last.
 * New array of WeftId. */
GArray   *weft_interop_model_order   (WeftGraph *graph);
/* A Python identifier for a name (keywords and leading digits get a suffix/prefix). */
char     *weft_interop_identifier    (const char *name);
/* Index of `node` among the calls of its callee inside the node's own model (0-based). */
int       weft_interop_call_index    (const WeftGraph *graph, WeftId node);
/* Number of calls of `callee` inside `model`. */
int       weft_interop_n_calls_in    (const WeftGraph *graph, WeftId callee, WeftId model);
/* Writes data atomically (temporary file + rename), creating no directories. */
gboolean  weft_interop_write_file    (const char *path, const void *data, gsize len,
                                      GError **error);

G_END_DECLS
