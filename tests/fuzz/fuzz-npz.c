/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-npz.c: bytes through weft_npz_read_data (zip central directory, stored and deflated
 * entries, then each entry through the .npy reader); every array that reads is touched. */
#include "weft-fuzz.h"

#include "weft-npy.h"

void weft_fuzz_touch_npy (const WeftNpyArray *a);

int
weft_fuzz_npz (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *arrays = weft_npz_read_data (data, size, &error);

  if (arrays == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  for (guint i = 0; i < arrays->len; i++)
    {
      WeftNpyArray *a = g_ptr_array_index (arrays, i);
      weft_fuzz_touch_npy (a);
      g_assert (weft_npz_find (arrays, a->name) != NULL);
    }
  g_ptr_array_unref (arrays);
  return 0;
}
