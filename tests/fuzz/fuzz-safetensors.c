/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-safetensors.c: bytes through weft_tensor_file_read_data; every tensor of a file that
 * reads is touched in full (so ASan sees any short buffer) and the metadata is looked up. */
#include "weft-fuzz.h"

#include "weft-safetensors.h"

int
weft_fuzz_safetensors (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  WeftTensorFile *f = weft_tensor_file_read_data (data, size, &error);

  if (f == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  int n = weft_tensor_file_n (f);
  g_assert_cmpint (n, >=, 0);
  volatile float sink = 0.0f;
  for (int i = 0; i < n; i++)
    {
      const char *name = weft_tensor_file_name (f, i);
      int rank = -1;
      int64_t dims[WEFT_TENSOR_MAX_RANK];
      g_assert (name != NULL);
      const float *values = weft_tensor_file_get (f, name, &rank, dims);
      g_assert (values != NULL);
      g_assert_cmpint (rank, >=, 0);
      g_assert_cmpint (rank, <=, WEFT_TENSOR_MAX_RANK);
      int64_t count = 1;
      for (int d = 0; d < rank; d++)
        {
          g_assert_cmpint (dims[d], >=, 0);
          count *= dims[d];
        }
      for (int64_t k = 0; k < count; k++)
        sink += values[k];
    }
  (void) sink;
  (void) weft_tensor_file_get_metadata (f, "format");
  (void) weft_tensor_file_get (f, "", NULL, NULL);
  weft_tensor_file_free (f);
  return 0;
}
