"""Operating a server: health and readiness checks, Prometheus metrics, structured logs."""
