"""The baselines forecasters actually use: mean, naive, seasonal naive, and a linear autoregressive model.

Each follows :mod:`lstm_course.forecasting.walk_forward`'s protocol (``context``, ``fit(past)``,
``forecast(contexts, horizon)``), as the LSTM forecaster (:mod:`lstm_course.models.lstm_forecaster`) does:

* mean: every future value is the mean of all the past;
* naive: every future value is the last one seen;
* seasonal naive: every future value is the one a season (``season`` steps) earlier;
* AR(p): ``y_t = c + a_1 y_{t-1} + ... + a_p y_{t-p}``, fitted by least squares, and iterated for
  several steps ahead, each forecast fed back as if it had been observed.
"""

from __future__ import annotations

import numpy as np

from lstm_course.plumbing.validation import positive_int


class MeanForecaster:
    """The past on average: ``y_{t+k}`` is the mean of all the values the forecaster was fitted on."""

    context = 1

    def fit(self, past: np.ndarray) -> None:
        self.mean = float(np.mean(past))

    def forecast(self, contexts: np.ndarray, horizon: int) -> np.ndarray:
        return np.full((len(contexts), horizon), self.mean)


class NaiveForecaster:
    """Tomorrow is like today: ``y_{t+k} = y_t`` for every horizon ``k``."""

    context = 1

    def fit(self, past: np.ndarray) -> None:
        pass  # nothing to learn

    def forecast(self, contexts: np.ndarray, horizon: int) -> np.ndarray:
        return np.repeat(contexts[:, -1:], horizon, axis=1)


class SeasonalNaiveForecaster:
    """Next January is like last January: ``y_{t+k} = y_{t+k-m}``, ``m = season``, repeated past one season."""

    def __init__(self, season: int):
        self.season = self.context = positive_int("season", season)

    def fit(self, past: np.ndarray) -> None:
        pass

    def forecast(self, contexts: np.ndarray, horizon: int) -> np.ndarray:
        return contexts[:, np.arange(horizon) % self.season]  # contexts hold the last season, oldest first


def lag_matrix(series: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The regression of ``y_t`` on its ``order`` previous values: inputs ``(T - p, p + 1)``, targets ``(T - p,)``.

    Row ``r`` of the inputs is ``[1, y_{t-1}, ..., y_{t-p}]`` for ``t = p + r`` (a column of ones
    for the intercept, then the lags, newest first); its target is ``y_t``.
    """
    columns = [np.ones(len(series) - order)] + [series[order - lag:len(series) - lag] for lag in range(1, order + 1)]
    return np.stack(columns, axis=1), series[order:]


def fit_autoregression(series: np.ndarray, order: int) -> np.ndarray:
    """Least-squares AR(p) coefficients ``[c, a_1, ..., a_p]`` ``(p + 1,)`` for ``series`` ``(T,)``.

    With fewer than ``p + 1`` equations (``T - p``) the fit is exact and not unique; ``lstsq`` then
    returns the smallest coefficients that fit.
    """
    order = positive_int("order", order)
    if len(series) <= order:
        raise ValueError(f"series: expected more than order = {order} values, got {len(series)}")
    inputs, targets = lag_matrix(np.asarray(series, dtype=np.float64), order)
    coefficients, *_ = np.linalg.lstsq(inputs, targets, rcond=None)
    return coefficients


def iterate_autoregression(coefficients: np.ndarray, contexts: np.ndarray, horizon: int) -> np.ndarray:
    """``(N, horizon)`` forecasts from each row of ``contexts`` ``(N, >= p)``, each forecast fed back as a lag."""
    order = len(coefficients) - 1
    lags = contexts[:, ::-1][:, :order]  # (N, p), newest first: y_{t-1}, ..., y_{t-p}
    forecasts = []
    for _ in range(horizon):
        following = coefficients[0] + lags @ coefficients[1:]  # (N,)
        forecasts.append(following)
        lags = np.concatenate([following[:, None], lags[:, :-1]], axis=1)  # the forecast becomes y_{t-1}
    return np.stack(forecasts, axis=1)


class AutoregressiveForecaster:
    """AR(p) by least squares on all the past it is given; ``context = order``."""

    def __init__(self, order: int):
        self.order = self.context = positive_int("order", order)
        self.coefficients = None

    def fit(self, past: np.ndarray) -> None:
        self.coefficients = fit_autoregression(past, self.order)

    def forecast(self, contexts: np.ndarray, horizon: int) -> np.ndarray:
        if self.coefficients is None:
            raise ValueError("forecast: fit the model first (coefficients is None)")
        return iterate_autoregression(self.coefficients, contexts, horizon)
