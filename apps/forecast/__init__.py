"""Multi-step forecasting of raw multivariate series, with prediction intervals."""
