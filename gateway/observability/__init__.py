"""What the gateway tells its operators: the request observer, Prometheus metrics and logs."""
