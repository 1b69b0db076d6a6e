/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-rnn-util.h: the recurrent cells (SimpleRNN, LSTM, GRU) shared by the plain layers and
 * Bidirectional. Input x is [batch, steps, in_dim]; the input projection of all steps is one
 * sgemm, each step one sgemm for the recurrent part; gates and states are kept in aux for
 * back-propagation through time. Nothing here allocates. */
#pragma once

#include "weft-activation.h"
#include "weft-op.h"

typedef enum
{
  WEFT_RNN_SIMPLE, /* h = act(x·W + h·U + b) */
  WEFT_RNN_LSTM,   /* gates i, f, c, o; c = f*c + i*act(.); h = o*act(c) */
  WEFT_RNN_GRU,    /* gates z, r, h; h = z*h + (1-z)*hh; both reset_after variants */
} WeftRnnKind;

typedef struct
{
  WeftRnnKind    kind;
  int            steps;            /* T */
  int            in_dim;
  int            units;
  WeftActivation act;
  WeftActivation rec_act;          /* LSTM, GRU gates */
  bool           use_bias;
  bool           reset_after;      /* GRU: bias [2, 3u], r applied after h·Uh */
  bool           go_backwards;     /* process time steps T-1 .. 0 */
  bool           return_sequences; /* y [B, T, u] instead of [B, u] */
  float          dropout;          /* training: fraction of input features dropped, one mask
                                      per sample for all steps (Keras) */
  float          recurrent_dropout; /* training: fraction of the state's units dropped where
                                       it enters the recurrent matrix products */
  bool           reverse_output;   /* returned sequence written last step first (Keras
                                      reverses the backward layer's output in Bidirectional);
                                      else in processing-step order */
} WeftRnnCell;

/* Gate blocks per cell: 1 (SimpleRNN), 4 (LSTM), 3 (GRU). */
int    weft_rnn_gates        (const WeftRnnCell *cell);
/* Fills kernel [in, G*u], recurrent_kernel [u, G*u] and (use_bias) bias, each name prefixed
 * by prefix ("" or "forward_lstm/"); returns their number (2 or 3). */
int    weft_rnn_weights      (const WeftRnnCell *cell, const char *prefix,
                              WeftWeightSpec *specs);
/* Floats of saved state per call, and of temporary space, for `batch` rows. */
size_t weft_rnn_aux_size     (const WeftRnnCell *cell, int batch);
size_t weft_rnn_scratch_size (const WeftRnnCell *cell, int batch);
/* Floats of y per sample: T*u with return_sequences, else u. */
size_t weft_rnn_out_size     (const WeftRnnCell *cell);

/* Runs the cell over x and writes y. w = {kernel, recurrent_kernel, bias (NULL without
 * bias)}. Dropout masks are drawn from rng when training (rng may be NULL otherwise). */
void   weft_rnn_forward      (const WeftRnnCell *cell, int batch, const float *x,
                              float *const w[3], float *aux, float *scratch, float *y,
                              bool training, WeftRng *rng);
/* Back-propagation through time from dy: ADDS into dx and dw[0..2] (each may be NULL).
 * aux must hold the state of the matching forward. */
void   weft_rnn_backward     (const WeftRnnCell *cell, int batch, const float *x,
                              float *const w[3], const float *aux, float *scratch,
                              const float *dy, float *dx, float *const dw[3]);

/* Shape check shared by the recurrent layers: in must be (timesteps, features). */
bool   weft_rnn_check_input  (const char *layer, const WeftShape *in, char *why,
                              size_t why_len);
