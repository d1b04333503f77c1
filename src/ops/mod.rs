//! Running it as a service: health (`health`), the self-check through the actors (`probe`),
//! systemd's notify protocol (`systemd`), Prometheus metrics (`metrics`) and the listener that
//! serves `/metrics` and `/healthz` (`http`). Nothing here is on a request's path but the
//! metric calls, which are no-ops unless `--metrics-listen` installed a recorder.

pub mod health;
pub mod http;
pub mod metrics;
pub mod probe;
pub mod systemd;
