"""Schema extensions around execution: error codes and masking, request limits, tracing, caches."""
