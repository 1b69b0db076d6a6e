/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-types.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static WeftAbortFunc abort_func;
static WeftLogFunc   log_func;
static void         *log_data;

bool
weft_error_set (WeftError  *error,
                WeftStatus  code,
                WeftId      node,
                int         port,
                const char *format,
                ...)
{
  if (error == NULL)
    return false;
  va_list ap;
  error->code = code;
  error->node = node;
  error->port = port;
  va_start (ap, format);
  vsnprintf (error->message, sizeof error->message, format, ap);
  va_end (ap);
  return false;
}

void
weft_error_clear (WeftError *error)
{
  if (error == NULL)
    return;
  error->code = WEFT_OK;
  error->node = WEFT_ID_NONE;
  error->port = -1;
  error->message[0] = '\0';
}

int64_t
weft_shape_size (const WeftShape *shape)
{
  if (shape->rank < 0 || shape->rank > WEFT_MAX_RANK)
    return 0;
  int64_t n = 1;
  for (int i = 0; i < shape->rank; i++)
    {
      if (shape->dims[i] <= 0)
        return 0;
      if (n > INT64_MAX / shape->dims[i])
        return INT64_MAX;
      n *= shape->dims[i];
    }
  return n;
}

bool
weft_shape_equal (const WeftShape *a,
                  const WeftShape *b)
{
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return false;
  return true;
}

char *
weft_shape_format (const WeftShape *shape,
                   char            *buf,
                   size_t           len)
{
  size_t used = 0;
  if (len == 0)
    return buf;
  used += snprintf (buf + used, len - used, "(None");
  for (int i = 0; i < shape->rank && used < len; i++)
    {
      if (shape->dims[i] > 0)
        used += snprintf (buf + used, len - used, ", %d", shape->dims[i]);
      else
        used += snprintf (buf + used, len - used, ", ?");
    }
  if (used < len)
    snprintf (buf + used, len - used, "%s", shape->rank == 0 ? ",)" : ")");
  return buf;
}

WeftShape
weft_shape_make (int rank, ...)
{
  WeftShape s = { 0 };
  va_list ap;
  WEFT_CHECK (rank >= 0 && rank <= WEFT_MAX_RANK);
  s.rank = rank;
  va_start (ap, rank);
  for (int i = 0; i < rank; i++)
    s.dims[i] = va_arg (ap, int);
  va_end (ap);
  return s;
}

void
weft_set_abort_func (WeftAbortFunc func)
{
  abort_func = func;
}

void
weft_abort (const char *file, int line, const char *expr)
{
  if (abort_func != NULL)
    abort_func (file, line, expr);
  fprintf (stderr, "weft: %s:%d: check failed: %s\n", file, line, expr);
  abort ();
}

void
weft_set_log_func (WeftLogFunc func, void *user_data)
{
  log_func = func;
  log_data = user_data;
}

void
weft_log (int level, const char *format, ...)
{
  char buf[512];
  va_list ap;
  if (log_func == NULL)
    return;
  va_start (ap, format);
  vsnprintf (buf, sizeof buf, format, ap);
  va_end (ap);
  log_func (level, buf, log_data);
}

/* ---- RNG: xoshiro128++ seeded through splitmix64 ---- */

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
weft_rng_seed (WeftRng *rng, uint64_t seed)
{
  uint64_t x = seed;
  uint64_t a = splitmix64 (&x), b = splitmix64 (&x);
  rng->s[0] = (uint32_t) a;
  rng->s[1] = (uint32_t) (a >> 32);
  rng->s[2] = (uint32_t) b;
  rng->s[3] = (uint32_t) (b >> 32);
  if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
    rng->s[0] = 1;
}

static inline uint32_t
rotl (uint32_t x, int k)
{
  return (x << k) | (x >> (32 - k));
}

uint32_t
weft_rng_next (WeftRng *rng)
{
  uint32_t *s = rng->s;
  uint32_t result = rotl (s[0] + s[3], 7) + s[0];
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 11);
  return result;
}

float
weft_rng_uniform (WeftRng *rng)
{
  return (weft_rng_next (rng) >> 8) * (1.0f / 16777216.0f);
}

float
weft_rng_normal (WeftRng *rng)
{
  /* Box-Muller; u1 in (0, 1] so the log is finite. */
  float u1 = ((weft_rng_next (rng) >> 8) + 1) * (1.0f / 16777216.0f);
  float u2 = weft_rng_uniform (rng);
  return sqrtf (-2.0f * logf (u1)) * cosf (6.283185307179586f * u2);
}

uint32_t
weft_rng_below (WeftRng *rng, uint32_t n)
{
  if (n <= 1)
    return 0;
  /* Lemire's multiply-shift with rejection. */
  uint64_t m = (uint64_t) weft_rng_next (rng) * n;
  uint32_t l = (uint32_t) m;
  if (l < n)
    {
      uint32_t t = -n % n;
      while (l < t)
        {
          m = (uint64_t) weft_rng_next (rng) * n;
          l = (uint32_t) m;
        }
    }
  return (uint32_t) (m >> 32);
}

void
weft_rng_shuffle (WeftRng *rng, int32_t *items, int32_t n)
{
  for (int32_t i = n - 1; i > 0; i--)
    {
      int32_t j = (int32_t) weft_rng_below (rng, (uint32_t) i + 1);
      int32_t t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
}
