//! The stall server: a service for benchmarks and tests that answers every request after a
//! fixed delay, and can stall like a garbage-collection pause — every `stall_every`, for
//! `stall`, nothing is answered. `/status/NNN` or an `X-Status: NNN` header answers with that
//! status; `/created` answers 201 with a new `{"id": N}` (N counting from 1), as a service
//! creating resources would. Its true latency distribution follows from the stall fraction,
//! which is what makes coordinated omission visible.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy)]
pub struct StallServerConfig {
    pub delay: Duration,
    pub stall: Duration,
    pub stall_every: Duration,
}

impl StallServerConfig {
    /// When a request arriving at `arrival` (since the server started) is answered.
    pub fn ready_at(&self, arrival: Duration) -> Duration {
        let start = self.unstalled(arrival);
        self.unstalled(start + self.delay)
    }

    /// `t`, or the end of the stall `t` falls in.
    fn unstalled(&self, t: Duration) -> Duration {
        if self.stall.is_zero() || self.stall_every.is_zero() {
            return t;
        }
        let every = self.stall_every.as_micros();
        let into = t.as_micros() % every;
        if into < self.stall.as_micros() {
            t + Duration::from_micros((self.stall.as_micros() - into) as u64)
        } else {
            t
        }
    }
}

/// Serve until the task is dropped.
pub async fn serve(listener: TcpListener, config: StallServerConfig) {
    let started = Instant::now();
    let created = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        let created = created.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let created = created.clone();
                async move {
                    let arrival = started.elapsed();
                    let ready = config.ready_at(arrival);
                    if !ready.is_zero() {
                        tokio::time::sleep_until((started + ready).into()).await;
                    }
                    let status = request
                        .headers()
                        .get("x-status")
                        .and_then(|v| v.to_str().ok())
                        .or_else(|| request.uri().path().strip_prefix("/status/"))
                        .and_then(|s| s.parse::<u16>().ok())
                        .unwrap_or(200);
                    if request.uri().path().starts_with("/created") {
                        let id = created.fetch_add(1, Ordering::Relaxed) + 1;
                        let mut response =
                            Response::new(Full::new(Bytes::from(format!("{{\"id\": {id}}}"))));
                        *response.status_mut() = hyper::StatusCode::CREATED;
                        return Ok::<_, Infallible>(response);
                    }
                    let mut response = Response::new(Full::new(Bytes::from_static(b"ok\n")));
                    *response.status_mut() =
                        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalls_push_answers_to_the_end_of_the_pause() {
        let c = StallServerConfig {
            delay: Duration::from_millis(20),
            stall: Duration::from_millis(200),
            stall_every: Duration::from_millis(2000),
        };
        let ms = |v: u64| Duration::from_millis(v);
        assert_eq!(c.ready_at(ms(500)), ms(520));
        assert_eq!(c.ready_at(ms(2050)), ms(2220));
        assert_eq!(c.ready_at(ms(1990)), ms(2200));
    }
}
