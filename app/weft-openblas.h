/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-openblas.h: make OpenBLAS use the best kernels this CPU supports. Debian's 0.3.21
 * does not recognise newer CPUs and falls back to slower kernels (AVX2 or even SSE3). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call first thing in main(), before any thread is started. When OPENBLAS_CORETYPE is unset
 * and OpenBLAS chose a kernel family weaker than the CPU supports (weft_blas_best_core()),
 * sets OPENBLAS_CORETYPE and WEFT_OPENBLAS_REEXEC=1 and re-executes /proc/self/exe with argv
 * (the library reads the variable only when it loads). In the re-executed process the guard
 * makes this a no-op (and is removed from the environment). If exec fails, the variables are
 * removed and the process goes on with the kernels it has. Setting OPENBLAS_CORETYPE yourself
 * (to any value) turns this off. */
void        weft_openblas_ensure (char **argv);

/* One line for the CLI, e.g. "OpenBLAS 0.3.21, SkylakeX kernels (auto-selected for this
 * CPU)". Static string. */
const char *weft_openblas_report (void);

G_END_DECLS
