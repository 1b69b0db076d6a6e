/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-file.h: the .weft graph file (JSON, see docs/weft-format.md) and its weights file
 * NAME.safetensors beside it. Every malformed input is a GError in the WEFT_IO_ERROR domain
 * naming the layer, node or key; a failed load never returns a partial graph. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <json-glib/json-glib.h>

#include "weft-graph.h"
#include "weft-history.h"
#include "weft-safetensors.h"

G_BEGIN_DECLS

#define WEFT_FILE_FORMAT  "weft-graph"
#define WEFT_FILE_VERSION 1
/* Files larger than this are refused (WEFT_IO_ERROR_TOO_LARGE). */
#define WEFT_FILE_MAX_SIZE (64 * 1024 * 1024)
/* Deeper JSON nesting or deeper model-in-model calls are refused. */
#define WEFT_FILE_MAX_DEPTH 64
/* Layer weights above this many floats (each) are refused as absurd. */
#define WEFT_FILE_MAX_WEIGHT_ELEMENTS ((gint64) 1 << 31)
/* At most about this many per-batch history rows are written (evenly thinned above). */
#define WEFT_FILE_MAX_HISTORY_STEPS 20000

/* What a file holds besides the graph: its title ("name"), "description" and the data
 * binding ("data", see engine/io/weft-data-source.h), kept as JSON and written back as is. */
typedef struct
{
  char     *name;          /* g_malloc'ed, may be NULL */
  char     *description;   /* g_malloc'ed, may be NULL */
  JsonNode *data;          /* owned, may be NULL */
  /* Canvas positions of heads (model outputs), which the graph does not hold: key
   * "MODEL/INDEX" (model name, output index), value two g_malloc'ed doubles (x, y). Written
   * as the outputs' "x" and "y"; NULL or a missing key: placed automatically. Owned. */
  GHashTable *head_positions;
} WeftFileMeta;

void        weft_file_meta_clear   (WeftFileMeta *meta);   /* frees the fields */

/* Reads a .weft file and, when it names one, its weights file (relative to the .weft's
 * folder), whose SHA-256 must match. history_out (nullable) receives the stored training
 * history or NULL. Returns a new graph (analysed) or NULL with error set. */
WeftGraph  *weft_file_load         (const char *path, WeftHistory **history_out,
                                    GError **error);
/* Same, also returning the title and description (meta may be NULL). */
WeftGraph  *weft_file_load_full    (const char *path, WeftHistory **history_out,
                                    WeftFileMeta *meta, GError **error);
/* Same from JSON text in memory (examples in the GResource). base_dir resolves the weights
 * file; NULL means the file must not name one. */
WeftGraph  *weft_file_load_data    (const char *json, gsize len, const char *base_dir,
                                    WeftHistory **history_out, GError **error);
WeftGraph  *weft_file_load_data_full (const char *json, gsize len, const char *base_dir,
                                      WeftHistory **history_out, WeftFileMeta *meta,
                                      GError **error);

/* Writes NAME.safetensors beside path (when any layer has weight data) and then path, both
 * atomically (temporary file, fsync, rename), the .weft recording the new checksum. */
gboolean    weft_file_save         (WeftGraph *graph, const WeftHistory *history,
                                    const char *path, GError **error);
gboolean    weft_file_save_full    (WeftGraph *graph, const WeftHistory *history,
                                    const WeftFileMeta *meta, const char *path,
                                    GError **error);

/* The .weft text of a graph (newly allocated). weights_file/sha256 NULL: no "weights" key. */
char       *weft_file_to_json      (WeftGraph *graph, const WeftHistory *history,
                                    const char *weights_file, const char *sha256);
char       *weft_file_to_json_full (WeftGraph *graph, const WeftHistory *history,
                                    const WeftFileMeta *meta, const char *weights_file,
                                    const char *sha256);

/* The weights file name that weft_file_save uses for path: "dir/NAME.weft" ->
 * "dir/NAME.safetensors". */
char       *weft_file_weights_path (const char *path);

G_END_DECLS
