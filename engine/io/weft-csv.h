/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-csv.h: CSV tables (plain or gzip-compressed, local files or GIO URIs such as
 * resource:///) read as a stream straight into named float arrays. Each array is a list
 * of fields: numeric columns, a categorical column (class index or one-hot, vocabulary
 * kept) or a text column (word ids, vocabulary of a chosen size, padded/truncated).
 * Every bad input is a WEFT_IO_ERROR naming the file, the line and the column; a failed
 * load returns nothing (never partial data). */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "weft-safetensors.h"

G_BEGIN_DECLS

typedef enum
{
  WEFT_CSV_NUMERIC,           /* one float per column */
  WEFT_CSV_CATEGORY_INDEX,    /* one column -> class index 0..K-1 */
  WEFT_CSV_CATEGORY_ONE_HOT,  /* one column -> K floats, 1 at the class */
  WEFT_CSV_TEXT,              /* one column -> `text_length` word ids (0 pad, 1 unknown) */
} WeftCsvKind;

/* Learned vocabularies have at most this many categories (categorical) and distinct words
 * are counted up to this many (text). */
#define WEFT_CSV_MAX_CATEGORIES 65536
#define WEFT_CSV_MAX_TEXT_LENGTH 65536

typedef struct
{
  char        *columns;          /* selection: "3", "0-63", "5-" (to the last), "name", or a
                                  * comma list of those; names need a header */
  WeftCsvKind  kind;
  /* Categorical: fixed vocabulary (NULL-terminated; value at position i is class i, or
   * class vocabulary_index[i] when that is non-NULL, so several values can share a
   * class). NULL: learned from the data, sorted (numerically when every value is a number).
   * Text: fixed word list for ids 2, 3, ...; NULL: learned (most frequent first). */
  char       **vocabulary;
  int         *vocabulary_index;
  int          text_vocabulary_size;  /* text: ids 0..size-1 (default 1000) */
  int          text_length;           /* text: ids per row (default 16); post-padded */
} WeftCsvField;

typedef struct
{
  char      *name;               /* the array's name (a model input or head) */
  GPtrArray *fields;             /* WeftCsvField*, concatenated in order */
} WeftCsvArraySpec;

typedef enum
{
  WEFT_CSV_MISSING_ERROR,        /* a missing value is an error naming line and column */
  WEFT_CSV_MISSING_FILL,         /* numeric: fill_value; categorical: its own class "" */
} WeftCsvMissing;

/* Progress: bytes of the (compressed) file read so far and its size (0 when unknown).
 * Return FALSE to cancel (G_IO_ERROR_CANCELLED). */
typedef gboolean (*WeftCsvProgressFunc) (guint64 done, guint64 total, gpointer user_data);

typedef struct
{
  gboolean       header;          /* the first line (after skip_lines) names the columns */
  int            skip_lines;      /* lines skipped before the header or the first row */
  char           separator;       /* ',', ';', '\t', ' ' (runs of blanks) or 0 = detect */
  WeftCsvMissing missing;
  float          fill_value;
  int64_t        max_rows;        /* stop after this many rows; 0 = all */
  WeftCsvProgressFunc progress;
  gpointer       progress_data;
  GPtrArray     *arrays;          /* WeftCsvArraySpec*; empty: one numeric array per column,
                                   * named like the column ("column_<i>" without header) */
} WeftCsvOptions;

/* Defaults: no header, detect separator, missing values are errors, no arrays. */
WeftCsvOptions *weft_csv_options_new      (void);
void            weft_csv_options_free     (WeftCsvOptions *options);        /* NULL-safe */
/* Appends an array (the options own it) and returns it to add fields to. */
WeftCsvArraySpec *weft_csv_options_add_array (WeftCsvOptions *options, const char *name);
/* Appends a field (owned by the array); vocabulary/index NULL. */
WeftCsvField   *weft_csv_array_add_field  (WeftCsvArraySpec *array, const char *columns,
                                           WeftCsvKind kind);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftCsvOptions, weft_csv_options_free)

typedef struct
{
  char    *name;
  int      rank;                 /* 1 */
  int      dims[1];              /* values per row */
  float   *data;                 /* n_rows * dims[0], g_malloc'ed; take it by setting NULL */
  /* Per field, in order: the vocabulary used (NULL for numeric fields), NULL-terminated. */
  GPtrArray *vocabularies;       /* char** (g_strfreev) or NULL per field */
} WeftCsvArray;

typedef struct
{
  int64_t    n_rows;
  int        n_columns;
  char     **column_names;       /* n_columns names (header or "column_<i>"), NULL-ended */
  char       separator;          /* the separator used */
  GPtrArray *arrays;             /* WeftCsvArray*, in options order */
} WeftCsvTable;

/* Reads a CSV file (path or URI; gzip detected by its magic bytes). */
WeftCsvTable   *weft_csv_read             (const char *path_or_uri,
                                           const WeftCsvOptions *options, GError **error);
void            weft_csv_table_free       (WeftCsvTable *table);           /* NULL-safe */
WeftCsvArray   *weft_csv_table_find       (WeftCsvTable *table, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftCsvTable, weft_csv_table_free)

/* The first rows as text, for inspection: column names, guessed kinds (numeric when every
 * non-missing value is a number; categorical when few distinct values; else text) and up to
 * max_rows rows of cells (each a NULL-terminated char**). */
typedef struct
{
  int          n_columns;
  char       **column_names;
  WeftCsvKind *kinds;
  int         *n_distinct;       /* distinct values seen per column */
  int         *n_missing;        /* missing cells seen per column */
  GPtrArray   *rows;             /* char** per row */
  int64_t      rows_scanned;     /* rows looked at for the guesses */
  char         separator;
} WeftCsvPreview;

WeftCsvPreview *weft_csv_preview          (const char *path_or_uri,
                                           const WeftCsvOptions *options, int max_rows,
                                           int scan_rows, GError **error);
void            weft_csv_preview_free     (WeftCsvPreview *preview);       /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftCsvPreview, weft_csv_preview_free)

/* Opens a file or URI for reading, transparently gunzipping gzip data. *size receives
 * the stored size (0 when unknown); *raw (nullable) the undecompressed stream for progress
 * (borrowed, owned by the returned stream). */
GInputStream   *weft_csv_open_stream      (const char *path_or_uri, guint64 *size,
                                           GInputStream **raw, GError **error);

/* Splits text into lower-case words (letters and digits) as the text fields do. */
char          **weft_csv_tokenise         (const char *text);

const char     *weft_csv_kind_name        (WeftCsvKind kind);

G_END_DECLS
