/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-data.h: in-memory data sets: named float arrays with the same number of rows, bound
 * to model inputs and heads by name. */
#pragma once

#include "weft-types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct
{
  char      name[WEFT_NAME_MAX];
  WeftShape shape;          /* per-sample shape */
  float    *data;           /* n_samples * weft_shape_size(&shape), owned by the data set */
} WeftArray;

typedef struct _WeftDataset WeftDataset;

WeftDataset     *weft_dataset_new        (int64_t n_samples);
void             weft_dataset_free       (WeftDataset *data);        /* NULL-safe */
int64_t          weft_dataset_n_samples  (const WeftDataset *data);
/* Adds an array of n_samples rows; returns its (owned, zeroed) storage or NULL when out of
 * memory, the name is taken, or the size is absurd (error says which). */
float           *weft_dataset_add        (WeftDataset *data, const char *name,
                                          const WeftShape *shape, WeftError *error);
/* Takes ownership of `values` (malloc'ed, n_samples rows). */
bool             weft_dataset_take       (WeftDataset *data, const char *name,
                                          const WeftShape *shape, float *values,
                                          WeftError *error);
int              weft_dataset_n_arrays   (const WeftDataset *data);
const WeftArray *weft_dataset_array      (const WeftDataset *data, int i);
const WeftArray *weft_dataset_find       (const WeftDataset *data, const char *name);

/* Built-in synthetic data sets for the examples and the benchmark. Names: see
 * weft_synthetic_names. The generator looks at the model's inputs and heads (names and
 * shapes) and errors when they do not fit the set. */
struct _WeftGraph;
extern const char *const weft_synthetic_names[];
WeftDataset     *weft_synthetic_make     (const char *name, struct _WeftGraph *graph,
                                          int64_t n_samples, uint64_t seed, WeftError *error);

#ifdef __cplusplus
}
#endif
