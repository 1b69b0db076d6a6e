/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-gradcheck.h: one row per finite-difference gradient case of the layer registry.
 * tests/test-engine-ops.c runs every row of every ops-cases-*.h table and fails when an op
 * of the registry (other than Input) has no row.
 *
 * Each row runs in training mode with batch 3: inputs get distinct magnitudes in [0.1, 1]
 * with random signs (no relu kinks, no max ties), weights are uniform +-0.5 (ones-init
 * 0.7..1.3, zeros-init +-0.3), the RNG restarts from one seed before every forward. Analytic
 * din/dw (accumulated onto 0.5) are compared with central differences of sum(out * r).
 * Non-trainable weights get dw NULL. */
#pragma once

#include "weft-op.h"

typedef struct
{
  const char *op;            /* registry name, NULL terminates a table */
  const char *label;         /* short case label (part of the test path) */
  const char *params;        /* "units=3 activation=tanh": choices by name, INTS as 3,3,
                                bools 0/1; unnamed params keep their defaults */
  int         n_in;
  WeftShape   in[4];         /* per-sample input shapes (no batch axis) */
  int         int_input_max; /* > 0: inputs are integer ids in [0, max) and get no gradient */
  double      tol;           /* 0 = default relative tolerance (5e-3); a value replaces it
                                and scales the absolute tolerance (1e-3) alike */
} WeftOpCase;
