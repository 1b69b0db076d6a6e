/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _WeftDataset
{
  int64_t    n_samples;
  WeftArray *arrays;
  int        n_arrays;
};

WeftDataset *
weft_dataset_new (int64_t n_samples)
{
  if (n_samples < 0)
    return NULL;
  WeftDataset *d = calloc (1, sizeof *d);
  if (d != NULL)
    d->n_samples = n_samples;
  return d;
}

void
weft_dataset_free (WeftDataset *data)
{
  if (data == NULL)
    return;
  for (int i = 0; i < data->n_arrays; i++)
    free (data->arrays[i].data);
  free (data->arrays);
  free (data);
}

int64_t
weft_dataset_n_samples (const WeftDataset *data)
{
  return data->n_samples;
}

bool
weft_dataset_take (WeftDataset *data, const char *name, const WeftShape *shape, float *values,
                   WeftError *error)
{
  if (name == NULL || name[0] == '\0' || strlen (name) >= WEFT_NAME_MAX)
    {
      free (values);
      return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                             "an array needs a name of 1 to %d characters", WEFT_NAME_MAX - 1);
    }
  if (weft_dataset_find (data, name) != NULL)
    {
      free (values);
      return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                             "the data set already has an array named '%s'", name);
    }
  WeftArray *a = realloc (data->arrays, (size_t) (data->n_arrays + 1) * sizeof *a);
  if (a == NULL)
    {
      free (values);
      return weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
    }
  data->arrays = a;
  a = &data->arrays[data->n_arrays++];
  memset (a, 0, sizeof *a);
  snprintf (a->name, sizeof a->name, "%s", name);
  a->shape = *shape;
  a->data = values;
  return true;
}

float *
weft_dataset_add (WeftDataset *data, const char *name, const WeftShape *shape,
                  WeftError *error)
{
  int64_t per = weft_shape_size (shape);
  if (per <= 0 || (data->n_samples > 0 && per > INT64_MAX / 4 / data->n_samples)
      || per * data->n_samples > ((int64_t) 1 << 36))
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1,
                      "array '%s': %lld samples of %lld values is too large",
                      name != NULL ? name : "?", (long long) data->n_samples, (long long) per);
      return NULL;
    }
  size_t n = (size_t) (per * data->n_samples);
  float *values = calloc (n > 0 ? n : 1, sizeof (float));
  if (values == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1,
                      "out of memory for array '%s'", name != NULL ? name : "?");
      return NULL;
    }
  if (!weft_dataset_take (data, name, shape, values, error))
    return NULL;
  return values;
}

int
weft_dataset_n_arrays (const WeftDataset *data)
{
  return data->n_arrays;
}

const WeftArray *
weft_dataset_array (const WeftDataset *data, int i)
{
  WEFT_CHECK (i >= 0 && i < data->n_arrays);
  return &data->arrays[i];
}

const WeftArray *
weft_dataset_find (const WeftDataset *data, const char *name)
{
  for (int i = 0; i < data->n_arrays; i++)
    if (strcmp (data->arrays[i].name, name) == 0)
      return &data->arrays[i];
  return NULL;
}
