"""Walk-forward (rolling-origin) evaluation: fit on the past, forecast the next values, move the origin on.

An *origin* ``t`` cuts a series in two: ``series[:t]`` is the past, ``series[t : t + horizon]`` the
future to forecast. Walk-forward evaluation forecasts from every origin of a test period in turn, so
every forecast is scored on values the forecaster never saw, at every horizon ``1 .. horizon``
(Tashman 2000). Refitting at every origin is the ideal; refitting every ``refit_every``
origins (on all the past up to the first origin of the block) is the affordable version.

A forecaster is any object with

* ``context``: how many past values one forecast reads;
* ``fit(past)``: learn from ``past`` ``(t,)``, the whole series before an origin;
* ``forecast(contexts, horizon)``: ``(N, context)`` -> ``(N, horizon)``, row ``n`` the forecast from
  the ``context`` values just before origin ``n``.

A forecaster that forecasts by the calendar (:mod:`lstm_course.forecasting.climatology`) also has
``uses_calendar = True``; its ``forecast`` then receives a third argument, ``origins`` ``(N,)``, the
index of each row's origin, which says where in the season each forecast falls.

:func:`walk_forward` hands a forecaster nothing but copies of the past, so a forecast cannot see
its future even by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lstm_course.plumbing.validation import positive_int


class Forecaster(Protocol):
    context: int

    def fit(self, past: np.ndarray) -> None: ...

    def forecast(self, contexts: np.ndarray, horizon: int) -> np.ndarray: ...


def forecast_origins(first: int, last: int, step: int = 1) -> np.ndarray:
    """Origins ``first, first + step, ..., last`` (``last`` included if reached), as an int array."""
    if not isinstance(first, int | np.integer) or not isinstance(last, int | np.integer) or not 0 < first <= last:
        raise ValueError(f"first, last: expected integers with 0 < first <= last, got {first!r}, {last!r}")
    return np.arange(first, last + 1, positive_int("step", step))


def refit_blocks(origins: np.ndarray, refit_every: int | None) -> list[np.ndarray]:
    """The origins in consecutive blocks of ``refit_every`` (all in one block when ``None``): one fit per block."""
    if refit_every is None:
        return [origins]
    size = positive_int("refit_every", refit_every)
    return [origins[start:start + size] for start in range(0, len(origins), size)]


@dataclass
class WalkForwardResult:
    """Forecasts and what happened, one row per origin: ``forecasts``, ``actuals`` ``(N, horizon)``."""

    origins: np.ndarray
    forecasts: np.ndarray
    actuals: np.ndarray
    fit_origins: list[int]

    def mae(self) -> np.ndarray:
        """``(horizon,)`` mean absolute error at each horizon, over the origins."""
        return np.mean(np.abs(self.forecasts - self.actuals), axis=0)

    def rmse(self) -> np.ndarray:
        """``(horizon,)`` root mean squared error at each horizon, over the origins."""
        return np.sqrt(np.mean((self.forecasts - self.actuals) ** 2, axis=0))


def walk_forward(series: np.ndarray, forecaster: Forecaster, origins: np.ndarray, horizon: int,
                 refit_every: int | None = None) -> WalkForwardResult:
    """Forecast ``horizon`` values from every origin; refit at the first origin of each block.

    ``series``: ``(T,)``. Each block's fit sees ``series[:t0]`` (``t0`` its first origin); each
    forecast sees the ``forecaster.context`` values before its own origin. Every origin needs that
    much past and ``horizon`` values of future: ``context <= t <= T - horizon``.
    """
    series = np.asarray(series, dtype=np.float64)
    origins = np.asarray(origins)
    horizon = positive_int("horizon", horizon)
    if series.ndim != 1:
        raise ValueError(f"series: expected one dimension (T,), got shape {series.shape}")
    context = positive_int("forecaster.context", forecaster.context)
    if origins.ndim != 1 or len(origins) == 0 or origins.min() < context or origins.max() > len(series) - horizon \
            or np.any(np.diff(origins) <= 0):
        raise ValueError(f"origins: expected increasing origins from {context} (the context) to "
                         f"{len(series) - horizon} (T - horizon), got {origins.min()} to {origins.max()}")
    forecasts, fit_origins = [], []
    for block in refit_blocks(origins, refit_every):
        fit_origins.append(int(block[0]))
        forecaster.fit(series[:block[0]].copy())
        contexts = np.stack([series[t - context:t] for t in block])
        calendar = (block.copy(),) if getattr(forecaster, "uses_calendar", False) else ()
        predicted = np.asarray(forecaster.forecast(contexts, horizon, *calendar), dtype=np.float64)
        if predicted.shape != (len(block), horizon):
            raise ValueError(f"forecast: expected shape (N, horizon) = {(len(block), horizon)}, got {predicted.shape}")
        forecasts.append(predicted)
    actuals = np.stack([series[t:t + horizon] for t in origins])
    return WalkForwardResult(origins, np.concatenate(forecasts), actuals, fit_origins)
