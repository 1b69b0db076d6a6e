/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-npy.c: bytes through weft_npy_read_data; an array that reads is touched in full. */
#include "weft-fuzz.h"

#include "weft-npy.h"

void weft_fuzz_touch_npy (const WeftNpyArray *a);

void
weft_fuzz_touch_npy (const WeftNpyArray *a)
{
  volatile float sink = 0.0f;
  g_assert_cmpint (a->rank, >=, 0);
  g_assert_cmpint (a->rank, <=, WEFT_NPY_MAX_RANK);
  int64_t n = weft_npy_array_size (a);
  g_assert_cmpint (n, >=, 0);
  g_assert (n == 0 || a->data != NULL);
  for (int64_t k = 0; k < n; k++)
    sink += a->data[k];
  (void) sink;
}

int
weft_fuzz_npy (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  WeftNpyArray a;

  if (!weft_npy_read_data (data, size, &a, &error))
    {
      g_assert (error != NULL && error->message[0] != '\0');
      g_assert (a.data == NULL);
      return 0;
    }
  weft_fuzz_touch_npy (&a);
  weft_npy_array_clear (&a);
  return 0;
}
