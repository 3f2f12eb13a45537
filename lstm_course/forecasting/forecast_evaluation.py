"""Beyond the MAE: is a difference in forecast errors more than luck, and how good are the intervals?

* :func:`diebold_mariano`: the test of equal accuracy of two forecasters on the same origins
  (Diebold and Mariano 1995), with the Newey-West (HAC) variance that overlapping forecasts
  need and the small-sample correction of Harvey, Leybourne and Newbold (1997).
* :func:`empirical_intervals`: a prediction interval from a forecaster's own past errors, by
  horizon: its quantiles added to the point forecast.
* :func:`interval_score`: the interval score of Gneiting and Raftery (2007), the width plus a
  penalty for every miss, and the coverage.
"""

from __future__ import annotations

import numpy as np

from lstm_course.plumbing.validation import positive_int


def newey_west_variance(values: np.ndarray, lag: int) -> float:
    """``n`` times the variance of the mean of ``values`` ``(n,)``: autocovariances to ``lag``, Bartlett weights."""
    centred = np.asarray(values, dtype=np.float64) - np.mean(values)
    n = len(centred)
    variance = centred @ centred / n
    for k in range(1, lag + 1):
        variance += 2 * (1 - k / (lag + 1)) * (centred[k:] @ centred[:-k]) / n
    return float(variance)


def diebold_mariano(loss_a: np.ndarray, loss_b: np.ndarray, horizon: int) -> tuple[float, float]:
    """``(statistic, two-sided p-value)`` for equal mean loss of two forecasters, ``(n,)`` losses each.

    ``loss_a - loss_b`` is the loss differential; negative statistics favour ``a``. Forecasts
    ``horizon`` steps ahead from consecutive origins overlap, so the differential is autocorrelated
    up to lag ``horizon - 1``: the variance is Newey-West's to that lag, and the statistic is scaled
    by Harvey, Leybourne and Newbold's factor and compared with Student's t with ``n - 1`` degrees
    of freedom.
    """
    from scipy import stats

    horizon = positive_int("horizon", horizon)
    differential = np.asarray(loss_a, dtype=np.float64) - np.asarray(loss_b, dtype=np.float64)
    if differential.ndim != 1 or len(differential) <= 2 * horizon:
        raise ValueError(f"loss_a, loss_b: expected two (n,) arrays with n > 2 horizon = {2 * horizon}, "
                         f"got shapes {np.shape(loss_a)}, {np.shape(loss_b)}")
    n = len(differential)
    variance = newey_west_variance(differential, horizon - 1)
    if variance <= 0:
        raise ValueError("loss_a, loss_b: the loss differential has no variance (identical forecasts?)")
    statistic = differential.mean() / np.sqrt(variance / n)
    statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)  # Harvey, Leybourne, Newbold
    return float(statistic), float(2 * stats.t.sf(abs(statistic), df=n - 1))


def empirical_intervals(past_errors: np.ndarray, forecasts: np.ndarray, coverage: float) -> np.ndarray:
    """``(N, h, 2)`` lower and upper bounds: ``forecasts`` ``(N, h)`` plus quantiles of ``past_errors``.

    ``past_errors`` ``(M, h)``: actual minus forecast, from origins scored before (for example the
    validation period's); by horizon, its ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles.
    """
    if not 0 < coverage < 1:
        raise ValueError(f"coverage: expected a fraction between 0 and 1, got {coverage!r}")
    low, high = np.quantile(past_errors, [(1 - coverage) / 2, (1 + coverage) / 2], axis=0)  # (h,) each
    return np.stack([forecasts + low, forecasts + high], axis=-1)


def interval_score(intervals: np.ndarray, actuals: np.ndarray, coverage: float) -> dict[str, float]:
    """Coverage, mean width and mean interval score of ``intervals`` ``(N, h, 2)`` for ``actuals`` ``(N, h)``.

    The interval score of a central ``coverage`` interval ``[l, u]`` for ``y`` is
    ``(u - l) + (2 / alpha) (l - y) [y < l] + (2 / alpha) (y - u) [y > u]``, ``alpha = 1 - coverage``:
    lower is better, and a forecaster minimises it by reporting its true quantiles.
    """
    lower, upper = intervals[..., 0], intervals[..., 1]
    alpha = 1 - coverage
    score = (upper - lower) + 2 / alpha * (np.maximum(lower - actuals, 0) + np.maximum(actuals - upper, 0))
    inside = (lower <= actuals) & (actuals <= upper)
    return {"coverage": float(inside.mean()), "width": float(np.mean(upper - lower)), "score": float(score.mean())}
