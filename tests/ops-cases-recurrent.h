/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-recurrent.h: gradient-check cases for engine/layers/weft-layers-recurrent.c
 * (see tests/ops-gradcheck.h for the row format). Every cell variant is checked through
 * time: both output modes, go_backwards, both GRU reset_after forms, hard_sigmoid gates,
 * no bias, input and recurrent dropout (the masks repeat: the RNG restarts before every
 * forward), and Bidirectional in each merge mode. */
#pragma once

#include "ops-gradcheck.h"

#define RS1(a)       { 1, { a } }
#define RS2(a, b)    { 2, { a, b } }
#define RS3(a, b, c) { 3, { a, b, c } }

static const WeftOpCase ops_cases_recurrent[] = {
  { "Embedding", "sequence", "input_dim=6 output_dim=3", 1, { RS1 (4) }, 6 },
  { "Embedding", "grid", "input_dim=4 output_dim=2", 1, { RS2 (2, 3) }, 4 },

  { "SimpleRNN", "last", "units=3", 1, { RS2 (4, 2) } },
  { "SimpleRNN", "sequences", "units=3 return_sequences=1", 1, { RS2 (4, 2) } },
  { "SimpleRNN", "backwards-sequences", "units=2 return_sequences=1 go_backwards=1", 1,
    { RS2 (3, 3) } },
  { "SimpleRNN", "relu-no-bias", "units=3 activation=relu use_bias=0", 1, { RS2 (3, 2) } },

  { "LSTM", "last", "units=3", 1, { RS2 (4, 2) } },
  { "LSTM", "sequences", "units=2 return_sequences=1", 1, { RS2 (4, 3) } },
  { "LSTM", "backwards-last", "units=3 go_backwards=1", 1, { RS2 (3, 2) } },
  { "LSTM", "backwards-sequences", "units=2 return_sequences=1 go_backwards=1", 1,
    { RS2 (4, 2) } },
  { "LSTM", "hard-sigmoid", "units=3 recurrent_activation=hard_sigmoid return_sequences=1",
    1, { RS2 (3, 2) } },
  { "LSTM", "no-bias", "units=2 use_bias=0", 1, { RS2 (3, 3) } },

  { "GRU", "reset-after-last", "units=3 reset_after=1", 1, { RS2 (4, 2) } },
  { "GRU", "reset-after-sequences", "units=2 reset_after=1 return_sequences=1", 1,
    { RS2 (4, 3) } },
  { "GRU", "reset-after-backwards", "units=3 reset_after=1 go_backwards=1 "
    "return_sequences=1", 1, { RS2 (3, 2) } },
  { "GRU", "reset-before-last", "units=3 reset_after=0", 1, { RS2 (4, 2) } },
  { "GRU", "reset-before-sequences", "units=2 reset_after=0 return_sequences=1", 1,
    { RS2 (4, 3) } },
  { "GRU", "reset-before-backwards", "units=3 reset_after=0 go_backwards=1", 1,
    { RS2 (3, 2) } },
  { "GRU", "hard-sigmoid-reset-after", "units=2 recurrent_activation=hard_sigmoid", 1,
    { RS2 (3, 2) } },
  { "GRU", "hard-sigmoid-reset-before", "units=2 reset_after=0 "
    "recurrent_activation=hard_sigmoid return_sequences=1", 1, { RS2 (3, 2) } },
  { "GRU", "no-bias", "units=2 use_bias=0 return_sequences=1", 1, { RS2 (3, 2) } },

  { "SimpleRNN", "dropout-sequences", "units=3 dropout=0.4 recurrent_dropout=0.3 "
    "return_sequences=1", 1, { RS2 (4, 3) } },
  { "LSTM", "dropout", "units=3 dropout=0.3 recurrent_dropout=0.4", 1, { RS2 (4, 3) } },
  { "GRU", "reset-after-dropout", "units=3 reset_after=1 dropout=0.3 recurrent_dropout=0.4 "
    "return_sequences=1", 1, { RS2 (4, 3) } },
  { "GRU", "reset-before-dropout", "units=3 reset_after=0 dropout=0.4 recurrent_dropout=0.3",
    1, { RS2 (4, 3) } },

  { "Bidirectional", "lstm-concat", "layer=LSTM units=2 merge_mode=concat", 1,
    { RS2 (3, 2) } },
  { "Bidirectional", "lstm-sum-sequences", "layer=LSTM units=2 merge_mode=sum "
    "return_sequences=1", 1, { RS2 (3, 2) } },
  { "Bidirectional", "lstm-mul", "layer=LSTM units=2 merge_mode=mul", 1, { RS2 (3, 2) } },
  { "Bidirectional", "lstm-ave-sequences", "layer=LSTM units=2 merge_mode=ave "
    "return_sequences=1", 1, { RS2 (3, 2) } },
  { "Bidirectional", "gru-reset-after-concat-sequences", "layer=GRU units=2 reset_after=1 "
    "return_sequences=1", 1, { RS2 (3, 2) } },
  { "Bidirectional", "gru-reset-before-mul-sequences", "layer=GRU units=2 reset_after=0 "
    "merge_mode=mul return_sequences=1", 1, { RS2 (3, 2) } },
  { "Bidirectional", "gru-inner-backwards-sequences", "layer=GRU units=2 go_backwards=1 "
    "return_sequences=1", 1, { RS2 (3, 2) } },
  { "Bidirectional", "lstm-dropout-sequences", "layer=LSTM units=2 dropout=0.3 "
    "recurrent_dropout=0.3 return_sequences=1", 1, { RS2 (3, 3) } },
  { "Bidirectional", "simple-rnn-concat-no-bias", "layer=SimpleRNN units=2 use_bias=0", 1,
    { RS2 (3, 3) } },

  { "TimeDistributed", "dense-tanh", "units=3 activation=tanh", 1, { RS2 (4, 2) } },
  { "TimeDistributed", "dense-softmax", "units=3 activation=softmax", 1, { RS2 (3, 2) } },
  { "TimeDistributed", "dense-gelu-no-bias", "units=2 activation=gelu use_bias=0", 1,
    { RS3 (2, 3, 2) } },
  { NULL }
};

#undef RS1
#undef RS2
#undef RS3
