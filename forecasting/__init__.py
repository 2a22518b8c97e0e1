"""Usage history -> forecasts with prediction intervals, and backtests.

The frame contract is the long table ``unique_id, ds, y`` (UTC, regular
frequency) that statsforecast uses. This package imports no other gridshift
package. Its models arrive with the forecasting capability; the planner's
first cut plans against declared capacity.
"""
