/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-rnn-util.h"

#include "weft-blas.h"
#include "weft-vmath.h"

#include <stdio.h>
#include <string.h>

/* Saved state (aux), for B rows, T steps, u units, G gate blocks:
 *   flags [2]         whether the forward applied input / recurrent dropout
 *   pre  [T, B, G*u]  gate pre-activations, indexed by time: one step is one contiguous
 *                     block (a [B, T] layout spreads a step over B rows T*G*u apart, and the
 *                     per-step passes then miss the cache and TLB on every row)
 *   act  [T, B, G*u]  activated gates
 *   hs   [T+1, B, u]  states by processing step; hs[0] = 0; rows 0..T*B line up with dR
 *   LSTM: cs [T+1, B, u] cell states, acs [T, B, u] act(c)
 *   GRU:  rh [T, B, u] reset_after: h·Uh + bh (before r); else r*h (the input of Uh)
 *   dropout: xmask [B, in], xd [B, T, in] (the masked input);
 *   recurrent_dropout: hmask [B, u], hsm [T, B, u] (masked states entering the products)
 * Scratch: dG [T, B, G*u] (by time), dR [T, B, G*u] (by step), dh, dc [B, u], tmp [B, G*u],
 * with dropout dxd [B, T, in]. */

typedef struct
{
  float *flags, *pre, *act, *hs, *cs, *acs, *rh, *xmask, *xd, *hmask, *hsm;
} RnnAux;

/* One LSTM step forward for every row with Keras' default activations (tanh, sigmoid gates):
 * gates, cell and state in one pass over 16 units at a time, on the same vector functions
 * as weft_activation_forward (a partial last vector is padded, as there). */
WEFT_VECTOR_CLONES static void
lstm_forward_step_default (int batch, int u, size_t ld, const float *pre, float *act,
                           const float *cp, float *cn, float *ac, float *hn)
{
  for (int b = 0; b < batch; b++)
    {
      const float *pb = pre + b * ld;
      float *ab = act + b * ld;
      const float *cpb = cp + (size_t) b * u;
      float *cnb = cn + (size_t) b * u, *acb = ac + (size_t) b * u, *hb = hn + (size_t) b * u;

      for (int j = 0; j < u; j += WEFT_VF_LANES)
        {
          const int m = u - j < WEFT_VF_LANES ? u - j : WEFT_VF_LANES;
          const WeftVF i = weft_v_sigmoid (weft_v_load_part (pb + j, m));
          const WeftVF f = weft_v_sigmoid (weft_v_load_part (pb + u + j, m));
          const WeftVF g = weft_v_tanh (weft_v_load_part (pb + 2 * u + j, m));
          const WeftVF o = weft_v_sigmoid (weft_v_load_part (pb + 3 * u + j, m));
          const WeftVF c = f * weft_v_load_part (cpb + j, m) + i * g;
          const WeftVF a = weft_v_tanh (c);
          weft_v_store_part (ab + j, i, m);
          weft_v_store_part (ab + u + j, f, m);
          weft_v_store_part (ab + 2 * u + j, g, m);
          weft_v_store_part (ab + 3 * u + j, o, m);
          weft_v_store_part (cnb + j, c, m);
          weft_v_store_part (acb + j, a, m);
          weft_v_store_part (hb + j, o * a, m);
        }
    }
}

/* One LSTM step of back-propagation for every row, with Keras' default activations (tanh,
 * sigmoid gates) whose derivatives come from the saved outputs: one pass per row instead of a
 * call per gate block. Same formulas as the general path below. */
WEFT_VECTOR_CLONES static void
lstm_backward_step_default (int batch, int u, size_t ld, const float *act, const float *cp,
                            const float *ac, const float *dh, float *dc, float *dg, float *dr)
{
  const int gu = 4 * u;
  for (int b = 0; b < batch; b++)
    {
      const float *ab = act + b * ld;
      const float *dhb = dh + (size_t) b * u, *cpb = cp + (size_t) b * u;
      const float *acb = ac + (size_t) b * u;
      float *dcb = dc + (size_t) b * u, *dgb = dg + b * ld, *drb = dr + (size_t) b * gu;
      int j = 0;

      /* 16 units at a time, then the same formulas one by one */
      for (; j + WEFT_VF_LANES <= u; j += WEFT_VF_LANES)
        {
          const WeftVF i = weft_v_load (ab + j), f = weft_v_load (ab + u + j), g = weft_v_load (ab + 2 * u + j);
          const WeftVF o = weft_v_load (ab + 3 * u + j), a = weft_v_load (acb + j), dhv = weft_v_load (dhb + j);
          const WeftVF d = weft_v_load (dcb + j) + (1.0f - a * a) * (dhv * o);
          const WeftVF gi = (i * (1.0f - i)) * (d * g);
          const WeftVF gf = (f * (1.0f - f)) * (d * weft_v_load (cpb + j));
          const WeftVF gg = (1.0f - g * g) * (d * i);
          const WeftVF go = (o * (1.0f - o)) * (dhv * a);
          weft_v_store (dgb + j, gi);
          weft_v_store (drb + j, gi);
          weft_v_store (dgb + u + j, gf);
          weft_v_store (drb + u + j, gf);
          weft_v_store (dgb + 2 * u + j, gg);
          weft_v_store (drb + 2 * u + j, gg);
          weft_v_store (dgb + 3 * u + j, go);
          weft_v_store (drb + 3 * u + j, go);
          weft_v_store (dcb + j, d * f);
        }
      for (; j < u; j++)
        {
          const float i = ab[j], f = ab[u + j], g = ab[2 * u + j], o = ab[3 * u + j];
          const float a = acb[j];
          const float d = dcb[j] + (1.0f - a * a) * (dhb[j] * o);
          const float gi = (i * (1.0f - i)) * (d * g);
          const float gf = (f * (1.0f - f)) * (d * cpb[j]);
          const float gg = (1.0f - g * g) * (d * i);
          const float go = (o * (1.0f - o)) * (dhb[j] * a);
          dgb[j] = drb[j] = gi;
          dgb[u + j] = drb[u + j] = gf;
          dgb[2 * u + j] = drb[2 * u + j] = gg;
          dgb[3 * u + j] = drb[3 * u + j] = go;
          dcb[j] = d * f;
        }
    }
}

typedef struct
{
  float *dg, *dr, *dh, *dc, *tmp, *dxd;
} RnnScratch;

int
weft_rnn_gates (const WeftRnnCell *cell)
{
  switch (cell->kind)
    {
    case WEFT_RNN_LSTM:
      return 4;
    case WEFT_RNN_GRU:
      return 3;
    case WEFT_RNN_SIMPLE:
    default:
      return 1;
    }
}

static void
set_spec (WeftWeightSpec *spec, const char *prefix, const char *name, WeftShape shape,
          WeftInit init)
{
  memset (spec, 0, sizeof *spec);
  snprintf (spec->name, sizeof spec->name, "%s%s", prefix, name);
  spec->shape = shape;
  spec->init = init;
  spec->trainable = true;
}

int
weft_rnn_weights (const WeftRnnCell *cell, const char *prefix, WeftWeightSpec *specs)
{
  int gu = weft_rnn_gates (cell) * cell->units;

  set_spec (&specs[0], prefix, "kernel", weft_shape_make (2, cell->in_dim, gu),
            WEFT_INIT_GLOROT_UNIFORM);
  set_spec (&specs[1], prefix, "recurrent_kernel", weft_shape_make (2, cell->units, gu),
            WEFT_INIT_ORTHOGONAL);
  if (!cell->use_bias)
    return 2;
  if (cell->kind == WEFT_RNN_GRU && cell->reset_after)
    set_spec (&specs[2], prefix, "bias", weft_shape_make (2, 2, gu), WEFT_INIT_ZEROS);
  else
    set_spec (&specs[2], prefix, "bias", weft_shape_make (1, gu),
              cell->kind == WEFT_RNN_LSTM ? WEFT_INIT_UNIT_FORGET_BIAS : WEFT_INIT_ZEROS);
  return 3;
}

size_t
weft_rnn_out_size (const WeftRnnCell *cell)
{
  return (size_t) cell->units * (cell->return_sequences ? (size_t) cell->steps : 1);
}

static size_t
aux_layout (const WeftRnnCell *cell, int batch, float *base, RnnAux *a)
{
  size_t b = (size_t) batch, t = (size_t) cell->steps, u = (size_t) cell->units;
  size_t gu = (size_t) weft_rnn_gates (cell) * u;
  size_t off = 0;
  RnnAux dummy;

  if (a == NULL)
    a = &dummy;
#define TAKE(field, n) do { a->field = base != NULL ? base + off : NULL; off += (n); } while (0)
  TAKE (flags, 2);
  TAKE (pre, b * t * gu);
  TAKE (act, b * t * gu);
  TAKE (hs, (t + 1) * b * u);
  a->cs = a->acs = a->rh = a->xmask = a->xd = a->hmask = a->hsm = NULL;
  if (cell->kind == WEFT_RNN_LSTM)
    {
      TAKE (cs, (t + 1) * b * u);
      TAKE (acs, t * b * u);
    }
  else if (cell->kind == WEFT_RNN_GRU)
    TAKE (rh, t * b * u);
  if (cell->dropout > 0.0f)
    {
      TAKE (xmask, b * (size_t) cell->in_dim);
      TAKE (xd, b * t * (size_t) cell->in_dim);
    }
  if (cell->recurrent_dropout > 0.0f)
    {
      TAKE (hmask, b * u);
      TAKE (hsm, t * b * u);
    }
#undef TAKE
  return off;
}

static size_t
scratch_layout (const WeftRnnCell *cell, int batch, float *base, RnnScratch *s)
{
  size_t b = (size_t) batch, t = (size_t) cell->steps, u = (size_t) cell->units;
  size_t gu = (size_t) weft_rnn_gates (cell) * u;
  size_t off = 0;
  RnnScratch dummy;

  if (s == NULL)
    s = &dummy;
#define TAKE(field, n) do { s->field = base != NULL ? base + off : NULL; off += (n); } while (0)
  TAKE (dg, b * t * gu);
  TAKE (dr, t * b * gu);
  TAKE (dh, b * u);
  TAKE (dc, b * u);
  TAKE (tmp, b * gu);
  s->dxd = NULL;
  if (cell->dropout > 0.0f)
    TAKE (dxd, b * t * (size_t) cell->in_dim);
#undef TAKE
  return off;
}

size_t
weft_rnn_aux_size (const WeftRnnCell *cell, int batch)
{
  return aux_layout (cell, batch, NULL, NULL);
}

size_t
weft_rnn_scratch_size (const WeftRnnCell *cell, int batch)
{
  return scratch_layout (cell, batch, NULL, NULL);
}

bool
weft_rnn_check_input (const char *layer, const WeftShape *in, char *why, size_t why_len)
{
  char buf[96];

  if (in->rank != 2)
    {
      snprintf (why, why_len, "%s expects a 3D input (batch, timesteps, features), got %s",
                layer, weft_shape_format (in, buf, sizeof buf));
      return false;
    }
  return true;
}

static inline int
time_of (const WeftRnnCell *cell, int s)
{
  return cell->go_backwards ? cell->steps - 1 - s : s;
}

/* Position of step s in a returned sequence. */
static inline int
out_pos (const WeftRnnCell *cell, int s)
{
  return cell->reverse_output ? cell->steps - 1 - s : s;
}

/* Inverted dropout mask: kept values are scaled by 1/(1 - rate). */
static void
draw_mask (WeftRng *rng, float rate, float *mask, size_t n)
{
  const float scale = 1.0f / (1.0f - rate);
  for (size_t i = 0; i < n; i++)
    mask[i] = weft_rng_uniform (rng) >= rate ? scale : 0.0f;
}

void
weft_rnn_forward (const WeftRnnCell *cell, int batch, const float *x, float *const w[3],
                  float *aux, float *scratch, float *y, bool training, WeftRng *rng)
{
  const int T = cell->steps, u = cell->units, in = cell->in_dim;
  const int G = weft_rnn_gates (cell), gu = G * u;
  const size_t ld = (size_t) gu; /* row stride of pre/act within a step */
  const float *kernel = w[0], *rkernel = w[1], *bias = cell->use_bias ? w[2] : NULL;
  RnnAux a;
  RnnScratch sc;

  if (batch <= 0)
    return;
  aux_layout (cell, batch, aux, &a);
  scratch_layout (cell, batch, scratch, &sc);
  const bool dp = training && cell->dropout > 0.0f;
  const bool rdp = training && cell->recurrent_dropout > 0.0f;
  a.flags[0] = dp ? 1.0f : 0.0f;
  a.flags[1] = rdp ? 1.0f : 0.0f;
  if (dp || rdp)
    WEFT_CHECK (rng != NULL);
  if (dp)
    {
      /* One mask per sample, shared by every time step (Keras). */
      draw_mask (rng, cell->dropout, a.xmask, (size_t) batch * in);
      for (int b = 0; b < batch; b++)
        for (int t = 0; t < T; t++)
          {
            const float *xr = x + ((size_t) b * T + t) * in, *m = a.xmask + (size_t) b * in;
            float *dr = a.xd + ((size_t) b * T + t) * in;
            for (int i = 0; i < in; i++)
              dr[i] = xr[i] * m[i];
          }
      x = a.xd;
    }
  if (rdp)
    draw_mask (rng, cell->recurrent_dropout, a.hmask, (size_t) batch * u);

  /* Input projection, one GEMM per time step: x[:, t, :] is B rows T*in apart. */
  for (int t = 0; t < T; t++)
    weft_sgemm (false, false, batch, gu, in, 1.0f, x + (size_t) t * in, T * in, kernel, gu,
                0.0f, a.pre + (size_t) t * batch * gu, gu);
  if (bias != NULL)
    for (size_t r = 0; r < (size_t) batch * T; r++)
      {
        float *row = a.pre + r * gu;
        for (int j = 0; j < gu; j++)
          row[j] += bias[j];
      }
  memset (a.hs, 0, sizeof (float) * batch * u);
  if (a.cs != NULL)
    memset (a.cs, 0, sizeof (float) * batch * u);

  for (int s = 0; s < T; s++)
    {
      const int t = time_of (cell, s);
      float *pre = a.pre + (size_t) t * batch * gu, *act = a.act + (size_t) t * batch * gu;
      const float *hp = a.hs + (size_t) s * batch * u;
      float *hn = a.hs + (size_t) (s + 1) * batch * u;
      /* The state as it enters the recurrent products (masked by recurrent dropout). */
      const float *hr = hp;

      if (rdp)
        {
          float *hm = a.hsm + (size_t) s * batch * u;
          for (size_t i = 0; i < (size_t) batch * u; i++)
            hm[i] = hp[i] * a.hmask[i];
          hr = hm;
        }

      switch (cell->kind)
        {
        case WEFT_RNN_SIMPLE:
          weft_sgemm (false, false, batch, u, u, 1.0f, hr, u, rkernel, u, 1.0f, pre, (int) ld);
          for (int b = 0; b < batch; b++)
            {
              weft_activation_forward (cell->act, pre + b * ld, act + b * ld, u, u);
              memcpy (hn + (size_t) b * u, act + b * ld, sizeof (float) * u);
            }
          break;

        case WEFT_RNN_LSTM:
          {
            const float *cp = a.cs + (size_t) s * batch * u;
            float *cn = a.cs + (size_t) (s + 1) * batch * u;
            float *ac = a.acs + (size_t) s * batch * u;

            weft_sgemm (false, false, batch, gu, u, 1.0f, hr, u, rkernel, gu, 1.0f, pre,
                        (int) ld);
            if (cell->act == WEFT_ACT_TANH && cell->rec_act == WEFT_ACT_SIGMOID)
              lstm_forward_step_default (batch, u, ld, pre, act, cp, cn, ac, hn);
            else
              for (int b = 0; b < batch; b++)
                {
                  const float *pb = pre + b * ld;
                  float *ab = act + b * ld;
                  const float *cpb = cp + (size_t) b * u;
                  float *cnb = cn + (size_t) b * u, *acb = ac + (size_t) b * u;
                  float *hb = hn + (size_t) b * u;

                  weft_activation_forward (cell->rec_act, pb, ab, 2 * u, u);
                  weft_activation_forward (cell->act, pb + 2 * u, ab + 2 * u, u, u);
                  weft_activation_forward (cell->rec_act, pb + 3 * u, ab + 3 * u, u, u);
                  for (int j = 0; j < u; j++)
                    cnb[j] = ab[u + j] * cpb[j] + ab[j] * ab[2 * u + j];
                  weft_activation_forward (cell->act, cnb, acb, u, u);
                  for (int j = 0; j < u; j++)
                    hb[j] = ab[3 * u + j] * acb[j];
                }
            break;
          }

        case WEFT_RNN_GRU:
          {
            float *rh = a.rh + (size_t) s * batch * u;

            if (cell->reset_after)
              {
                const float *rbias = bias != NULL ? bias + gu : NULL;

                weft_sgemm (false, false, batch, gu, u, 1.0f, hr, u, rkernel, gu, 0.0f, sc.tmp,
                            gu);
                for (int b = 0; b < batch; b++)
                  {
                    float *pb = pre + b * ld, *ab = act + b * ld, *tb = sc.tmp + (size_t) b * gu;
                    float *rhb = rh + (size_t) b * u;

                    if (rbias != NULL)
                      for (int j = 0; j < gu; j++)
                        tb[j] += rbias[j];
                    for (int j = 0; j < 2 * u; j++)
                      pb[j] += tb[j];
                    weft_activation_forward (cell->rec_act, pb, ab, 2 * u, u);
                    for (int j = 0; j < u; j++)
                      {
                        rhb[j] = tb[2 * u + j];
                        pb[2 * u + j] += ab[u + j] * rhb[j];
                      }
                  }
              }
            else
              {
                weft_sgemm (false, false, batch, 2 * u, u, 1.0f, hr, u, rkernel, gu, 1.0f, pre,
                            (int) ld);
                for (int b = 0; b < batch; b++)
                  {
                    const float *hpb = hr + (size_t) b * u;
                    float *ab = act + b * ld, *rhb = rh + (size_t) b * u;

                    weft_activation_forward (cell->rec_act, pre + b * ld, ab, 2 * u, u);
                    for (int j = 0; j < u; j++)
                      rhb[j] = ab[u + j] * hpb[j];
                  }
                weft_sgemm (false, false, batch, u, u, 1.0f, rh, u, rkernel + 2 * u, gu, 1.0f,
                            pre + 2 * u, (int) ld);
              }
            for (int b = 0; b < batch; b++)
              {
                const float *hpb = hp + (size_t) b * u;
                float *ab = act + b * ld, *hb = hn + (size_t) b * u;

                weft_activation_forward (cell->act, pre + b * ld + 2 * u, ab + 2 * u, u, u);
                for (int j = 0; j < u; j++)
                  hb[j] = ab[j] * hpb[j] + (1.0f - ab[j]) * ab[2 * u + j];
              }
            break;
          }
        }

      if (cell->return_sequences)
        {
          const int p = out_pos (cell, s);
          for (int b = 0; b < batch; b++)
            memcpy (y + ((size_t) b * T + p) * u, hn + (size_t) b * u, sizeof (float) * u);
        }
    }
  if (!cell->return_sequences)
    memcpy (y, a.hs + (size_t) T * batch * u, sizeof (float) * batch * u);
}

void
weft_rnn_backward (const WeftRnnCell *cell, int batch, const float *x, float *const w[3],
                   const float *aux, float *scratch, const float *dy, float *dx,
                   float *const dw[3])
{
  const int T = cell->steps, u = cell->units, in = cell->in_dim;
  const int G = weft_rnn_gates (cell), gu = G * u;
  const size_t ld = (size_t) gu;
  const float *kernel = w[0], *rkernel = w[1];
  float *dkernel = dw[0], *drkernel = dw[1], *dbias = cell->use_bias ? dw[2] : NULL;
  RnnAux a;
  RnnScratch sc;

  if (batch <= 0 || (dx == NULL && dkernel == NULL && drkernel == NULL && dbias == NULL))
    return;
  aux_layout (cell, batch, (float *) aux, &a);
  scratch_layout (cell, batch, scratch, &sc);
  const bool dp = a.flags[0] != 0.0f, rdp = a.flags[1] != 0.0f;
  const bool gru_before = cell->kind == WEFT_RNN_GRU && !cell->reset_after;
  /* Gradient of the masked state, [B, u]: beside GRU's d(r*h) when both are needed. */
  float *dhr = sc.tmp + (gru_before ? (size_t) batch * u : 0);
  memset (sc.dh, 0, sizeof (float) * batch * u);
  memset (sc.dc, 0, sizeof (float) * batch * u);

  for (int s = T - 1; s >= 0; s--)
    {
      const int t = time_of (cell, s);
      const float *pre = a.pre + (size_t) t * batch * gu;
      const float *act = a.act + (size_t) t * batch * gu;
      const float *hp = a.hs + (size_t) s * batch * u;
      const float *hr = rdp ? a.hsm + (size_t) s * batch * u : hp;
      float *dg = sc.dg + (size_t) t * batch * gu;
      float *dr = sc.dr + (size_t) s * batch * gu;
      float *dh = sc.dh;

      if (cell->return_sequences)
        {
          const int p = out_pos (cell, s);
          for (int b = 0; b < batch; b++)
            {
              const float *dyb = dy + ((size_t) b * T + p) * u;
              for (int j = 0; j < u; j++)
                dh[(size_t) b * u + j] += dyb[j];
            }
        }
      else if (s == T - 1)
        for (size_t i = 0; i < (size_t) batch * u; i++)
          dh[i] += dy[i];

      switch (cell->kind)
        {
        case WEFT_RNN_SIMPLE:
          for (int b = 0; b < batch; b++)
            {
              float *dgb = dg + b * ld;
              memcpy (dgb, dh + (size_t) b * u, sizeof (float) * u);
              weft_activation_grad_inplace (cell->act, pre + b * ld, act + b * ld, dgb, u, u);
              memcpy (dr + (size_t) b * gu, dgb, sizeof (float) * gu);
            }
          weft_sgemm (false, true, batch, u, gu, 1.0f, dr, gu, rkernel, gu, 0.0f,
                      rdp ? dhr : dh, u);
          if (rdp)
            for (size_t i = 0; i < (size_t) batch * u; i++)
              dh[i] = dhr[i] * a.hmask[i];
          break;

        case WEFT_RNN_LSTM:
          {
            const float *cp = a.cs + (size_t) s * batch * u;
            const float *cn = a.cs + (size_t) (s + 1) * batch * u;
            const float *ac = a.acs + (size_t) s * batch * u;

            if (cell->act == WEFT_ACT_TANH && cell->rec_act == WEFT_ACT_SIGMOID)
              lstm_backward_step_default (batch, u, ld, act, cp, ac, dh, sc.dc, dg, dr);
            else
              for (int b = 0; b < batch; b++)
                {
                  const float *pb = pre + b * ld, *ab = act + b * ld;
                  const float *dhb = dh + (size_t) b * u, *cpb = cp + (size_t) b * u;
                  const float *acb = ac + (size_t) b * u;
                  float *dcb = sc.dc + (size_t) b * u, *dgb = dg + b * ld, *tmp = sc.tmp;

                  for (int j = 0; j < u; j++)
                    tmp[j] = dhb[j] * ab[3 * u + j];
                  weft_activation_backward (cell->act, cn + (size_t) b * u, acb, tmp, dcb, u, u);
                  for (int j = 0; j < u; j++)
                    {
                      dgb[j] = dcb[j] * ab[2 * u + j];         /* i */
                      dgb[u + j] = dcb[j] * cpb[j];            /* f */
                      dgb[2 * u + j] = dcb[j] * ab[j];         /* c */
                      dgb[3 * u + j] = dhb[j] * acb[j];        /* o */
                      dcb[j] *= ab[u + j];
                    }
                  weft_activation_grad_inplace (cell->rec_act, pb, ab, dgb, 2 * u, u);
                  weft_activation_grad_inplace (cell->act, pb + 2 * u, ab + 2 * u, dgb + 2 * u,
                                                u, u);
                  weft_activation_grad_inplace (cell->rec_act, pb + 3 * u, ab + 3 * u,
                                                dgb + 3 * u, u, u);
                  memcpy (dr + (size_t) b * gu, dgb, sizeof (float) * gu);
                }
            weft_sgemm (false, true, batch, u, gu, 1.0f, dr, gu, rkernel, gu, 0.0f,
                        rdp ? dhr : dh, u);
            if (rdp)
              for (size_t i = 0; i < (size_t) batch * u; i++)
                dh[i] = dhr[i] * a.hmask[i];
            break;
          }

        case WEFT_RNN_GRU:
          {
            const float *rh = a.rh + (size_t) s * batch * u;

            for (int b = 0; b < batch; b++)
              {
                const float *pb = pre + b * ld, *ab = act + b * ld;
                const float *hpb = hp + (size_t) b * u;
                float *dhb = dh + (size_t) b * u, *dgb = dg + b * ld;

                for (int j = 0; j < u; j++)
                  {
                    dgb[j] = dhb[j] * (hpb[j] - ab[2 * u + j]);   /* z */
                    dgb[2 * u + j] = dhb[j] * (1.0f - ab[j]);     /* hh */
                    dhb[j] *= ab[j];                              /* direct path z*h */
                  }
                weft_activation_grad_inplace (cell->act, pb + 2 * u, ab + 2 * u, dgb + 2 * u,
                                              u, u);
              }
            if (cell->reset_after)
              {
                for (int b = 0; b < batch; b++)
                  {
                    const float *pb = pre + b * ld, *ab = act + b * ld;
                    const float *rhb = rh + (size_t) b * u;
                    float *dgb = dg + b * ld, *drb = dr + (size_t) b * gu;

                    for (int j = 0; j < u; j++)
                      {
                        dgb[u + j] = dgb[2 * u + j] * rhb[j];
                        drb[2 * u + j] = dgb[2 * u + j] * ab[u + j];
                      }
                    weft_activation_grad_inplace (cell->rec_act, pb, ab, dgb, 2 * u, u);
                    memcpy (drb, dgb, sizeof (float) * 2 * u);
                  }
                if (rdp)
                  {
                    weft_sgemm (false, true, batch, u, gu, 1.0f, dr, gu, rkernel, gu, 0.0f,
                                dhr, u);
                    for (size_t i = 0; i < (size_t) batch * u; i++)
                      dh[i] += dhr[i] * a.hmask[i];
                  }
                else
                  weft_sgemm (false, true, batch, u, gu, 1.0f, dr, gu, rkernel, gu, 1.0f, dh,
                              u);
              }
            else
              {
                /* d(r*h) = dhh_pre · Uh^T */
                weft_sgemm (false, true, batch, u, u, 1.0f, dg + 2 * u, (int) ld,
                            rkernel + 2 * u, gu, 0.0f, sc.tmp, u);
                for (int b = 0; b < batch; b++)
                  {
                    const float *pb = pre + b * ld, *ab = act + b * ld;
                    const float *hrb = hr + (size_t) b * u, *drh = sc.tmp + (size_t) b * u;
                    float *dgb = dg + b * ld;
                    float *dhb = (rdp ? dhr : dh) + (size_t) b * u;

                    for (int j = 0; j < u; j++)
                      {
                        dgb[u + j] = drh[j] * hrb[j];
                        if (rdp)
                          dhb[j] = drh[j] * ab[u + j];
                        else
                          dhb[j] += drh[j] * ab[u + j];
                      }
                    weft_activation_grad_inplace (cell->rec_act, pb, ab, dgb, 2 * u, u);
                    memcpy (dr + (size_t) b * gu, dgb, sizeof (float) * gu);
                  }
                weft_sgemm (false, true, batch, u, 2 * u, 1.0f, dr, gu, rkernel, gu, 1.0f,
                            rdp ? dhr : dh, u);
                if (rdp)
                  for (size_t i = 0; i < (size_t) batch * u; i++)
                    dh[i] += dhr[i] * a.hmask[i];
              }
            break;
          }
        }
    }

  const int rows = batch * T;
  const float *hrec = rdp ? a.hsm : a.hs;
  const float *xin = dp ? a.xd : x;
  /* dG is by time, x by sample: one GEMM per time step, x[:, t, :] being B rows T*in apart. */
  for (int t = 0; t < T; t++)
    {
      const float *dgt = sc.dg + (size_t) t * batch * gu;
      const size_t xo = (size_t) t * in;
      if (dx != NULL)
        weft_sgemm (false, true, batch, in, gu, 1.0f, dgt, gu, kernel, gu, dp ? 0.0f : 1.0f,
                    (dp ? sc.dxd : dx) + xo, T * in);
      if (dkernel != NULL)
        weft_sgemm (true, false, in, gu, batch, 1.0f, xin + xo, T * in, dgt, gu, 1.0f, dkernel,
                    gu);
    }
  if (dx != NULL && dp)
    for (int b = 0; b < batch; b++)
      for (int t = 0; t < T; t++)
        {
          const size_t r = ((size_t) b * T + t) * in;
          const float *m = a.xmask + (size_t) b * in;
          for (int i = 0; i < in; i++)
            dx[r + i] += sc.dxd[r + i] * m[i];
        }
  if (drkernel != NULL)
    {
      if (gru_before)
        {
          weft_sgemm (true, false, u, 2 * u, rows, 1.0f, hrec, u, sc.dr, gu, 1.0f, drkernel, gu);
          weft_sgemm (true, false, u, u, rows, 1.0f, a.rh, u, sc.dr + 2 * u, gu, 1.0f,
                      drkernel + 2 * u, gu);
        }
      else
        weft_sgemm (true, false, u, gu, rows, 1.0f, hrec, u, sc.dr, gu, 1.0f, drkernel, gu);
    }
  if (dbias != NULL)
    {
      for (size_t r = 0; r < (size_t) rows; r++)
        {
          const float *row = sc.dg + r * gu;
          for (int j = 0; j < gu; j++)
            dbias[j] += row[j];
        }
      if (cell->kind == WEFT_RNN_GRU && cell->reset_after)
        for (size_t r = 0; r < (size_t) rows; r++)
          {
            const float *row = sc.dr + r * gu;
            for (int j = 0; j < gu; j++)
              dbias[gu + j] += row[j];
          }
    }
}
