/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-npy.h: NumPy .npy arrays and .npz archives (stored or deflated entries).
 * Reads every bool/int/uint/float dtype (f2, f4, f8, i1..i8, u1..u8, b1), either byte
 * order, C or Fortran order, into C-order float32; writes f4 C-order .npy atomically.
 * Errors are WEFT_IO_ERROR (see weft-safetensors.h). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "weft-safetensors.h"

G_BEGIN_DECLS

#define WEFT_NPY_MAX_RANK 8
/* .npy headers larger than this are refused (numpy itself caps them far lower). */
#define WEFT_NPY_MAX_HEADER (1024 * 1024)

typedef struct
{
  char     name[128];   /* NPZ: entry name without ".npy"; NPY: "" */
  int      rank;        /* 0..8; 0 = a scalar with one element */
  int64_t  dims[WEFT_NPY_MAX_RANK];
  float   *data;        /* g_malloc'ed, C order, product(dims) floats; may be NULL if empty */
} WeftNpyArray;

/* Reads a .npy file into *out (cleared first; on failure *out is left empty). */
gboolean   weft_npy_read        (const char *path, WeftNpyArray *out, GError **error);
/* Same from bytes in memory (an NPZ entry, fuzzing). */
gboolean   weft_npy_read_data   (const guint8 *data, gsize len, WeftNpyArray *out,
                                 GError **error);
/* Writes a little-endian f4 C-order .npy (format 1.0), atomically. */
gboolean   weft_npy_write       (const char *path, const float *data, int rank,
                                 const int64_t *dims, GError **error);
/* Reads every .npy entry of an .npz archive, in archive order. Returns a GPtrArray of
 * WeftNpyArray* (free func set: g_ptr_array_unref frees all), NULL on error. */
GPtrArray *weft_npz_read        (const char *path, GError **error);
/* Same from bytes in memory. */
GPtrArray *weft_npz_read_data   (const guint8 *data, gsize len, GError **error);
/* The array named `name` in an NPZ result (borrowed), or NULL. */
WeftNpyArray *weft_npz_find     (GPtrArray *arrays, const char *name);
/* Number of elements (1 for rank 0). */
int64_t    weft_npy_array_size  (const WeftNpyArray *a);
/* Frees data and zeroes the struct; the struct itself is not freed. */
void       weft_npy_array_clear (WeftNpyArray *a);
/* Clears and frees a heap array (the NPZ free func). NULL-safe. */
void       weft_npy_array_free  (WeftNpyArray *a);

G_END_DECLS
