"""Training and measuring: the loops, checkpoints, sampling, timing, precision and parallel runs.

One supervised loop for labelling, translating and forecasting (``supervised``); the language
model's training and scoring (``lm_training``) with its checkpoints (``checkpoint``) and sampling
(``sampling``); seq2seq training on string reversal (``seq2seq_training``); looking inside a trained
model (``interpret``); interleaved timing (``timing``); TF32 (``precision``), CUDA graphs
(``cuda_graphs``) and data-parallel training (``distributed``).

Chapters 8 and 10 to 15.
"""
