/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-types.h: shapes, errors and checks shared by every part of the engine core.
 * The engine core is C11 + libm + CBLAS: no GLib, no GTK, never prints, never exits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_MAX_RANK    6    /* per-sample rank (the batch axis is not counted) */
#define WEFT_MAX_INPUTS  16   /* inputs of one call (merges) */
#define WEFT_MAX_WEIGHTS 8    /* weight tensors of one layer */
#define WEFT_NAME_MAX    64   /* layer, model, weight names incl. NUL */

/* Marks a string for translation without needing gettext in the engine: the UI looks
 * such strings up with g_dgettext (po/meson.build passes --keyword=WEFT_N_). */
#define WEFT_N_(s) (s)

typedef int32_t WeftId; /* stable id of a layer, model or node; never an array position */
#define WEFT_ID_NONE ((WeftId) -1)

typedef enum
{
  WEFT_OK = 0,
  WEFT_ERROR_INVALID,        /* a bad argument a user can cause (name taken, bad value) */
  WEFT_ERROR_CYCLE,          /* the graph has a cycle */
  WEFT_ERROR_UNCONNECTED,    /* an input port of a node has no wire */
  WEFT_ERROR_DISCONNECTED,   /* an output cannot be computed from the model inputs */
  WEFT_ERROR_SHAPE,          /* shapes do not fit (merge mismatch, wrong rank, ...) */
  WEFT_ERROR_NO_LOSS,        /* a head has no loss */
  WEFT_ERROR_UNKNOWN_TYPE,   /* unknown layer type */
  WEFT_ERROR_PARAM_RANGE,    /* a parameter outside its range or choices */
  WEFT_ERROR_NOT_FINITE,     /* NaN or Inf during training */
  WEFT_ERROR_CANCELLED,      /* training was cancelled */
  WEFT_ERROR_IO,             /* a file could not be read or written */
  WEFT_ERROR_FORMAT,         /* a file is malformed */
  WEFT_ERROR_NO_MEMORY,      /* an allocation failed or a size is absurd */
  WEFT_ERROR_DATA,           /* data does not fit the model (shape, count, ids out of range) */
  WEFT_ERROR_NO_OUTPUTS,     /* a model has no outputs */
  WEFT_WARNING_UNUSED_INPUT, /* a model input feeds no output (a warning, not an error) */
} WeftStatus;

/* Filled by functions that can fail because of what a user did. English, for logs;
 * the UI maps `code` to translated text. `node`/`port` locate the problem when known. */
typedef struct
{
  WeftStatus code;
  WeftId     node;
  int        port;
  char       message[320];
} WeftError;

/* Per-sample shape (no batch axis). dims are > 0 once a shape is known. */
typedef struct
{
  int rank;
  int dims[WEFT_MAX_RANK];
} WeftShape;

/* Sets *error (when non-NULL) with a printf-style message; returns false for convenience. */
bool weft_error_set (WeftError  *error,
                     WeftStatus  code,
                     WeftId      node,
                     int         port,
                     const char *format,
                     ...) __attribute__ ((format (printf, 5, 6)));
void weft_error_clear (WeftError *error);

/* Number of elements of a per-sample shape; 0 for an unknown shape. Saturates at INT64_MAX. */
int64_t weft_shape_size   (const WeftShape *shape);
bool    weft_shape_equal  (const WeftShape *a,
                           const WeftShape *b);
/* "(None, 32, 10)" like Keras; writes at most len bytes, returns buf. */
char   *weft_shape_format (const WeftShape *shape,
                           char            *buf,
                           size_t           len);
WeftShape weft_shape_make (int rank, ...);

/* Programmer errors (NULL handle, unknown id from code, broken invariant) abort through a
 * replaceable hook; errors a user can cause never come here. */
typedef void (*WeftAbortFunc) (const char *file, int line, const char *expr);
void weft_set_abort_func (WeftAbortFunc func);
void weft_abort (const char *file, int line, const char *expr) __attribute__ ((noreturn));
#define WEFT_CHECK(expr) \
  do { if (!(expr)) weft_abort (__FILE__, __LINE__, #expr); } while (0)

/* Optional diagnostics sink (default: none). Level 0 info, 1 warning. */
typedef void (*WeftLogFunc) (int level, const char *message, void *user_data);
void weft_set_log_func (WeftLogFunc func, void *user_data);
void weft_log (int level, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

/* Seeded random numbers (xoshiro128++ seeded by splitmix64): the same seed gives the same
 * stream on every machine. */
typedef struct { uint32_t s[4]; } WeftRng;
void     weft_rng_seed    (WeftRng *rng, uint64_t seed);
uint32_t weft_rng_next    (WeftRng *rng);
float    weft_rng_uniform (WeftRng *rng);                  /* [0, 1) */
float    weft_rng_normal  (WeftRng *rng);                  /* N(0, 1) */
uint32_t weft_rng_below   (WeftRng *rng, uint32_t n);      /* [0, n) without bias */
void     weft_rng_shuffle (WeftRng *rng, int32_t *items, int32_t n);

#ifdef __cplusplus
}
#endif
