"""Seasonal ARIMA, fitted by the forecasters' own library (``statsmodels``), behind the walk-forward protocol.

SARIMA(p, d, q)(P, D, Q)_m models a series whose seasonal difference ``y_t - y_{t-m}`` (``D = 1``)
follows an ARMA process with ``p`` and ``q`` terms at lags 1, 2, ... and ``P`` and ``Q`` at lags
``m, 2m, ...`` (Hyndman and Athanasopoulos 2021, chapter 9). ``statsmodels`` fits it by maximum likelihood
with a Kalman filter. The filter, run on with the fitted parameters over the values between the
fit and an origin, gives the forecast from that origin and its prediction interval: the model
forecasts from all the past, as it was fitted.
"""

from __future__ import annotations

import warnings

import numpy as np

from lstm_course.plumbing.validation import positive_int


def sarima_label(order: tuple, seasonal_order: tuple) -> str:
    """``"SARIMA(1,0,0)(0,1,1)12"``."""
    return "SARIMA({},{},{})({},{},{}){}".format(*order, *seasonal_order)


class SARIMAForecaster:
    """SARIMA fitted on all the past, forecasting from all the past up to each origin.

    It reads the calendar (``uses_calendar``) to know how far each origin lies past the fit: the
    values in between, at most ``context`` (default ten seasons), extend the fitted filter.
    ``coverage`` (e.g. 0.8): each ``forecast`` call also appends its central prediction intervals,
    ``(N, horizon, 2)`` (lower, upper), to ``intervals``, in the order of the calls.
    """

    uses_calendar = True

    def __init__(self, order: tuple, seasonal_order: tuple, context: int | None = None, coverage: float = 0.8):
        self.order, self.seasonal_order = tuple(order), tuple(seasonal_order)
        if len(self.order) != 3 or len(self.seasonal_order) != 4:
            raise ValueError(f"order, seasonal_order: expected (p, d, q) and (P, D, Q, m), "
                             f"got {order}, {seasonal_order}")
        self.context = positive_int("context", context or 10 * self.seasonal_order[3])
        if not 0 < coverage < 1:
            raise ValueError(f"coverage: expected a fraction between 0 and 1, got {coverage!r}")
        self.coverage, self.fitted, self.fit_length, self.intervals = coverage, None, None, []

    @property
    def label(self) -> str:
        return sarima_label(self.order, self.seasonal_order)

    def _model(self, values: np.ndarray):
        try:  # imported here: only the forecasting chapter needs it
            from statsmodels.tsa.statespace.sarimax import SARIMAX
        except ModuleNotFoundError:
            raise ModuleNotFoundError("SARIMAForecaster needs statsmodels: pip install 'lstm_course[forecasting]' "
                                      "(or pip install statsmodels==0.14.6)") from None
        return SARIMAX(values, order=self.order, seasonal_order=self.seasonal_order)

    def fit(self, past: np.ndarray) -> None:
        with warnings.catch_warnings():  # statsmodels warns about starting values and convergence details
            warnings.simplefilter("ignore")
            self.fitted = self._model(past).fit(disp=False)
        self.fit_length = len(past)

    def forecast(self, contexts: np.ndarray, horizon: int, origins: np.ndarray) -> np.ndarray:
        if self.fitted is None:
            raise ValueError("forecast: fit the model first (fitted is None)")
        forecasts, intervals = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for context, origin in zip(contexts, origins, strict=True):
                since_fit = int(origin) - self.fit_length  # values seen after the fit, before this origin
                if not 0 <= since_fit <= len(context):
                    raise ValueError(f"origins: expected origins from the fit's end, {self.fit_length}, to "
                                     f"{self.fit_length + len(context)} (the context), got {origin}")
                state = self.fitted.extend(context[len(context) - since_fit:]) if since_fit else self.fitted
                prediction = state.get_forecast(horizon)
                forecasts.append(prediction.predicted_mean)
                intervals.append(prediction.conf_int(alpha=1 - self.coverage))
        self.intervals.append(np.array(intervals))
        return np.array(forecasts)
