"""Forecasts by the calendar: the seasonal mean (climatology) and the anomaly models built on it.

A forecaster of El Niño's temperatures first asks what a month is usually like. The *seasonal
mean* (climatology) forecasts every month by the mean of that calendar month over all the past it
was fitted on, whatever happened lately: Hyndman and Athanasopoulos's mean method, one mean per
season. The *anomaly* of a value is its difference from its month's mean; anomaly models forecast
the anomaly and add the month's mean back:

* anomaly persistence: the last anomaly seen carries on, ``y_{t+k} = m(t+k) + (y_t - m(t))``;
* anomaly AR(p): an AR(p) fitted by least squares on the anomalies of the past, iterated as
  :class:`lstm_course.forecasting.forecasters.AutoregressiveForecaster` is.

These need to know where in the season each origin falls, which a context of values cannot say.
They set ``uses_calendar = True``, and :func:`lstm_course.forecasting.walk_forward.walk_forward` then passes
``forecast`` the origins as well: value ``t`` of the series is in season position ``t % season``
(index 0 is the series' first period, January for El Niño).
"""

from __future__ import annotations

import numpy as np

from lstm_course.forecasting.forecasters import AutoregressiveForecaster
from lstm_course.plumbing.validation import positive_int


def seasonal_means(past: np.ndarray, season: int) -> np.ndarray:
    """``(season,)``: the mean of the values at each position ``t % season`` of ``past`` ``(t,)``."""
    season = positive_int("season", season)
    if len(past) < season:
        raise ValueError(f"past: expected at least one season ({season} values), got {len(past)}")
    positions = np.arange(len(past)) % season
    return np.bincount(positions, weights=past, minlength=season) / np.bincount(positions, minlength=season)


class SeasonalMeanForecaster:
    """Climatology: ``y_{t+k}`` forecast by the mean of its season position over the fitted past."""

    uses_calendar = True
    context = 1

    def __init__(self, season: int):
        self.season = positive_int("season", season)
        self.means = None

    def fit(self, past: np.ndarray) -> None:
        self.means = seasonal_means(past, self.season)

    def _means_ahead(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        """``(N, horizon)``: the seasonal mean of each forecast value, ``t, ..., t + horizon - 1``."""
        if self.means is None:
            raise ValueError("forecast: fit the model first (means is None)")
        return self.means[(np.asarray(origins)[:, None] + np.arange(horizon)) % self.season]

    def forecast(self, contexts: np.ndarray, horizon: int, origins: np.ndarray) -> np.ndarray:
        return self._means_ahead(origins, horizon)


class AnomalyPersistenceForecaster(SeasonalMeanForecaster):
    """The last anomaly carries on: ``y_{t+k} = m(t+k) + y_{t-1} - m(t-1)``, ``t`` the origin."""

    def forecast(self, contexts: np.ndarray, horizon: int, origins: np.ndarray) -> np.ndarray:
        last_anomaly = contexts[:, -1] - self.means[(np.asarray(origins) - 1) % self.season]  # (N,)
        return self._means_ahead(origins, horizon) + last_anomaly[:, None]


class AnomalyAutoregressiveForecaster(SeasonalMeanForecaster):
    """AR(p) on the anomalies (:class:`~lstm_course.forecasting.forecasters.AutoregressiveForecaster`); the
    seasonal means added back. ``context = order``."""

    def __init__(self, season: int, order: int):
        super().__init__(season)
        self.autoregression = AutoregressiveForecaster(order)
        self.order = self.context = self.autoregression.order

    def fit(self, past: np.ndarray) -> None:
        super().fit(past)
        self.autoregression.fit(past - self.means[np.arange(len(past)) % self.season])  # on the anomalies

    def forecast(self, contexts: np.ndarray, horizon: int, origins: np.ndarray) -> np.ndarray:
        origins = np.asarray(origins)
        anomalies = contexts[:, -self.order:] - self._means_ahead(origins - self.order, self.order)  # contexts
        return self._means_ahead(origins, horizon) + self.autoregression.forecast(anomalies, horizon)
