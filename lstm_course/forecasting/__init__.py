"""The forecasters' own methods, for chapter 13: what a practitioner tries before an LSTM.

The mean, naive, seasonal-naive and autoregressive baselines (``forecasters``), the seasonal mean
and anomaly models (``climatology``), seasonal ARIMA by statsmodels (``sarima``), walk-forward
evaluation (``walk_forward``) and the Diebold-Mariano test and interval scores
(``forecast_evaluation``). Chapter 13, through ``experiments.forecast_comparison``.
"""
