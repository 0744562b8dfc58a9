"""Building and reading the operator image without a Docker engine."""
