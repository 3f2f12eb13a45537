"""The PyTorch models: the LSTM written from its gate equations, its variants, and its opponents.

``torch_lstm`` (a drop-in for ``torch.nn.LSTM``) on the time loop and stacking of ``recurrent``;
the GRU and LSTM variants (``variants``); minGRU and minLSTM (``min_rnn``, on ``linear_recurrence``);
the small Transformer's attention (``transformer``) and the residual stack it shares with them
(``residual_blocks``); the encoder-decoder (``seq2seq``); the character-level language model
(``language_model``) and its n-gram baselines (``ngram``); the forecasting LSTM
(``lstm_forecaster``); and moving weights between Keras, CS231n and PyTorch (``conversions``).

Chapters 7 (PyTorch), 9 (variants), 10 (the language model), 11 (tagging), 12 (seq2seq),
13 (forecasting), 14 (beyond the LSTM) and 15 (scaling up).
"""
