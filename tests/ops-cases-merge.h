/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-merge.h: gradient-check cases for engine/layers/weft-layers-merge.c. */
#pragma once

#include "ops-gradcheck.h"

#define S1(a)       { 1, { a } }
#define S2(a, b)    { 2, { a, b } }
#define S3(a, b, c) { 3, { a, b, c } }

static const WeftOpCase ops_cases_merge[] = {
  { "Add", "two", "", 2, { S2 (3, 4), S2 (3, 4) } },
  { "Add", "three", "", 3, { S1 (5), S1 (5), S1 (5) } },
  { "Subtract", "two", "", 2, { S1 (6), S1 (6) } },
  { "Multiply", "two", "", 2, { S2 (2, 3), S2 (2, 3) } },
  { "Multiply", "three", "", 3, { S1 (4), S1 (4), S1 (4) } },
  { "Average", "three", "", 3, { S1 (5), S1 (5), S1 (5) } },
  { "Maximum", "three", "", 3, { S1 (4), S1 (4), S1 (4) } },
  { "Minimum", "two", "", 2, { S2 (2, 3), S2 (2, 3) } },
  { "Concatenate", "last-axis", "", 2, { S2 (2, 3), S2 (2, 5) } },
  { "Concatenate", "axis-1-three", "axis=1", 3, { S2 (2, 3), S2 (4, 3), S2 (1, 3) } },
  { "Concatenate", "middle-axis", "axis=2", 2, { S3 (2, 3, 4), S3 (2, 1, 4) } },
  { "Concatenate", "channels-4d", "axis=-1", 2, { S3 (2, 2, 3), S3 (2, 2, 1) } },
  { "Dot", "vectors", "axes=1", 2, { S1 (5), S1 (5) } },
  { "Dot", "cosine", "axes=1 normalize=1", 2, { S1 (5), S1 (5) } },
  { "Dot", "sequences-last", "axes=2", 2, { S2 (3, 4), S2 (2, 4) } },
  { "Dot", "sequences-first", "axes=1,1", 2, { S2 (3, 4), S2 (3, 2) } },
  { "Dot", "matrix-vector", "axes=2,1", 2, { S2 (3, 4), S1 (4) } },
  { "Dot", "vector-matrix", "axes=1,2", 2, { S1 (4), S2 (3, 4) } },
  { "Dot", "mixed-axes", "axes=1,2", 2, { S2 (4, 3), S2 (2, 4) } },
  { "Dot", "cosine-sequences", "axes=-1 normalize=1", 2, { S2 (3, 4), S2 (2, 4) } },
  { "Dot", "cosine-columns", "axes=1 normalize=1", 2, { S2 (3, 2), S2 (3, 4) } },
  { NULL }
};

#undef S1
#undef S2
#undef S3
