/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-data-source.h: the data binding of a graph: which files (CSV, NPY, NPZ, image
 * folders) feed which model input and which target feeds which head, with column types,
 * vocabularies, normalisation (statistics from the training part only, kept in the binding),
 * shuffling, and a validation split or separate validation files. Serialised as JSON (see
 * docs/weft-format.md, key "data") with paths relative to the .weft file's folder.
 * Errors are WEFT_IO_ERROR naming the entry, file, line/column or both shapes. */
#pragma once

#include <json-glib/json-glib.h>

#include "weft-csv.h"
#include "weft-data.h"
#include "weft-graph.h"
#include "weft-npy.h"

G_BEGIN_DECLS

typedef struct _WeftDataBinding WeftDataBinding;

WeftDataBinding *weft_data_binding_new       (void);
void             weft_data_binding_free      (WeftDataBinding *binding);      /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftDataBinding, weft_data_binding_free)
WeftDataBinding *weft_data_binding_copy      (const WeftDataBinding *binding);

/* Reads a binding from its JSON form. base_dir (a folder path or URI) resolves relative
 * paths; NULL keeps them as written. Every unknown key or bad value is an error naming it. */
WeftDataBinding *weft_data_binding_from_json (JsonNode *node, const char *base_dir,
                                              GError **error);
/* The JSON form (new node), paths written relative to base_dir when they lie below or
 * beside it (NULL: as stored). */
JsonNode        *weft_data_binding_to_json   (const WeftDataBinding *binding,
                                              const char *base_dir);
/* A binding stored in its own JSON file (base: that file's folder). */
WeftDataBinding *weft_data_binding_read_file (const char *path, GError **error);
/* The "data" key of a .weft file, or NULL with *error NULL when it has none. */
WeftDataBinding *weft_data_binding_from_weft_file (const char *path, GError **error);

/* Adds one command-line entry (see `weft train --help`):
 *   NAME=FILE[:COLUMNS][:KEY=VALUE]...
 * NAME is a model input or head; COLUMNS picks CSV columns ("0-63", "64", "a,b") or an NPZ
 * array or an image folder's "images"/"labels". Keys: type=numeric|categorical|one-hot|text,
 * normalise=none|standardise|min-max, length=N, vocabulary=N (text), header=yes|no,
 * skip=N, sep=comma|semicolon|tab|space, fill=VALUE. Files are sources shared by entries
 * (options of the first mention win); paths are relative to the current folder. Also
 * accepted: "validation=FRACTION", "validation=FILE" (replaces the one source's file),
 * "seed=N" and "shuffle=no". */
gboolean         weft_data_binding_add_spec  (WeftDataBinding *binding, const char *spec,
                                              GError **error);

/* Names of the inputs and heads the binding feeds (borrowed, NULL-terminated order). */
int              weft_data_binding_n_entries (const WeftDataBinding *binding);
const char      *weft_data_binding_entry_name (const WeftDataBinding *binding, int i);
/* Validation fraction of the binding, or -1 when it leaves that to the training settings. */
double           weft_data_binding_get_validation_split (const WeftDataBinding *binding);

typedef struct
{
  WeftDataset *data;          /* training rows first, then validation rows */
  int64_t      n_train;
  float        validation_split;  /* the fraction that gives n_train with WeftTrainConfig */
} WeftDataLoad;

/* Loads every entry into a data set named for graph's main-model inputs and heads, shaped as
 * they want (a CSV row of 64 values feeds an input of shape (8, 8, 1)). Rows are shuffled
 * with the binding's seed, then split (the binding's validation, else validation_split).
 * fit: compute normalisation statistics and learn vocabularies anew (from the training
 * part) and store them in the binding; otherwise stored ones are used and missing ones are
 * an error. Checks every input and head before returning; a mismatch names it and both
 * shapes. progress (nullable) reports CSV bytes read. */
gboolean         weft_data_binding_load      (WeftDataBinding *binding, WeftGraph *graph,
                                              double validation_split, gboolean fit,
                                              WeftCsvProgressFunc progress,
                                              gpointer progress_data, WeftDataLoad *out,
                                              GError **error);
void             weft_data_load_clear        (WeftDataLoad *load);
/* For prediction: only the feeds of model inputs, in file order (no shuffle, no split,
 * validation files ignored), normalised with the stored statistics and stored vocabularies
 * (missing statistics are an error). Returns a new data set or NULL. */
WeftDataset     *weft_data_binding_load_inputs (WeftDataBinding *binding, WeftGraph *graph,
                                                WeftCsvProgressFunc progress,
                                                gpointer progress_data, GError **error);

/* The validation_split value that makes the trainer train on exactly n_train of n rows. */
float            weft_data_split_fraction    (int64_t n_train, int64_t n);

/* Human-readable description of a source for `weft data inspect`: columns/arrays, types,
 * shapes and the first rows. options: CSV options (header, skip, separator) or NULL. */
char            *weft_data_inspect           (const char *path, const WeftCsvOptions *options,
                                              int n_rows, GError **error);

/* ---- listing a data file for a binding editor ------------------------------------------ */

typedef enum
{
  WEFT_DATA_FILE_CSV,           /* columns (CSV, possibly gzip-compressed) */
  WEFT_DATA_FILE_NPZ,           /* arrays of one .npz archive */
  WEFT_DATA_FILE_NPY,           /* one .npy file: one array */
  WEFT_DATA_FILE_NPY_FOLDER,    /* a folder of .npy files: one array per file */
  WEFT_DATA_FILE_IMAGE_FOLDER,  /* one sub-folder of images per class: "images", "labels" */
} WeftDataFileKind;

/* One column (CSV) or array (NPZ, NPY, image folder) a feed can read. */
typedef struct
{
  char        *name;        /* header name or "column_<i>"; array name; "images"/"labels" */
  char        *path;        /* NPY/NPY folder: the array's file; else NULL */
  int          rank;        /* arrays: rank of the whole array (rows first); CSV: 1 */
  int64_t      dims[WEFT_NPY_MAX_RANK];   /* arrays: shape; images: (n, -1, -1, -1) */
  WeftCsvKind  kind;        /* CSV: guessed from the first rows; arrays: numeric */
  int          n_distinct;  /* CSV: distinct values in the rows scanned; labels: classes */
} WeftDataColumn;

typedef struct
{
  WeftDataFileKind kind;
  char            *path;
  gboolean         header;     /* CSV: the first line names the columns (given or guessed) */
  int64_t          n_rows;     /* CSV: rows scanned (at most 1000), arrays: first dim */
  gboolean         n_rows_exact;
  GPtrArray       *columns;    /* WeftDataColumn*, file order */
} WeftDataListing;

/* Lists what a data file or folder offers to a binding, reading headers and at most the
 * first 1000 rows of a CSV (a .npz or .npy is read whole: NumPy keeps no index). The kind
 * comes from the name (.csv, .csv.gz, .tsv, .txt -> CSV; .npz; .npy) or, for a folder, from
 * its content (.npy files, else image sub-folders). csv_header: 1 / 0, or -1 to guess (a
 * first line with a non-number in a column whose other values are numbers). */
WeftDataListing *weft_data_list            (const char *path, int csv_header, GError **error);
void             weft_data_listing_free    (WeftDataListing *listing);     /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftDataListing, weft_data_listing_free)
/* Values per row the column/array gives (product of dims after the first; CSV 1, images
 * -1 = resized to the input). */
int64_t          weft_data_column_row_size (const WeftDataColumn *column);

G_END_DECLS
