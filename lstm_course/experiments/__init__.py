"""The experiments that write ``results/``: one module per chapter that has one, and the rule they share.

Chapter 8's adding problem (``adding_experiment``: the models, the recipe, training; chapter 9 reuses
it), chapter 11's tagger (``tagging_experiment``), chapter 13's forecasting comparison
(``forecast_comparison``), chapter 14's LSTM, Transformer, minGRU and minLSTM (``architecture_comparison``);
``reproduction`` is the rule every chapter follows when it re-runs one row of a results file live.
The other results files are written by the command line (``train-lm``, ``seq2seq``: chapters 10
and 12) and by the sweeps in ``tools/`` (``adding_seed_runs.py``, ``memory_task_runs.py``,
``lm_reference_run.py``, ``lm_lr_search.py``), each file naming its command.
"""
