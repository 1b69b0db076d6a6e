/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-keras-import.h: Keras models into Weft: TensorFlow.js layers-model folders (model.json
 * with the topology and weights manifest, plus binary shards) and Keras model.to_json() text,
 * Keras 2 (inbound_nodes lists, as tfjs and tf.keras 2 write) and Keras 3 (args/kwargs with
 * keras_history). Models, nested models (Functional or Sequential used as layers), shared
 * layers, several inputs and outputs; weights matched by name. Anything Weft cannot compute
 * exactly (an unknown layer, an option such as stateful=true) is refused with the layer's
 * name and class; hostile input gives a GError (WEFT_INTEROP_ERROR), never a crash. The
 * imported graph is analysed and laid out automatically. */
#pragma once

#include <glib.h>

#include "weft-graph.h"
#include "weft-interop-util.h"

G_BEGIN_DECLS

/* Sizes above these are refused as absurd (WEFT_INTEROP_ERROR_TOO_LARGE). */
#define WEFT_KERAS_MAX_JSON    (64 * 1024 * 1024)
#define WEFT_KERAS_MAX_DEPTH   64                   /* JSON nesting */
#define WEFT_KERAS_MAX_MODELS  32                   /* models nested in models */
#define WEFT_KERAS_MAX_WEIGHTS ((gint64) 1 << 31)   /* floats in one weight */

/* Imports JSON text: a tfjs model.json (shards are read from base_dir; NULL refuses a file
 * that names shards) or Keras to_json() text (weights are initialised, seed 0). Returns a new
 * analysed graph, or NULL with error set; never a partial graph. */
WeftGraph *weft_keras_import_data (const char *json, gsize len, const char *base_dir,
                                   GError **error);
/* Same from a file: a model.json (shards beside it) or a Keras JSON file. */
WeftGraph *weft_keras_import_file (const char *path, GError **error);

G_END_DECLS
