"""The experiments that write ``results/``: one module per chapter that has one, and the rule they share.

Chapter 11's tagger (``tagging_experiment``), chapter 13's forecasting comparison
(``forecast_comparison``), chapter 14's LSTM, Transformer, minGRU and minLSTM (``architecture_comparison``);
``reproduction`` is the rule every chapter follows when it re-runs one row of a results file live.
The adding problem (chapter 8), the language model (10) and seq2seq (12) write theirs through
their training modules and the command line (``python -m lstm_course``).
"""
