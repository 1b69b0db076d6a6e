/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-main.c: the libFuzzer entry, built once per target with -DWEFT_FUZZ_TARGET=weft_fuzz_X. */
#include "weft-fuzz.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  weft_fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return WEFT_FUZZ_TARGET (data, size);
}
