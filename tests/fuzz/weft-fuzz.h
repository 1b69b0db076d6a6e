/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-fuzz.h: the fuzz targets' entry points. Each fuzz-*.c defines one weft_fuzz_<target>
 * that feeds bytes to a loader and checks what it promises (an error or a usable result);
 * libFuzzer calls it through LLVMFuzzerTestOneInput, and the regression test of the normal
 * build (tests/test-io-fuzz-regressions.c) calls it directly on every corpus file. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Each returns 0; a broken promise aborts (g_assert / g_error). */
int weft_fuzz_weft        (const uint8_t *data, size_t size);
int weft_fuzz_safetensors (const uint8_t *data, size_t size);
int weft_fuzz_npy         (const uint8_t *data, size_t size);
int weft_fuzz_npz         (const uint8_t *data, size_t size);
int weft_fuzz_csv         (const uint8_t *data, size_t size);
int weft_fuzz_keras       (const uint8_t *data, size_t size);

/* Makes GLib criticals and warnings abort(), so a g_return_if_fail hit is a finding that
 * libFuzzer records (the GLib test framework makes them fatal by itself). */
void weft_fuzz_init       (void);

G_END_DECLS

