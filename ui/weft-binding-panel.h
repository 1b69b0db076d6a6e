/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-binding-panel.h: the data binding editor of the training settings. After a data file
 * is chosen (CSV, NPZ, NPY, a folder of .npy files or an image folder, see
 * docs/data-binding.md), one row per model input and per head picks the column or array
 * feeding it (and, for CSV, how the column is read), prefilled by name; each row says
 * whether its data fits the input's or head's shape. The binding is complete when every
 * row fits; it is then available as the JSON of weft_data_binding_from_json. */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "weft-graph.h"

G_BEGIN_DECLS

#define WEFT_TYPE_BINDING_PANEL (weft_binding_panel_get_type ())
G_DECLARE_FINAL_TYPE (WeftBindingPanel, weft_binding_panel, WEFT, BINDING_PANEL, GtkWidget)

GtkWidget   *weft_binding_panel_new              (void);

/* The model whose main-model inputs and heads get rows (borrowed, nullable; call again
 * after edits: rows are rebuilt only when the inputs, heads, shapes or losses changed,
 * keeping the choices of rows whose name stays). */
void         weft_binding_panel_set_graph        (WeftBindingPanel *self,
                                                  const WeftGraph  *graph);
/* Lists the file (csv_header: 1, 0 or -1 to guess) and prefills every row. On failure the
 * panel keeps no file and error says why. */
gboolean     weft_binding_panel_set_file         (WeftBindingPanel *self,
                                                  const char       *path,
                                                  int               csv_header,
                                                  GError          **error);
/* The same on a worker thread, so a large file does not stop the window (what a file chooser
 * uses). Until it is read the panel is incomplete, its summary saying so; a newer file (either
 * call) or disposing the panel cancels it (G_IO_ERROR_CANCELLED, nothing shown). On failure
 * the panel keeps its previous file and its summary shows the error. */
void         weft_binding_panel_set_file_async   (WeftBindingPanel   *self,
                                                  const char         *path,
                                                  int                 csv_header,
                                                  GAsyncReadyCallback callback,
                                                  gpointer            user_data);
gboolean     weft_binding_panel_set_file_finish  (WeftBindingPanel   *self,
                                                  GAsyncResult       *result,
                                                  GError            **error);
gboolean     weft_binding_panel_get_loading      (WeftBindingPanel   *self);
const char  *weft_binding_panel_get_file         (WeftBindingPanel *self);   /* nullable */

/* Rows: the model's inputs first, then its heads. */
int          weft_binding_panel_n_rows           (WeftBindingPanel *self);
const char  *weft_binding_panel_row_name         (WeftBindingPanel *self,
                                                  int               row);
gboolean     weft_binding_panel_row_is_head      (WeftBindingPanel *self,
                                                  int               row);
/* The row's column/array drop-down: item 0 is "(not bound)", item k the file's column or
 * array k - 1. The kind drop-down (CSV only, else hidden): items in WeftCsvKind order. */
GtkDropDown *weft_binding_panel_row_column       (WeftBindingPanel *self,
                                                  int               row);
GtkDropDown *weft_binding_panel_row_kind         (WeftBindingPanel *self,
                                                  int               row);
/* The row's check message ("" when it fits) and whether it is an error. */
const char  *weft_binding_panel_row_message      (WeftBindingPanel *self,
                                                  int               row,
                                                  gboolean         *error);

/* TRUE when a file is chosen and every row fits; otherwise *reason (nullable) gets the
 * first problem, translated (borrowed until the next change). */
gboolean     weft_binding_panel_get_complete     (WeftBindingPanel *self,
                                                  const char      **reason);
/* The binding (a new "data" JSON node, absolute paths), NULL when not complete. */
JsonNode    *weft_binding_panel_dup_json         (WeftBindingPanel *self);
/* Shows a stored binding when the panel can: one CSV/NPZ/NPY/image-folder source, or NPY
 * sources of one folder, feeds of plain columns. base_dir resolves relative paths
 * (nullable). FALSE (panel unchanged) otherwise. */
gboolean     weft_binding_panel_load_json        (WeftBindingPanel *self,
                                                  JsonNode         *data,
                                                  const char       *base_dir);

G_END_DECLS
