/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-bench.h: `weft bench`, training and inference throughput of the reference models
 * (engine/weft-bench-models.h) next to the PyTorch peer (../shared/bench/peer_torch.py)
 * measured in the same run, plus sgemm GFLOP/s at the Dense layers' shapes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs the benchmark; argv[0] is the program name ("weft bench"), options follow:
 * [--model NAME|all] [--batch N] [--threads 1,2] [--runs N] [--warmup-sec S]
 * [--min-run-sec S] [--phases train,infer] [--json] [--no-peer] [--peer PATH]
 * [--python PATH] [--no-sgemm]. Prints a table (or JSON lines with --json) on stdout.
 * Returns 0, 1 when a measurement failed, 2 on a usage error. */
int weft_bench_main (int argc, char **argv);

G_END_DECLS
