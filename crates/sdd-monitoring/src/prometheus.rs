//! The Prometheus HTTP API client (in progress on its own branch).
