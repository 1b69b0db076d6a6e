/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-safetensors.h: Hugging Face safetensors files (8-byte little-endian header length,
 * JSON header, raw little-endian data), at the tensor level and at the graph level
 * (tensor "layer_name/weight_name" per layer weight). Also owns the WEFT_IO_ERROR domain
 * shared by every reader and writer in engine/io. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "weft-graph.h"

G_BEGIN_DECLS

#define WEFT_IO_ERROR (weft_io_error_quark ())
GQuark weft_io_error_quark (void);

typedef enum
{
  WEFT_IO_ERROR_IO,         /* the file could not be opened, read or written */
  WEFT_IO_ERROR_FORMAT,     /* malformed content (bad header, bad offsets, unknown dtype) */
  WEFT_IO_ERROR_TOO_LARGE,  /* a size beyond the file or beyond a sane cap */
  WEFT_IO_ERROR_MISMATCH,   /* checksum, missing/unknown tensor or shape does not fit */
  WEFT_IO_ERROR_VERSION,    /* a format version this build does not know */
} WeftIoError;

#define WEFT_TENSOR_MAX_RANK 8
/* Headers larger than this are refused (WEFT_IO_ERROR_TOO_LARGE). */
#define WEFT_SAFETENSORS_MAX_HEADER (100 * 1024 * 1024)

/* A set of named tensors with float32 data, in memory. */
typedef struct _WeftTensorFile WeftTensorFile;

/* Reads a whole safetensors file; data of F16/BF16/F64/I8..I64/U8..U64/BOOL is converted to
 * float32. Every malformed input is a GError (WEFT_IO_ERROR), never a crash; memory is
 * bounded by a small multiple of the file size. Free with weft_tensor_file_free. */
WeftTensorFile *weft_tensor_file_read      (const char *path, GError **error);
/* Same, from bytes in memory (fuzzing, embedded resources). */
WeftTensorFile *weft_tensor_file_read_data (const guint8 *data, gsize len, GError **error);
/* An empty set to fill with weft_tensor_file_add and write. */
WeftTensorFile *weft_tensor_file_new       (void);
void            weft_tensor_file_free      (WeftTensorFile *f);             /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftTensorFile, weft_tensor_file_free)

/* Number of tensors; names are in header order (sorted by name for files Weft wrote). */
int             weft_tensor_file_n         (const WeftTensorFile *f);
const char     *weft_tensor_file_name      (const WeftTensorFile *f, int i);
/* Data of the named tensor (borrowed, valid until the file is freed) and its full shape:
 * *rank (0..8) and dims[0..rank-1] (dims needs room for WEFT_TENSOR_MAX_RANK); rank/dims
 * may be NULL. NULL when there is no such tensor (a zero-size tensor returns non-NULL). */
const float    *weft_tensor_file_get       (const WeftTensorFile *f, const char *name,
                                            int *rank, int64_t *dims);
/* Value of a "__metadata__" key, or NULL (borrowed). */
const char     *weft_tensor_file_get_metadata (const WeftTensorFile *f, const char *key);
void            weft_tensor_file_set_metadata (WeftTensorFile *f, const char *key,
                                               const char *value);
/* Adds a copy of a float32 tensor. Fails on a duplicate or empty name, a rank above 8 or
 * a negative dim. */
gboolean        weft_tensor_file_add       (WeftTensorFile *f, const char *name, int rank,
                                            const int64_t *dims, const float *data,
                                            GError **error);
/* Writes all tensors as F32, sorted by name, atomically (temporary file, fsync, rename).
 * sha256_hex (may be NULL) receives the SHA-256 of the written file, lowercase, NUL-ended. */
gboolean        weft_tensor_file_write     (const WeftTensorFile *f, const char *path,
                                            char sha256_hex[65], GError **error);

/* "__metadata__" key listing, one per line, the weights save_graph left out because they had
 * a shape but no data yet (a layer added after training); load_graph accepts exactly those
 * as absent. */
#define WEFT_SAFETENSORS_UNINITIALISED_KEY "weft.uninitialised"

/* Saves every layer weight that has data as tensor "layer_name/weight_name" (sorted by
 * name, atomic write). sha256_hex (may be NULL) receives the file's SHA-256. */
gboolean weft_safetensors_save_graph (const WeftGraph *graph, const char *path,
                                      char sha256_hex[65], GError **error);
/* Loads weights by name into the graph's layers (runs weft_graph_analyse first for the
 * shapes). expect_sha256 NULL = no check. A checksum mismatch, a weight of the graph missing
 * from the file (unless listed under WEFT_SAFETENSORS_UNINITIALISED_KEY; it keeps its data),
 * a tensor naming no weight, or a shape mismatch is WEFT_IO_ERROR_MISMATCH naming the tensor
 * (and both shapes). The graph is changed only when everything fits. */
gboolean weft_safetensors_load_graph (WeftGraph *graph, const char *path,
                                      const char *expect_sha256, GError **error);
/* SHA-256 of a file's bytes, as 64 lowercase hex digits plus NUL. */
gboolean weft_file_sha256            (const char *path, char sha256_hex[65], GError **error);

G_END_DECLS
