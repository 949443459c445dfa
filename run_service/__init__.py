"""The run service: training runs submitted by pages, executed away from the app server.

Pages call `get_service()` and hold a run id; they never learn where a run executes. The local
backend (default) is a fixed pool of worker processes on this machine; the Ray backend
(`VIVA_RAY_ADDRESS`) sends each run to a Ray cluster. `cifar_core` knows nothing of either."""
