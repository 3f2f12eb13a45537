"""The forecasting chapter's comparison: the forecasters' baselines, AR, SARIMA and the LSTM, tuned alike.

For one series (:mod:`lstm_course.tasks.series`) and its :class:`Protocol`:

1. **Tuning, on a validation period.** Each model family is fitted once on the values before the
   validation period and scored on its origins (mean MAE over the horizons). AR(p) and AR(p) on
   the anomalies try nine orders each, SARIMA nine orders (:data:`SARIMA_ORDERS`), the LSTM nine
   configurations (three hidden sizes by three window lengths, seed 0). The best of each is kept.
   Nothing of the test period is used.
2. **Test, walk-forward.** From every origin of the test period, each model forecasts ``horizon``
   values, refitted every ``refit_every`` origins on all the past: the mean, naive, seasonal naive,
   seasonal mean (climatology), anomaly persistence, the tuned anomaly AR, AR and SARIMA, and the
   LSTM with several seeds. The record keeps every forecast error, so that differences can be
   tested (:func:`lstm_course.forecasting.forecast_evaluation.diebold_mariano`).
3. **Prediction intervals**, central 80%: SARIMA's own, and for SARIMA, the anomaly AR and each
   LSTM seed an empirical one, the quantiles of the model's errors on the validation origins by
   horizon; each scored on the test by its coverage and interval score.

``python -m lstm_course forecast`` runs it and prints (or writes, with ``--out``) the JSON record
that the chapter reads from ``results/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from lstm_course.forecasting.climatology import (
    AnomalyAutoregressiveForecaster,
    AnomalyPersistenceForecaster,
    SeasonalMeanForecaster,
)
from lstm_course.forecasting.forecast_evaluation import empirical_intervals, interval_score
from lstm_course.forecasting.forecasters import (
    AutoregressiveForecaster,
    MeanForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
)
from lstm_course.forecasting.sarima import SARIMAForecaster, sarima_label
from lstm_course.forecasting.walk_forward import forecast_origins, walk_forward
from lstm_course.models.lstm_forecaster import LSTMForecaster, LSTMForecasterConfig
from lstm_course.tasks import series as series_module

SARIMA_ORDERS = tuple(((p, 0, q), (P, 1, Q)) for p, q in ((1, 0), (2, 0), (1, 1)) for P, Q in ((0, 1), (1, 1), (1, 0)))
"""SARIMA's nine candidates, (p, d, q) and (P, D, Q) with one seasonal difference: the tuning grid."""
COVERAGE = 0.8
"""The prediction intervals' nominal coverage: central 80%."""


@dataclass(frozen=True)
class Protocol:
    """Where validation and test begin (origins, as indices), the horizon, the refits and the grids."""

    series: str
    horizon: int
    validation_start: int
    test_start: int
    refit_every: int
    ar_orders: tuple = (1, 2, 3, 6, 9, 12, 13, 24, 36)
    lstm_hidden_sizes: tuple = (16, 32, 64)
    lstm_windows: tuple = (12, 24, 48)
    lstm_steps: int = 600

    def validation_origins(self) -> np.ndarray:
        """Origins whose whole horizon lies before the test period."""
        return forecast_origins(self.validation_start, self.test_start - self.horizon)

    def test_origins(self, length: int) -> np.ndarray:
        return forecast_origins(self.test_start, length - self.horizon)


PROTOCOLS = {
    "elnino": Protocol("elnino", horizon=12, validation_start=552, test_start=612, refit_every=12),
    "sunspots": Protocol("sunspots", horizon=10, validation_start=209, test_start=259, refit_every=10),
}
"""El Niño: validation 1996-2000, test 2001-2010, refitted yearly. Sunspots: validation 1909-1958, test
1959-2008, refitted every ten years."""


def lstm_label(hidden_size: int, window: int) -> str:
    return f"H={hidden_size}, window {window}"


def _scores(result) -> dict:
    """MAE and RMSE by horizon, MAE by refit block, and every error (actual - forecast, ``(N, horizon)``)."""
    return {"mae": result.mae().tolist(), "rmse": result.rmse().tolist(),
            "block_mae": [float(np.mean(np.abs(result.forecasts[k:k + block] - result.actuals[k:k + block])))
                          for k, block in _block_slices(result)],
            "errors": np.round(result.actuals - result.forecasts, 6).tolist()}


def _block_slices(result):
    starts = [int(np.searchsorted(result.origins, origin)) for origin in result.fit_origins]
    return [(start, end - start) for start, end in zip(starts, [*starts[1:], len(result.origins)], strict=True)]


def validation_run(values: np.ndarray, forecaster, protocol: Protocol):
    """The forecaster fitted once on the values before the validation period, run from its origins."""
    return walk_forward(values[:protocol.test_start], forecaster, protocol.validation_origins(), protocol.horizon)


def validation_mae(values: np.ndarray, forecaster, protocol: Protocol) -> float:
    """Mean MAE over the horizons on the validation origins, fitted once on the values before them."""
    return float(validation_run(values, forecaster, protocol).mae().mean())


def baselines(protocol: Protocol, season: int, ar_order: int, anomaly_order: int | None = None,
              sarima: tuple | None = None) -> dict[str, object]:
    """The forecasters without seeds: name -> forecaster. The tuned ones only when their setting is given."""
    chosen = {"naive": NaiveForecaster(), "mean": MeanForecaster(),
              f"seasonal naive (m = {season})": SeasonalNaiveForecaster(season),
              f"seasonal mean (m = {season})": SeasonalMeanForecaster(season),
              "anomaly persistence": AnomalyPersistenceForecaster(season),
              f"AR({ar_order})": AutoregressiveForecaster(ar_order)}
    if anomaly_order is not None:
        chosen[f"anomaly AR({anomaly_order})"] = AnomalyAutoregressiveForecaster(season, anomaly_order)
    if sarima is not None:
        forecaster = SARIMAForecaster(sarima[0], (*sarima[1], season), coverage=COVERAGE)
        chosen[forecaster.label] = forecaster
    return chosen


def run_comparison(name: str, seeds=(0, 1, 2), protocol: Protocol | None = None,
                   log: Callable[[str], None] | None = None) -> dict:
    """Tune, then score every model walk-forward on the test period; returns a JSON-able record."""
    log = log or (lambda line: None)
    protocol = protocol or PROTOCOLS[name]
    data = series_module.load_series(name)
    values, start = data.values, time.perf_counter()

    ar_validation = {order: validation_mae(values, AutoregressiveForecaster(order), protocol)
                     for order in protocol.ar_orders}
    ar_order = min(ar_validation, key=ar_validation.get)
    anomaly_validation = {order: validation_mae(values, AnomalyAutoregressiveForecaster(data.season, order), protocol)
                          for order in protocol.ar_orders}
    anomaly_order = min(anomaly_validation, key=anomaly_validation.get)
    sarima_validation = {orders: validation_mae(values, SARIMAForecaster(orders[0], (*orders[1], data.season)),
                                                protocol) for orders in SARIMA_ORDERS}
    sarima_orders = min(sarima_validation, key=sarima_validation.get)
    log(f"AR orders on validation: chosen {ar_order}; on the anomalies {anomaly_order}; "
        f"{sarima_label(sarima_orders[0], (*sarima_orders[1], data.season))}")
    lstm_validation = {}
    for hidden_size in protocol.lstm_hidden_sizes:
        for window in protocol.lstm_windows:
            config = LSTMForecasterConfig(hidden_size=hidden_size, window=window, steps=protocol.lstm_steps, seed=0)
            lstm_validation[(hidden_size, window)] = validation_mae(values, LSTMForecaster(config), protocol)
            log(f"LSTM {lstm_label(hidden_size, window)}: validation MAE {lstm_validation[hidden_size, window]:.4f}")
    hidden_size, window = min(lstm_validation, key=lstm_validation.get)

    origins = protocol.test_origins(len(values))
    test, intervals, validation_errors = {}, {}, {}
    for label, forecaster in baselines(protocol, data.season, ar_order, anomaly_order, sarima_orders).items():
        result = walk_forward(values, forecaster, origins, protocol.horizon, protocol.refit_every)
        test[label] = _scores(result)
        if isinstance(forecaster, SARIMAForecaster):
            own = np.concatenate(forecaster.intervals)
            intervals[f"{label}, its own"] = interval_score(own, result.actuals, COVERAGE)
        if isinstance(forecaster, SARIMAForecaster | AnomalyAutoregressiveForecaster):
            validation = validation_run(values, forecaster, protocol)
            validation_errors[label] = validation.actuals - validation.forecasts
            empirical = empirical_intervals(validation_errors[label], result.forecasts, COVERAGE)
            intervals[f"{label}, empirical"] = interval_score(empirical, result.actuals, COVERAGE)
    lstm_seconds = []
    for seed in seeds:
        config = LSTMForecasterConfig(hidden_size=hidden_size, window=window, steps=protocol.lstm_steps, seed=seed)
        began = time.perf_counter()
        result = walk_forward(values, LSTMForecaster(config), origins, protocol.horizon, protocol.refit_every)
        lstm_seconds.append(time.perf_counter() - began)
        test[f"LSTM, seed {seed}"] = _scores(result)
        validation = validation_run(values, LSTMForecaster(config), protocol)
        empirical = empirical_intervals(validation.actuals - validation.forecasts, result.forecasts, COVERAGE)
        intervals[f"LSTM, seed {seed}, empirical"] = interval_score(empirical, result.actuals, COVERAGE)
        log(f"LSTM seed {seed}: test MAE {result.mae().mean():.4f} ({lstm_seconds[-1]:.0f} s)")

    return {
        "series": {"name": name, "title": data.title, "unit": data.unit, "source": data.source,
                   "package": series_module.PACKAGE, "length": len(values),
                   "fingerprint": series_module.fingerprint(values)},
        "protocol": asdict(protocol) | {
            "validation": [data.date(i) for i in (protocol.validation_start, protocol.test_start - 1)],
            "test": [data.date(i) for i in (protocol.test_start, len(values) - 1)],
            "test_origins": len(origins), "refits": len(range(0, len(origins), protocol.refit_every))},
        "tuning": {"ar_validation_mae": {str(order): mae for order, mae in ar_validation.items()},
                   "anomaly_ar_validation_mae": {str(order): mae for order, mae in anomaly_validation.items()},
                   "sarima_validation_mae": {sarima_label(orders[0], (*orders[1], data.season)): mae
                                             for orders, mae in sarima_validation.items()},
                   "lstm_validation_mae": {lstm_label(*key): mae for key, mae in lstm_validation.items()},
                   "ar_order": ar_order, "anomaly_ar_order": anomaly_order,
                   "sarima": [list(order) for order in sarima_orders],
                   "lstm": {"hidden_size": hidden_size, "window": window}},
        "seeds": list(seeds),
        "test": test,
        "intervals": {"coverage": COVERAGE, "scores": intervals},
        "seconds": {"total": time.perf_counter() - start, "lstm_walk_forward_per_seed": lstm_seconds},
    }

