"""The `tradestate` console script."""
