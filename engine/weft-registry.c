/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-op.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const WeftOpDesc *const *const families[] = {
  weft_layers_core,
  weft_layers_conv,
  weft_layers_pool,
  weft_layers_recurrent,
  weft_layers_norm,
  weft_layers_reshape,
  weft_layers_merge,
};

#define N_FAMILIES (sizeof families / sizeof families[0])

int
weft_op_count (void)
{
  int n = 0;
  for (size_t f = 0; f < N_FAMILIES; f++)
    for (const WeftOpDesc *const *p = families[f]; *p != NULL; p++)
      n++;
  return n;
}

const WeftOpDesc *
weft_op_get (int index)
{
  int n = 0;
  for (size_t f = 0; f < N_FAMILIES; f++)
    for (const WeftOpDesc *const *p = families[f]; *p != NULL; p++)
      if (n++ == index)
        return *p;
  return NULL;
}

const WeftOpDesc *
weft_op_lookup (const char *name)
{
  if (name == NULL)
    return NULL;
  for (size_t f = 0; f < N_FAMILIES; f++)
    for (const WeftOpDesc *const *p = families[f]; *p != NULL; p++)
      if (strcmp ((*p)->name, name) == 0)
        return *p;
  return NULL;
}

int
weft_op_param_index (const WeftOpDesc *op, const char *name)
{
  for (int i = 0; i < op->n_params; i++)
    if (strcmp (op->params[i].name, name) == 0)
      return i;
  return -1;
}

void
weft_op_defaults (const WeftOpDesc *op, WeftValue *cfg)
{
  for (int i = 0; i < op->n_params; i++)
    {
      const WeftParamSpec *spec = &op->params[i];
      memset (&cfg[i], 0, sizeof cfg[i]);
      cfg[i].num = spec->def;
      if (spec->type == WEFT_PARAM_INTS)
        {
          cfg[i].n = spec->def_n;
          memcpy (cfg[i].ints, spec->def_ints, sizeof cfg[i].ints);
        }
    }
}

bool
weft_op_check_value (const WeftParamSpec *spec, const WeftValue *value, char *why,
                     size_t why_len)
{
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if (value->num != floor (value->num))
        {
          snprintf (why, why_len, "%s must be a whole number, not %g", spec->name, value->num);
          return false;
        }
      if ((spec->flags & WEFT_PARAM_NULLABLE) && value->num == 0)
        return true;
      /* fall through */
    case WEFT_PARAM_FLOAT:
      if (!isfinite (value->num) || value->num < spec->min || value->num > spec->max)
        {
          snprintf (why, why_len, "%s = %g is outside %g..%g", spec->name, value->num,
                    spec->min, spec->max);
          return false;
        }
      return true;
    case WEFT_PARAM_BOOL:
      if (value->num != 0 && value->num != 1)
        {
          snprintf (why, why_len, "%s must be true or false", spec->name);
          return false;
        }
      return true;
    case WEFT_PARAM_CHOICE:
      {
        int n = 0;
        while (spec->choices[n] != NULL)
          n++;
        if (value->num != floor (value->num) || value->num < 0 || value->num >= n)
          {
            snprintf (why, why_len, "%s: choice %g does not exist", spec->name, value->num);
            return false;
          }
        return true;
      }
    case WEFT_PARAM_INTS:
      if (value->n < spec->n_min || value->n > spec->n_max || value->n > WEFT_MAX_RANK)
        {
          snprintf (why, why_len, "%s needs %d to %d values, not %d", spec->name, spec->n_min,
                    spec->n_max, value->n);
          return false;
        }
      for (int i = 0; i < value->n; i++)
        {
          int v = value->ints[i];
          if (v == -1 && (spec->flags & WEFT_PARAM_ALLOW_MINUS_ONE))
            continue;
          if (v < spec->min || v > spec->max)
            {
              snprintf (why, why_len, "%s[%d] = %d is outside %g..%g", spec->name, i, v,
                        spec->min, spec->max);
              return false;
            }
        }
      return true;
    }
  return false;
}
