//! A client of the Prometheus HTTP API, as Prometheus, Thanos, Mimir and VictoriaMetrics answer
//! it (<https://prometheus.io/docs/prometheus/latest/querying/api/>).
//!
//! Every call is one GET through [`sdd_http::send_with_limit`]: a timeout over the whole
//! exchange, only hosts [`AllowedHosts`] lets through (loopback always, others only when
//! `sdd.yaml` lists them under `targets.allowed_hosts`), and a cap on the answer's size. The
//! parameters go as a form-urlencoded query string (PromQL's `{}"=~|` and spaces
//! percent-encoded here: no crate in the tree does it).
//!
//! The answer is decoded by pure functions ([`decode_query`], [`decode_series`], …) apart from
//! the HTTP, so any body a server may send — wrong types, missing fields, huge numbers, a
//! string result, native histograms — is an error naming what is wrong, never a panic. A
//! query's series are counted as they are read and only the first [`MAX_SERIES`] kept, so an
//! answer of too many series costs no more memory than the cap.
//!
//! Values: sample values come as strings (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`), timestamps as
//! seconds (`1700000000.123`); a timestamp becomes whole milliseconds from its shortest decimal
//! form, so no float drift (see [`decode_query`]).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use sdd_http::{AllowedHosts, HttpError, HttpRequest};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A series' labels, `__name__` among them when the answer carries it.
pub type Labels = BTreeMap<String, String>;

/// Samples of one series: (milliseconds since the Unix epoch, value).
pub type Samples = Vec<(i64, f64)>;

/// Prometheus refuses a range query whose `(end − start) / step` is over 11,000
/// (`exceeded maximum resolution of 11,000 points per timeseries`); [`step_for`] keeps a range
/// query at or under this many points.
pub const MAX_POINTS_PER_SERIES: usize = 11_000;

/// The largest answer read by default (32 MiB): a larger one is
/// [`PrometheusError::TooLarge`].
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// The most series one answer may hold by default: more is [`PrometheusError::TooManySeries`].
pub const MAX_SERIES: usize = 10_000;

/// What `/api/v1/query` answers.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// An instant vector: one value per series.
    Vector(Vec<(Labels, f64)>),
    /// A range vector (a range selector evaluated at one instant, e.g. `x[5m]`).
    Matrix(Vec<(Labels, Samples)>),
    /// A scalar (`scalar(…)`, a number literal, `time()`).
    Scalar(f64),
}

/// What `/api/v1/metadata` says of one metric family (the first entry when targets disagree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset` or
    /// `unknown`.
    pub kind: String,
    pub help: String,
    /// Empty when the exposition declares none.
    pub unit: String,
}

/// A decoded answer and the warnings the server sent with it (Thanos' partial responses,
/// Prometheus' query warnings).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    pub data: T,
    pub warnings: Vec<String>,
}

/// Why an answer could not be decoded (the client adds the URL: [`PrometheusError`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// `{"status": "error", "errorType": …, "error": …}`.
    #[error("{error_type}: {message}")]
    Api { error_type: String, message: String },
    /// More series than the cap; `count` is every series in the answer.
    #[error("{count} series, over the cap of {limit}")]
    TooManySeries { count: usize, limit: usize },
    #[error("{0}")]
    Malformed(String),
}

/// What went wrong talking to Prometheus, each naming what to change.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("Prometheus at {url} answered with warnings: {}; the answer may be partial (a store, shard or replica missing), so no verdict is drawn from it", warnings.join("; "))]
    Partial { url: String, warnings: Vec<String> },
    #[error("`{url}` is not a usable Prometheus URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("Prometheus at {url}: host `{host}` is not allowed; SDD sends requests to loopback only unless sdd.yaml lists the host under `targets.allowed_hosts`")]
    HostNotAllowed { url: String, host: String },
    #[error("cannot reach Prometheus at {url}: {cause}; check that it runs there, or fix monitoring.source.prometheus.url")]
    Unreachable { url: String, cause: std::io::Error },
    #[error("Prometheus at {url} did not answer within {seconds} s; raise monitoring.source.prometheus.timeout_seconds or narrow the query")]
    Timeout { url: String, seconds: f64 },
    #[error("Prometheus at {url} answered HTTP {status}: {excerpt}")]
    Status {
        url: String,
        status: u16,
        excerpt: String,
    },
    #[error(
        "Prometheus at {url} refused the request (HTTP {status}, {error_type}): {message}{}",
        api_hint(error_type)
    )]
    Api {
        url: String,
        status: u16,
        error_type: String,
        message: String,
    },
    #[error("Prometheus at {url} answered more than {}; narrow the selector or shorten the window", size_text(*limit))]
    TooLarge { url: String, limit: usize },
    #[error("Prometheus at {url} answered {count} series, over the cap of {limit}; narrow the selector (more label matchers) or aggregate (`sum by (…)`)")]
    TooManySeries {
        url: String,
        count: usize,
        limit: usize,
    },
    #[error("a range of {} at a step of {} is {points} points per series, over Prometheus' limit of 11,000; use a step of at least {} (step_for computes one) or shorten the range", duration_text(*range_ms), duration_text(*step_ms), duration_text(*min_step_ms))]
    TooManyPoints {
        range_ms: i64,
        step_ms: i64,
        points: i128,
        min_step_ms: i64,
    },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("Prometheus at {url} gave an answer SDD cannot read: {reason}")]
    Unparseable { url: String, reason: String },
    #[error("HTTP error with Prometheus at {url}: {message}")]
    Http { url: String, message: String },
}

fn api_hint(error_type: &str) -> &'static str {
    match error_type {
        "bad_data" => "; check the PromQL and the time range",
        "timeout" | "canceled" => {
            "; Prometheus' own query timeout ran out: narrow the query or shorten the window"
        }
        "unavailable" => "; Prometheus is starting or overloaded: try again",
        _ => "",
    }
}

/// `33554432` → `32 MiB`; other sizes in bytes.
fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Milliseconds as seconds (`15000` → `15 s`, `1500` → `1.5 s`).
fn duration_text(ms: i64) -> String {
    format!("{} s", seconds_text(ms))
}

/// A client of one Prometheus-compatible server.
#[derive(Debug, Clone)]
pub struct PrometheusApi {
    /// Without a trailing `/`; may carry a path prefix (`http://h:9090/prom`).
    base_url: String,
    timeout: Duration,
    hosts: AllowedHosts,
    max_series: usize,
    max_answer_bytes: usize,
}

impl PrometheusApi {
    /// A client of the server at `base_url` (`http://host:port`, with a path prefix if the
    /// server is behind one). Refuses anything but `http://`, a URL with a query, fragment or
    /// credentials, a host `hosts` does not allow, and a zero timeout — before any request.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        hosts: AllowedHosts,
    ) -> Result<PrometheusApi, PrometheusError> {
        let bad = |reason: &str| PrometheusError::BadUrl {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let lower = base_url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(bad("https is not supported (SDD's HTTP client speaks plain http); reach Prometheus over http://, e.g. through a loopback port-forward"));
        }
        if !lower.starts_with("http://") {
            return Err(bad("it must start with http://"));
        }
        if base_url.contains(['?', '#']) {
            return Err(bad(
                "a base URL has no query or fragment (http://host:port or http://host:port/prefix)",
            ));
        }
        let authority = &base_url["http://".len()..];
        let authority = authority.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        // `split_url` reads a port past 65535 as none (port 80): refused here instead.
        let port = authority.rsplit_once(':').map(|(_, port)| port);
        if port.is_some_and(|p| !p.ends_with(']') && p.parse::<u16>().is_err()) {
            return Err(bad("the port must be a number from 0 to 65535"));
        }
        let base = base_url.trim_end_matches('/');
        let (host, _, _) =
            sdd_http::split_url(base).map_err(|_| bad("not an http://host:port/path URL"))?;
        if !hosts.allows(&host) {
            return Err(PrometheusError::HostNotAllowed {
                url: base_url.to_string(),
                host,
            });
        }
        if timeout.is_zero() {
            return Err(PrometheusError::InvalidArgument(
                "the Prometheus timeout must be above zero (monitoring.source.prometheus.timeout_seconds)".into(),
            ));
        }
        Ok(PrometheusApi {
            base_url: base.to_string(),
            timeout,
            hosts,
            max_series: MAX_SERIES,
            max_answer_bytes: MAX_ANSWER_BYTES,
        })
    }

    /// The most series one answer may hold ([`MAX_SERIES`] unless set).
    pub fn with_max_series(mut self, max_series: usize) -> PrometheusApi {
        self.max_series = max_series;
        self
    }

    /// The largest answer read, in bytes ([`MAX_ANSWER_BYTES`] unless set).
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> PrometheusApi {
        self.max_answer_bytes = bytes;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `/api/v1/query`: `promql` evaluated at `at_ms`.
    pub async fn query(&self, promql: &str, at_ms: i64) -> Result<QueryResult, PrometheusError> {
        let at = seconds_text(at_ms);
        self.call(
            "/api/v1/query",
            &[("query", promql), ("time", &at)],
            |body| decode_query(body, self.max_series),
        )
        .await
    }

    /// `/api/v1/query_range`: `promql` evaluated at `start_ms`, `start_ms + step_ms`, … up to
    /// `end_ms`. A step that would give a series more points than Prometheus answers is refused
    /// before any request ([`PrometheusError::TooManyPoints`]; [`step_for`] picks one that fits).
    pub async fn query_range(
        &self,
        promql: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<(Labels, Samples)>, PrometheusError> {
        check_range(start_ms, end_ms, step_ms)?;
        let (start, end, step) = (
            seconds_text(start_ms),
            seconds_text(end_ms),
            step_text(step_ms),
        );
        let params = [
            ("query", promql),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", step.as_str()),
        ];
        let url = self.endpoint("/api/v1/query_range");
        match self
            .call("/api/v1/query_range", &params, |body| {
                decode_query(body, self.max_series)
            })
            .await?
        {
            QueryResult::Matrix(series) => Ok(series),
            other => Err(PrometheusError::Unparseable {
                url,
                reason: format!(
                    "a range query answered a {}, not a matrix",
                    match other {
                        QueryResult::Vector(_) => "vector",
                        QueryResult::Scalar(_) => "scalar",
                        QueryResult::Matrix(_) => "matrix",
                    }
                ),
            }),
        }
    }

    /// `/api/v1/series`: the label sets of the series any of `matchers` (series selectors, e.g.
    /// `up{job="api"}`) selects with samples between `start_ms` and `end_ms`.
    pub async fn series(
        &self,
        matchers: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, PrometheusError> {
        if matchers.is_empty() {
            return Err(PrometheusError::InvalidArgument(
                "a series lookup needs at least one series selector (match[])".into(),
            ));
        }
        let (start, end) = (seconds_text(start_ms), seconds_text(end_ms));
        let mut params: Vec<(&str, &str)> =
            matchers.iter().map(|m| ("match[]", m.as_str())).collect();
        params.push(("start", &start));
        params.push(("end", &end));
        self.call("/api/v1/series", &params, |body| {
            decode_series(body, self.max_series)
        })
        .await
    }

    /// `/api/v1/labels`: every label name.
    pub async fn label_names(&self) -> Result<Vec<String>, PrometheusError> {
        self.call("/api/v1/labels", &[], decode_strings).await
    }

    /// `/api/v1/label/<label>/values`: every value of `label` (`__name__`: every metric name).
    pub async fn label_values(&self, label: &str) -> Result<Vec<String>, PrometheusError> {
        let mut endpoint = String::from("/api/v1/label/");
        percent_encode(label, &mut endpoint);
        endpoint.push_str("/values");
        self.call(&endpoint, &[], decode_strings).await
    }

    /// `/api/v1/metadata`: type, help and unit per metric family, as scraped (empty when the
    /// data was only backfilled: metadata comes from scrapes).
    pub async fn metadata(&self) -> Result<BTreeMap<String, MetricMetadata>, PrometheusError> {
        self.call("/api/v1/metadata", &[], decode_metadata).await
    }

    /// `/api/v1/status/buildinfo`'s version (`2.42.0`). Thanos and VictoriaMetrics may not
    /// answer it: an error the caller can ignore.
    pub async fn build_version(&self) -> Result<String, PrometheusError> {
        self.call("/api/v1/status/buildinfo", &[], decode_build_version)
            .await
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// One GET of `path` with `params`, its answer decoded by `decode`; warnings are logged.
    async fn call<T>(
        &self,
        path: &str,
        params: &[(&str, &str)],
        decode: impl FnOnce(&[u8]) -> Result<Answer<T>, DecodeError>,
    ) -> Result<T, PrometheusError> {
        let url = self.endpoint(path);
        let mut full = url.clone();
        if !params.is_empty() {
            full.push('?');
            full.push_str(&form_encode(params));
        }
        let request = HttpRequest {
            method: "GET".into(),
            url: full,
            headers: vec![("accept".into(), "application/json".into())],
            body: None,
            timeout: self.timeout,
        };
        let response = sdd_http::send_with_limit(&request, &self.hosts, self.max_answer_bytes)
            .await
            .map_err(|e| http_error(&url, e))?;
        if !(200..300).contains(&response.status) {
            return Err(match decode_error(&response.body) {
                Some((error_type, message)) => PrometheusError::Api {
                    url,
                    status: response.status,
                    error_type,
                    message,
                },
                None => PrometheusError::Status {
                    url,
                    status: response.status,
                    excerpt: excerpt(&response.body, 300),
                },
            });
        }
        match decode(&response.body) {
            Ok(answer) => {
                // Informational annotations ("PromQL info: …", Prometheus 2.49) say nothing is
                // missing; any other warning (Thanos' "partial response", a query warning) may
                // mean the data is not whole.
                let (info, warnings): (Vec<String>, Vec<String>) = answer
                    .warnings
                    .into_iter()
                    .partition(|w| w.starts_with("PromQL info"));
                for note in &info {
                    tracing::info!(url = %url, "Prometheus notes: {note}");
                }
                if !warnings.is_empty() {
                    return Err(PrometheusError::Partial { url, warnings });
                }
                Ok(answer.data)
            }
            Err(DecodeError::Api {
                error_type,
                message,
            }) => Err(PrometheusError::Api {
                url,
                status: response.status,
                error_type,
                message,
            }),
            Err(DecodeError::TooManySeries { count, limit }) => {
                Err(PrometheusError::TooManySeries { url, count, limit })
            }
            Err(DecodeError::Malformed(reason)) => {
                Err(PrometheusError::Unparseable { url, reason })
            }
        }
    }
}

fn http_error(url: &str, error: HttpError) -> PrometheusError {
    let url = url.to_string();
    match error {
        HttpError::BadUrl(_) => PrometheusError::BadUrl {
            url,
            reason: "not an http://host:port/path URL".into(),
        },
        HttpError::HostNotAllowed(host) => PrometheusError::HostNotAllowed { url, host },
        HttpError::Connect(_, cause) => PrometheusError::Unreachable { url, cause },
        HttpError::Timeout(timeout) => PrometheusError::Timeout {
            url,
            seconds: timeout.as_secs_f64(),
        },
        HttpError::BodyTooLarge(limit) => PrometheusError::TooLarge { url, limit },
        HttpError::Protocol(message) => PrometheusError::Http { url, message },
    }
}

/// A range query's arguments as Prometheus checks them, refused here with a clearer word.
fn check_range(start_ms: i64, end_ms: i64, step_ms: i64) -> Result<(), PrometheusError> {
    if step_ms <= 0 {
        return Err(PrometheusError::InvalidArgument(format!(
            "a range query's step must be above zero, not {step_ms} ms"
        )));
    }
    if end_ms < start_ms {
        return Err(PrometheusError::InvalidArgument(format!(
            "a range query's end ({end_ms} ms) is before its start ({start_ms} ms)"
        )));
    }
    // Prometheus: `if end.Sub(start)/step > 11000` (whole steps); i128: no overflow.
    let steps = (end_ms as i128 - start_ms as i128) / step_ms as i128;
    if steps > MAX_POINTS_PER_SERIES as i128 {
        return Err(PrometheusError::TooManyPoints {
            range_ms: end_ms.saturating_sub(start_ms),
            step_ms,
            points: steps + 1,
            min_step_ms: step_for(start_ms, end_ms, MAX_POINTS_PER_SERIES),
        });
    }
    Ok(())
}

/// The smallest whole-second step (in milliseconds, at least 1 s) that evaluates `start_ms`
/// to `end_ms` in at most `max_points` points — and at most [`MAX_POINTS_PER_SERIES`] —
/// counting both ends: `(end − start) / step + 1 ≤ max_points`. An empty or reversed range
/// needs one point: 1 s. `max_points` 0 is taken as 1.
pub fn step_for(start_ms: i64, end_ms: i64, max_points: usize) -> i64 {
    let range = (end_ms as i128 - start_ms as i128).max(0);
    let points = max_points.clamp(1, MAX_POINTS_PER_SERIES) as i128;
    // floor(range / step) ≤ points − 1  ⇔  range / step < points  ⇔  step > range / points.
    let smallest_ms = range / points + 1;
    let seconds = (smallest_ms + 999) / 1000;
    i64::try_from(seconds.max(1) * 1000).unwrap_or(i64::MAX / 1000 * 1000)
}

// ---------------------------------------------------------------------------------------------
// Query strings

/// `key=value&…`, form-urlencoded: every byte but ASCII letters, digits and `-._~`
/// percent-encoded (a space as `%20`, which every form decoder reads as a space).
fn form_encode(params: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(key, &mut out);
        out.push('=');
        percent_encode(value, &mut out);
    }
    out
}

fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 15) as usize] as char);
        }
    }
}

/// Milliseconds as decimal seconds, exactly (`1700000000123` → `1700000000.123`, `-1500` →
/// `-1.5`): what Prometheus' `time`, `start` and `end` take.
fn seconds_text(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    let (seconds, millis) = (abs / 1000, abs % 1000);
    if millis == 0 {
        format!("{sign}{seconds}")
    } else {
        let fraction = format!("{millis:03}");
        format!("{sign}{seconds}.{}", fraction.trim_end_matches('0'))
    }
}

/// A step as Prometheus reads it exactly: whole seconds as a number (`15`), anything else as a
/// duration in milliseconds (`1500ms`) — a float like `1.5` would be multiplied out in
/// nanoseconds and truncated.
fn step_text(step_ms: i64) -> String {
    if step_ms % 1000 == 0 {
        (step_ms / 1000).to_string()
    } else {
        format!("{step_ms}ms")
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding: pure functions of the body

/// The body of `/api/v1/query` or `/api/v1/query_range`. At most `max_series` series are kept;
/// the rest are only counted, and more than `max_series` is [`DecodeError::TooManySeries`].
///
/// Timestamps: a JSON number of seconds, parsed as the nearest double, written as its shortest
/// decimal (the digits the server wrote: Prometheus writes at most three decimals) and read
/// as whole milliseconds from those digits, rounding half away from zero on the fourth — so
/// `1700000000.123` is exactly `1700000000123`, with no `× 1000` drift. A timestamp beyond
/// ±9.2·10¹⁵ s (outside `i64` milliseconds) is an error.
pub fn decode_query(body: &[u8], max_series: usize) -> Result<Answer<QueryResult>, DecodeError> {
    let answer = decode_success(body, QueryDataSeed { max_series })?;
    Ok(Answer {
        data: interpret_query(answer.data, max_series)?,
        warnings: answer.warnings,
    })
}

/// The body of `/api/v1/series`: label sets, at most `max_series` of them.
pub fn decode_series(body: &[u8], max_series: usize) -> Result<Answer<Vec<Labels>>, DecodeError> {
    let answer = decode_success(body, CappedLabels { max_series })?;
    let (kept, count) = answer.data;
    if count > max_series {
        return Err(DecodeError::TooManySeries {
            count,
            limit: max_series,
        });
    }
    Ok(Answer {
        data: kept,
        warnings: answer.warnings,
    })
}

/// The body of `/api/v1/labels` or `/api/v1/label/…/values`: a list of strings.
pub fn decode_strings(body: &[u8]) -> Result<Answer<Vec<String>>, DecodeError> {
    decode_success(body, PhantomData::<Vec<String>>)
}

/// The body of `/api/v1/metadata`: per family, the first of its entries.
pub fn decode_metadata(
    body: &[u8],
) -> Result<Answer<BTreeMap<String, MetricMetadata>>, DecodeError> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "type", default)]
        kind: String,
        #[serde(default)]
        help: String,
        #[serde(default)]
        unit: String,
    }
    let answer = decode_success(body, PhantomData::<BTreeMap<String, Vec<Entry>>>)?;
    let data = answer
        .data
        .into_iter()
        .filter_map(|(name, entries)| {
            let first = entries.into_iter().next()?;
            Some((
                name,
                MetricMetadata {
                    kind: first.kind,
                    help: first.help,
                    unit: first.unit,
                },
            ))
        })
        .collect();
    Ok(Answer {
        data,
        warnings: answer.warnings,
    })
}

/// The body of `/api/v1/status/buildinfo`: its `version`.
pub fn decode_build_version(body: &[u8]) -> Result<Answer<String>, DecodeError> {
    #[derive(Deserialize)]
    struct BuildInfo {
        version: String,
    }
    let answer = decode_success(body, PhantomData::<BuildInfo>)?;
    Ok(Answer {
        data: answer.data.version,
        warnings: answer.warnings,
    })
}

/// The envelope's fields but `data` (skipped unparsed).
#[derive(Deserialize)]
struct Head {
    status: Option<String>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    warnings: Option<serde_json::Value>,
}

fn malformed(error: serde_json::Error) -> DecodeError {
    DecodeError::Malformed(format!("not the API's JSON: {error}"))
}

/// The API's own error (`errorType`, `error`) when `body` is an error envelope.
fn decode_error(body: &[u8]) -> Option<(String, String)> {
    let head: Head = serde_json::from_slice(body).ok()?;
    (head.status.as_deref() == Some("error")).then(|| api_error(head))
}

fn api_error(head: Head) -> (String, String) {
    (
        cut(head.error_type.as_deref().unwrap_or("unknown error"), 100),
        cut(head.error.as_deref().unwrap_or("(no message)"), 2000),
    )
}

/// Two passes: the envelope's status first (wherever `data` sits in the object), then `data`
/// through `seed`.
fn decode_success<'de, S: DeserializeSeed<'de>>(
    body: &'de [u8],
    seed: S,
) -> Result<Answer<S::Value>, DecodeError> {
    let head: Head = serde_json::from_slice(body).map_err(malformed)?;
    match head.status.as_deref() {
        Some("success") => {}
        Some("error") => {
            let (error_type, message) = api_error(head);
            return Err(DecodeError::Api {
                error_type,
                message,
            });
        }
        Some(other) => {
            return Err(DecodeError::Malformed(format!(
                "status `{}`, neither success nor error",
                cut(other, 40)
            )))
        }
        None => return Err(DecodeError::Malformed("no `status`".into())),
    }
    let warnings = warnings(head.warnings);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let data = DataSeed(seed)
        .deserialize(&mut deserializer)
        .and_then(|data| deserializer.end().map(|()| data))
        .map_err(malformed)?
        .ok_or_else(|| DecodeError::Malformed("no `data`".into()))?;
    Ok(Answer { data, warnings })
}

/// Warnings as text: strings as they are, anything else as JSON; at most 20, each cut.
fn warnings(value: Option<serde_json::Value>) -> Vec<String> {
    let items = match value {
        Some(serde_json::Value::Array(items)) => items,
        None | Some(serde_json::Value::Null) => return Vec::new(),
        Some(other) => vec![other],
    };
    items
        .into_iter()
        .take(20)
        .map(|item| match item {
            serde_json::Value::String(text) => cut(&text, 500),
            other => cut(&other.to_string(), 500),
        })
        .collect()
}

/// At most `max` characters of `text`, `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A body as one line of at most `max` characters.
fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        "(empty body)".into()
    } else {
        cut(&line, max)
    }
}

/// A sample value as the API writes it: a decimal, `NaN`, `+Inf`, `-Inf`.
fn parse_sample_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

/// Seconds as whole milliseconds from their shortest decimal form (see [`decode_query`]).
fn seconds_to_ms(seconds: f64) -> Option<i64> {
    if !seconds.is_finite() || seconds.abs() >= 9.2e15 {
        return None;
    }
    // Display of an f64: the shortest decimal that reads back as it, never in exponent form.
    let text = seconds.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole: i64 = whole.parse().ok()?;
    let digit = |i: usize| -> i64 {
        fraction
            .as_bytes()
            .get(i)
            .map_or(0, |&b| i64::from(b.wrapping_sub(b'0')).min(9))
    };
    let millis = digit(0) * 100 + digit(1) * 10 + digit(2) + i64::from(digit(3) >= 5);
    let ms = whole.checked_mul(1000)?.checked_add(millis)?;
    Some(if seconds < 0.0 { -ms } else { ms })
}

fn labels_text(labels: &Labels) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let pairs: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    cut(&format!("{name}{{{}}}", pairs.join(",")), 200)
}

/// `{"data": …}`: `data` through the seed, every other key skipped. `None` without `data`.
struct DataSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for DataSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for DataSeed<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `status` and `data`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seed = Some(self.0);
        let mut data = None;
        while let Some(key) = map.next_key::<String>()? {
            match (key.as_str(), seed.take()) {
                ("data", Some(seed)) => data = Some(map.next_value_seed(seed)?),
                (_, unused) => {
                    seed = unused;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(data)
    }
}

/// One sample: `[seconds, "value"]`.
struct Sample(i64, f64);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Sample, D::Error> {
        deserializer.deserialize_seq(SampleVisitor)
    }
}

struct SampleVisitor;

impl<'de> Visitor<'de> for SampleVisitor {
    type Value = Sample;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sample [seconds, \"value\"]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sample, A::Error> {
        let seconds: f64 = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let SampleValue(value) = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        let ms = seconds_to_ms(seconds).ok_or_else(|| {
            de::Error::custom(format_args!("timestamp {seconds:e} s is out of range"))
        })?;
        Ok(Sample(ms, value))
    }
}

/// A sample value: a string (`"1.5"`, `"NaN"`, `"+Inf"`), or a plain JSON number.
struct SampleValue(f64);

impl<'de> Deserialize<'de> for SampleValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SampleValue, D::Error> {
        deserializer.deserialize_any(SampleValueVisitor)
    }
}

struct SampleValueVisitor;

impl Visitor<'_> for SampleValueVisitor {
    type Value = SampleValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sample value (\"1.5\", \"NaN\", \"+Inf\", \"-Inf\")")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SampleValue, E> {
        parse_sample_value(text).map(SampleValue).ok_or_else(|| {
            E::custom(format_args!(
                "sample value `{}` is not a number",
                cut(text, 40)
            ))
        })
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<SampleValue, E> {
        Ok(SampleValue(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<SampleValue, E> {
        Ok(SampleValue(value as f64))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<SampleValue, E> {
        Ok(SampleValue(value as f64))
    }
}

/// One element of a query's `result`: a series object, or a part of a scalar or string
/// result (`[seconds, "value"]`).
enum Element {
    Series {
        metric: Option<Labels>,
        value: Option<Sample>,
        values: Option<Vec<Sample>>,
        /// `histogram` or `histograms` (native histograms) present.
        histogram: bool,
    },
    /// A series past the cap: counted, not kept.
    Skipped,
    Number,
    Text(String),
}

struct ElementSeed {
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Element, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a series object, a timestamp or a value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        if !self.keep {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Element::Skipped);
        }
        let (mut metric, mut value, mut values, mut histogram) = (None, None, None, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "metric" => metric = Some(map.next_value()?),
                "value" => value = Some(map.next_value()?),
                "values" => values = Some(map.next_value()?),
                "histogram" | "histograms" => {
                    histogram = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Element::Series {
            metric,
            value,
            values,
            histogram,
        })
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element::Number)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element::Number)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element::Number)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Element, E> {
        Ok(Element::Text(text.to_string()))
    }
}

/// A query's `data` before it is checked against its `resultType`.
struct RawQuery {
    result_type: Option<String>,
    /// The kept elements and how many series objects there were in all.
    result: Option<(Vec<Element>, usize)>,
}

struct QueryDataSeed {
    max_series: usize,
}

impl<'de> DeserializeSeed<'de> for QueryDataSeed {
    type Value = RawQuery;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawQuery, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for QueryDataSeed {
    type Value = RawQuery;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `resultType` and `result`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawQuery, A::Error> {
        let mut raw = RawQuery {
            result_type: None,
            result: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "resultType" => raw.result_type = Some(map.next_value()?),
                "result" => {
                    raw.result = Some(map.next_value_seed(CappedElements {
                        max_series: self.max_series,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(raw)
    }
}

/// A `result` array: series kept up to the cap, the rest counted.
struct CappedElements {
    max_series: usize,
}

impl<'de> DeserializeSeed<'de> for CappedElements {
    type Value = (Vec<Element>, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CappedElements {
    type Value = (Vec<Element>, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a `result` array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut kept, mut series) = (Vec::new(), 0usize);
        while let Some(element) = seq.next_element_seed(ElementSeed {
            keep: series < self.max_series,
        })? {
            match element {
                Element::Skipped => series += 1,
                Element::Series { .. } => {
                    series += 1;
                    kept.push(element);
                }
                other => kept.push(other),
            }
        }
        Ok((kept, series))
    }
}

/// A series list (`/api/v1/series`): label sets kept up to the cap, the rest counted.
struct CappedLabels {
    max_series: usize,
}

impl<'de> DeserializeSeed<'de> for CappedLabels {
    type Value = (Vec<Labels>, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CappedLabels {
    type Value = (Vec<Labels>, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of label sets")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut kept, mut count) = (Vec::new(), 0usize);
        loop {
            if count < self.max_series {
                match seq.next_element::<Labels>()? {
                    Some(labels) => kept.push(labels),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            count += 1;
        }
        Ok((kept, count))
    }
}

fn native_histogram(metric: &Labels) -> DecodeError {
    DecodeError::Malformed(format!(
        "series {} holds native histogram samples, which this client does not read; query its classic buckets (`_bucket`) or histogram_count / histogram_sum / histogram_quantile of it",
        labels_text(metric)
    ))
}

fn interpret_query(raw: RawQuery, max_series: usize) -> Result<QueryResult, DecodeError> {
    let result_type = raw
        .result_type
        .ok_or_else(|| DecodeError::Malformed("no `resultType`".into()))?;
    let (elements, series) = raw
        .result
        .ok_or_else(|| DecodeError::Malformed("no `result`".into()))?;
    if series > max_series {
        return Err(DecodeError::TooManySeries {
            count: series,
            limit: max_series,
        });
    }
    let not_series = || {
        DecodeError::Malformed(format!(
            "a {result_type} holds something other than series objects"
        ))
    };
    match result_type.as_str() {
        "vector" => elements
            .into_iter()
            .map(|element| match element {
                Element::Series {
                    metric: Some(metric),
                    value,
                    values: _,
                    histogram,
                } => match (value, histogram) {
                    (_, true) => Err(native_histogram(&metric)),
                    (Some(Sample(_, value)), false) => Ok((metric, value)),
                    (None, false) => Err(DecodeError::Malformed(format!(
                        "vector series {} has no `value`",
                        labels_text(&metric)
                    ))),
                },
                Element::Series { metric: None, .. } => {
                    Err(DecodeError::Malformed("a series has no `metric`".into()))
                }
                _ => Err(not_series()),
            })
            .collect::<Result<_, _>>()
            .map(QueryResult::Vector),
        "matrix" => elements
            .into_iter()
            .map(|element| match element {
                Element::Series {
                    metric: Some(metric),
                    value: _,
                    values,
                    histogram,
                } => match (values, histogram) {
                    (_, true) => Err(native_histogram(&metric)),
                    (Some(values), false) => Ok((
                        metric,
                        values.into_iter().map(|Sample(t, v)| (t, v)).collect(),
                    )),
                    (None, false) => Err(DecodeError::Malformed(format!(
                        "matrix series {} has no `values`",
                        labels_text(&metric)
                    ))),
                },
                Element::Series { metric: None, .. } => {
                    Err(DecodeError::Malformed("a series has no `metric`".into()))
                }
                _ => Err(not_series()),
            })
            .collect::<Result<_, _>>()
            .map(QueryResult::Matrix),
        "scalar" => match elements.as_slice() {
            [Element::Number, Element::Text(text)] => parse_sample_value(text)
                .map(QueryResult::Scalar)
                .ok_or_else(|| {
                    DecodeError::Malformed(format!(
                        "scalar value `{}` is not a number",
                        cut(text, 40)
                    ))
                }),
            _ => Err(DecodeError::Malformed(
                "a scalar result is not [seconds, \"value\"]".into(),
            )),
        },
        "string" => Err(DecodeError::Malformed(
            "the query gives a string, not numbers".into(),
        )),
        other => Err(DecodeError::Malformed(format!(
            "unknown resultType `{}`",
            cut(other, 40)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn query(body: &str) -> Result<QueryResult, DecodeError> {
        decode_query(body.as_bytes(), MAX_SERIES).map(|a| a.data)
    }

    fn malformed_containing(result: Result<QueryResult, DecodeError>, words: &str) {
        match result {
            Err(DecodeError::Malformed(reason)) => {
                assert!(reason.contains(words), "{reason:?} should say {words:?}")
            }
            other => panic!("expected Malformed({words:?}), got {other:?}"),
        }
    }

    #[test]
    fn form_encoding_of_promql() {
        assert_eq!(
            form_encode(&[
                ("query", r#"sum by (le) (rate(x_bucket{job=~"a|b",path!="/x y"}[5m])) + 1"#),
                ("time", "1700000000.123"),
            ]),
            "query=sum%20by%20%28le%29%20%28rate%28x_bucket%7Bjob%3D~%22a%7Cb%22%2Cpath%21%3D%22%2Fx%20y%22%7D%5B5m%5D%29%29%20%2B%201&time=1700000000.123"
        );
        assert_eq!(
            form_encode(&[("match[]", "a&b=c")]),
            "match%5B%5D=a%26b%3Dc"
        );
        // UTF-8 bytes one by one; `-._~` and alphanumerics kept.
        assert_eq!(form_encode(&[("q", "é-._~Az09")]), "q=%C3%A9-._~Az09");
        assert_eq!(form_encode(&[]), "");
    }

    #[test]
    fn milliseconds_as_seconds_text() {
        for (ms, text) in [
            (0, "0"),
            (1, "0.001"),
            (10, "0.01"),
            (1500, "1.5"),
            (-1, "-0.001"),
            (-1500, "-1.5"),
            (1_700_000_000_123, "1700000000.123"),
            (1_700_000_000_000, "1700000000"),
            (i64::MIN, "-9223372036854775.808"),
            (i64::MAX, "9223372036854775.807"),
        ] {
            assert_eq!(seconds_text(ms), text, "{ms}");
        }
        assert_eq!(step_text(15_000), "15");
        assert_eq!(step_text(1_500), "1500ms");
        assert_eq!(step_text(1), "1ms");
    }

    #[test]
    fn seconds_to_milliseconds_without_drift() {
        for (seconds, ms) in [
            (1_700_000_000.123, Some(1_700_000_000_123)),
            (1_700_000_000.1, Some(1_700_000_000_100)),
            (1_700_000_000.0, Some(1_700_000_000_000)),
            (0.001, Some(1)),
            (0.0005, Some(1)),
            (0.0004999, Some(0)),
            (1e-7, Some(0)),
            (-0.001, Some(-1)),
            (-1_700_000_000.123, Some(-1_700_000_000_123)),
            (-0.0, Some(0)),
            // Every millisecond of a day as a server writes it reads back exactly.
            (86_399.999, Some(86_399_999)),
            (9.1e15, Some(9_100_000_000_000_000_000)),
            (9.3e15, None),
            (1e300, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (f64::NEG_INFINITY, None),
        ] {
            assert_eq!(seconds_to_ms(seconds), ms, "{seconds}");
        }
        // Every millisecond of a stretch of real timestamps, through JSON as Prometheus
        // writes them.
        for ms in (1_700_000_000_000i64..1_700_000_003_000).chain(-3000..3000) {
            let json = seconds_text(ms);
            let parsed: f64 = serde_json::from_str(&json).unwrap();
            assert_eq!(seconds_to_ms(parsed), Some(ms), "{json}");
        }
    }

    #[test]
    fn sample_values() {
        assert!(parse_sample_value("NaN").unwrap().is_nan());
        assert_eq!(parse_sample_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_sample_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sample_value("1.5"), Some(1.5));
        assert_eq!(parse_sample_value("-2"), Some(-2.0));
        assert_eq!(parse_sample_value("1e+06"), Some(1e6));
        assert_eq!(parse_sample_value("1e999"), Some(f64::INFINITY));
        assert_eq!(parse_sample_value("4.9e-324"), Some(4.9e-324));
        for bad in ["", " 1", "1 ", "0x10", "1,5", "one", "1_000"] {
            assert_eq!(parse_sample_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn steps_for_a_range() {
        let day = 86_400_000;
        for (start, end, max_points, step) in [
            // A day in at most 11,000 points: 86,400 s / 11,000 = 7.85… → 8 s (10,801 points).
            (0, day, 11_000, 8_000),
            (0, day, 20_000, 8_000),
            // A day in 1,441 points is exactly one a minute; in 1,440 it is 61 s.
            (0, day, 1_441, 60_000),
            (0, day, 1_440, 61_000),
            (0, day, 2, 43_201_000),
            (0, day, 1, 86_401_000),
            (0, day, 0, 86_401_000),
            // Short ranges: one second is the smallest step.
            (0, 0, 100, 1_000),
            (0, 999, 2, 1_000),
            (0, 1_000, 2, 1_000),
            (0, 1_000, 1, 2_000),
            (5_000, 1_000, 100, 1_000),
            // 11,000 s: 1 s would be 11,001 points.
            (0, 11_000_000, 11_000, 2_000),
            (0, 10_999_000, 11_000, 1_000),
            (1_700_000_000_123, 1_700_000_600_123, 61, 10_000),
            (i64::MIN, i64::MAX, 11_000, 1_676_976_733_974_000),
        ] {
            assert_eq!(
                step_for(start, end, max_points),
                step,
                "{start}..{end} in {max_points}"
            );
            let points = (end as i128 - start as i128).max(0) / step as i128 + 1;
            assert!(points <= max_points.clamp(1, 11_000) as i128);
            assert!(check_range(start.min(end), end.max(start), step).is_ok());
        }
    }

    #[test]
    fn range_checks() {
        let day = 86_400_000;
        // Prometheus' own rule: (end − start) / step ≤ 11,000 passes (11,001 points).
        assert!(check_range(0, 11_000_000, 1_000).is_ok());
        let err = check_range(0, 11_001_000, 1_000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a range of 11001 s at a step of 1 s is 11002 points per series, over Prometheus' limit of 11,000; use a step of at least 2 s (step_for computes one) or shorten the range"
        );
        assert!(matches!(
            check_range(0, day, 7_000),
            Err(PrometheusError::TooManyPoints {
                min_step_ms: 8_000,
                ..
            })
        ));
        assert!(matches!(
            check_range(0, day, 0),
            Err(PrometheusError::InvalidArgument(_))
        ));
        assert!(matches!(
            check_range(0, day, -5),
            Err(PrometheusError::InvalidArgument(_))
        ));
        assert!(matches!(
            check_range(day, 0, 1_000),
            Err(PrometheusError::InvalidArgument(_))
        ));
        assert!(check_range(i64::MIN, i64::MAX, i64::MAX).is_ok());
        assert!(check_range(i64::MIN, i64::MAX, 1).is_err());
    }

    #[test]
    fn vectors() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"up","job":"api"},"value":[1700000000.123,"1"]},
            {"metric":{},"value":[1700000000.123,"NaN"]},
            {"metric":{"a":"b"},"value":[1700000000,"+Inf"]},
            {"metric":{"a":"c"},"value":[1700000000,"-Inf"]},
            {"metric":{"a":"d"},"value":[1700000000,2.5]}]}}"#;
        let QueryResult::Vector(series) = query(body).unwrap() else {
            panic!()
        };
        assert_eq!(series.len(), 5);
        assert_eq!(
            series[0],
            (labels(&[("__name__", "up"), ("job", "api")]), 1.0)
        );
        assert!(series[1].1.is_nan() && series[1].0.is_empty());
        assert_eq!(series[2].1, f64::INFINITY);
        assert_eq!(series[3].1, f64::NEG_INFINITY);
        assert_eq!(series[4].1, 2.5);
        assert_eq!(
            query(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).unwrap(),
            QueryResult::Vector(vec![])
        );
    }

    #[test]
    fn matrices_in_any_key_order_with_extra_fields() {
        // `result` before `resultType`, `data` before `status`, unknown keys.
        let body = r#"{"data":{"result":[{"values":[[1700000000.001,"1"],[1700000015.5,"2.25"]],
            "metric":{"le":"0.1"},"extra":[1,{"x":null}]}],"resultType":"matrix","stats":{}},
            "status":"success","infos":["x"]}"#;
        assert_eq!(
            query(body).unwrap(),
            QueryResult::Matrix(vec![(
                labels(&[("le", "0.1")]),
                vec![(1_700_000_000_001, 1.0), (1_700_000_015_500, 2.25)]
            )])
        );
    }

    #[test]
    fn scalars_and_strings() {
        assert_eq!(
            query(r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"42.5"]}}"#)
                .unwrap(),
            QueryResult::Scalar(42.5)
        );
        let Ok(QueryResult::Scalar(v)) =
            query(r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"NaN"]}}"#)
        else {
            panic!()
        };
        assert!(v.is_nan());
        malformed_containing(
            query(
                r#"{"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}}"#,
            ),
            "a string, not numbers",
        );
        malformed_containing(
            query(r#"{"status":"success","data":{"resultType":"scalar","result":[1,"x"]}}"#),
            "scalar value `x` is not a number",
        );
        malformed_containing(
            query(r#"{"status":"success","data":{"resultType":"scalar","result":[1]}}"#),
            "not [seconds",
        );
        malformed_containing(
            query(r#"{"status":"success","data":{"resultType":"scalar","result":["1", 1]}}"#),
            "not [seconds",
        );
    }

    #[test]
    fn api_errors_and_warnings() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#;
        assert_eq!(
            query(body),
            Err(DecodeError::Api {
                error_type: "bad_data".into(),
                message: "1:5: parse error: unclosed left parenthesis".into()
            })
        );
        assert_eq!(
            decode_error(body.as_bytes()),
            Some((
                "bad_data".into(),
                "1:5: parse error: unclosed left parenthesis".into()
            ))
        );
        assert_eq!(decode_error(b"<html>bad gateway</html>"), None);
        assert_eq!(decode_error(br#"{"status":"success","data":[]}"#), None);
        // An error without its fields, a huge message cut.
        assert_eq!(
            query(r#"{"status":"error"}"#),
            Err(DecodeError::Api {
                error_type: "unknown error".into(),
                message: "(no message)".into()
            })
        );
        let huge = format!(
            r#"{{"status":"error","errorType":"x","error":"{}"}}"#,
            "e".repeat(100_000)
        );
        let Err(DecodeError::Api { message, .. }) = query(&huge) else {
            panic!()
        };
        assert_eq!(message.chars().count(), 2001);
        // Warnings come with the data.
        let body = r#"{"status":"success","warnings":["partial response: store x down", 7],
            "data":{"resultType":"vector","result":[]}}"#;
        let answer = decode_query(body.as_bytes(), 10).unwrap();
        assert_eq!(
            answer.warnings,
            vec!["partial response: store x down".to_string(), "7".into()]
        );
        let answer =
            decode_strings(br#"{"status":"success","warnings":"one","data":["a"]}"#).unwrap();
        assert_eq!(answer.warnings, vec!["one".to_string()]);
        assert_eq!(answer.data, vec!["a".to_string()]);
    }

    #[test]
    fn hostile_bodies_are_errors() {
        for (body, words) in [
            ("", "not the API's JSON"),
            ("not json", "not the API's JSON"),
            ("null", "not the API's JSON"),
            ("[]", "not the API's JSON"),
            ("{}", "no `status`"),
            (r#"{"status":"maybe"}"#, "neither success nor error"),
            (r#"{"status":1}"#, "not the API's JSON"),
            (r#"{"status":"success"}"#, "no `data`"),
            (r#"{"status":"success","data":null}"#, "not the API's JSON"),
            (r#"{"status":"success","data":{}}"#, "no `resultType`"),
            (
                r#"{"status":"success","data":{"resultType":"vector"}}"#,
                "no `result`",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":{}}}"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":7,"result":[]}}"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":"tensor","result":[]}}"#,
                "unknown resultType `tensor`",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}"#,
                "no `metric`",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#,
                "has no `value`",
            ),
            (
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"value":[1,"1"]}]}}"#,
                "has no `values`",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[1,"1"]}}"#,
                "something other than series",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[null]}}"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[true]}}"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[[1,"1"]]}}"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}"#,
                "invalid type",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":[],"value":[1,"1"]}]}}"#,
                "invalid type",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}"#,
                "invalid length",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1",2]}]}}"#,
                "invalid length",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","1"]}]}}"#,
                "invalid type",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"fast"]}]}}"#,
                "sample value `fast` is not a number",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,null]}]}}"#,
                "invalid type",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e999,"1"]}]}}"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e300,"1"]}]}}"#,
                "out of range",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[-1e16,"1"]}]}}"#,
                "out of range",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[99999999999999999999999,"1"]}]}}"#,
                "out of range",
            ),
            (
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],"x"]}]}}"#,
                "invalid type",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[]}} trailing"#,
                "not the API's JSON",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[]}"#,
                "not the API's JSON",
            ),
        ] {
            malformed_containing(query(body), words);
        }
        // Native histograms, alone or with floats, are named, not misread.
        malformed_containing(
            query(
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"h"},"histogram":[1,{"count":"2","sum":"3","buckets":[]}]}]}}"#,
            ),
            "series h{} holds native histogram samples",
        );
        malformed_containing(
            query(
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"]],"histograms":[]}]}}"#,
            ),
            r#"series {a="b"} holds native histogram samples"#,
        );
        // Deep nesting: skipped without recursion where it is ignored, refused where it is read
        // (never a stack overflow).
        let nested =
            |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1,"1"],"x":{}}}]}}}}"#,
            nested("[", "]", 100_000)
        );
        assert_eq!(
            query(&body),
            Ok(QueryResult::Vector(vec![(Labels::new(), 1.0)]))
        );
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":{}}}}}"#,
            nested("[", "]", 100_000)
        );
        malformed_containing(query(&body), "invalid type");
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{}}}]}}}}"#,
            nested("{\"a\":", "}", 100_000)
        );
        malformed_containing(query(&body), "invalid type");
        malformed_containing(query(&nested("{\"a\":", "}", 100_000)), "no `status`");
    }

    #[test]
    fn too_many_series_counted_not_kept() {
        let series = |n: usize| {
            let items: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"metric":{{"i":"{i}"}},"value":[1,"{i}"]}}"#))
                .collect();
            format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
                items.join(",")
            )
        };
        let QueryResult::Vector(kept) = decode_query(series(3).as_bytes(), 3).unwrap().data else {
            panic!()
        };
        assert_eq!(kept.len(), 3);
        assert_eq!(
            decode_query(series(25).as_bytes(), 3),
            Err(DecodeError::TooManySeries {
                count: 25,
                limit: 3
            })
        );
        assert_eq!(
            decode_query(series(1).as_bytes(), 0),
            Err(DecodeError::TooManySeries { count: 1, limit: 0 })
        );
        // A scalar's two parts are not series, whatever the cap.
        assert_eq!(
            decode_query(
                br#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#,
                0
            )
            .unwrap()
            .data,
            QueryResult::Scalar(2.0)
        );
        // A broken series past the cap is still counted (its insides are not read).
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[]},{"metric":{},"values":"broken"},{"x":1}]}}"#;
        assert_eq!(
            decode_query(body.as_bytes(), 1),
            Err(DecodeError::TooManySeries { count: 3, limit: 1 })
        );
    }

    #[test]
    fn series_lists() {
        let body = r#"{"status":"success","data":[{"__name__":"up","job":"a"},{"__name__":"up","job":"b"}]}"#;
        assert_eq!(
            decode_series(body.as_bytes(), 10).unwrap().data,
            vec![
                labels(&[("__name__", "up"), ("job", "a")]),
                labels(&[("__name__", "up"), ("job", "b")])
            ]
        );
        assert_eq!(
            decode_series(body.as_bytes(), 1),
            Err(DecodeError::TooManySeries { count: 2, limit: 1 })
        );
        for bad in [
            r#"{"status":"success","data":{}}"#,
            r#"{"status":"success","data":[1]}"#,
            r#"{"status":"success","data":[{"a":null}]}"#,
            r#"{"status":"success","data":[["a"]]}"#,
        ] {
            assert!(
                matches!(
                    decode_series(bad.as_bytes(), 10),
                    Err(DecodeError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn strings_metadata_and_build_info() {
        assert_eq!(
            decode_strings(br#"{"status":"success","data":["__name__","job"]}"#)
                .unwrap()
                .data,
            vec!["__name__".to_string(), "job".into()]
        );
        assert!(decode_strings(br#"{"status":"success","data":["a",1]}"#).is_err());
        assert!(decode_strings(br#"{"status":"success","data":"a"}"#).is_err());
        let body = r#"{"status":"success","data":{
            "http_requests_total":[{"type":"counter","help":"Requests.","unit":""},{"type":"gauge","help":"Other.","unit":""}],
            "temperature":[{"type":"gauge","help":"Degrees.","unit":"celsius"}],
            "empty":[],
            "sparse":[{}]}}"#;
        let metadata = decode_metadata(body.as_bytes()).unwrap().data;
        assert_eq!(metadata.len(), 3);
        assert_eq!(
            metadata["http_requests_total"],
            MetricMetadata {
                kind: "counter".into(),
                help: "Requests.".into(),
                unit: String::new()
            }
        );
        assert_eq!(metadata["temperature"].unit, "celsius");
        assert_eq!(metadata["sparse"].kind, "");
        assert!(decode_metadata(br#"{"status":"success","data":{}}"#)
            .unwrap()
            .data
            .is_empty());
        assert!(decode_metadata(br#"{"status":"success","data":{"x":[{"type":1}]}}"#).is_err());
        assert!(decode_metadata(br#"{"status":"success","data":[]}"#).is_err());
        assert_eq!(
            decode_build_version(
                br#"{"status":"success","data":{"version":"2.42.0+ds","revision":"x","goVersion":"go1.19"}}"#
            )
            .unwrap()
            .data,
            "2.42.0+ds"
        );
        assert!(decode_build_version(br#"{"status":"success","data":{}}"#).is_err());
        assert!(matches!(
            decode_build_version(br#"{"status":"error","errorType":"not_found","error":"404"}"#),
            Err(DecodeError::Api { .. })
        ));
    }

    /// Every prefix and every single-byte change of real answers decodes or fails cleanly.
    #[test]
    fn every_prefix_and_corruption() {
        let bodies = [
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"g","job":"x"},"values":[[1700000000.123,"1.5"],[1700000015,"NaN"],[1700000030,"+Inf"]]}]},"warnings":["w"]}"#,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"le":"+Inf"},"value":[1700000000.5,"-Inf"]}]}}"#,
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#,
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        ];
        let replacements = [
            b'"', b'{', b'}', b'[', b']', b',', b':', b'1', b'e', b'-', b'x', 0, 0xff,
        ];
        for body in bodies {
            let bytes = body.as_bytes();
            for end in 0..=bytes.len() {
                let _ = decode_query(&bytes[..end], 2);
                let _ = decode_series(&bytes[..end], 2);
                let _ = decode_metadata(&bytes[..end]);
            }
            for at in 0..bytes.len() {
                for &byte in &replacements {
                    let mut changed = bytes.to_vec();
                    changed[at] = byte;
                    let _ = decode_query(&changed, 2);
                    let _ = decode_strings(&changed);
                    let _ = decode_build_version(&changed);
                }
            }
        }
    }

    #[test]
    fn urls_refused_up_front() {
        let loopback = AllowedHosts::loopback_only();
        let second = Duration::from_secs(1);
        let api =
            PrometheusApi::new("http://127.0.0.1:9090/prom/", second, loopback.clone()).unwrap();
        assert_eq!(api.base_url(), "http://127.0.0.1:9090/prom");
        assert_eq!(
            api.endpoint("/api/v1/query"),
            "http://127.0.0.1:9090/prom/api/v1/query"
        );
        assert!(PrometheusApi::new("http://[::1]:9090", second, loopback.clone()).is_ok());
        assert!(PrometheusApi::new("HTTP://localhost:9090", second, loopback.clone()).is_ok());
        for (url, words) in [
            ("https://127.0.0.1:9090", "https is not supported"),
            ("ftp://127.0.0.1", "must start with http://"),
            ("127.0.0.1:9090", "must start with http://"),
            ("http://127.0.0.1:9090/?x=1", "no query or fragment"),
            ("http://127.0.0.1:9090/#top", "no query or fragment"),
            ("http://user:pw@127.0.0.1:9090", "credentials"),
            ("http://", "not an http://host:port/path URL"),
            ("http://127.0.0.1:99999", "the port must be"),
            ("http://127.0.0.1:x", "the port must be"),
            ("http://[::1]:70000", "the port must be"),
        ] {
            let err = PrometheusApi::new(url, second, loopback.clone()).unwrap_err();
            assert!(
                matches!(err, PrometheusError::BadUrl { .. }),
                "{url}: {err}"
            );
            assert!(err.to_string().contains(words), "{url}: {err}");
        }
        let err = PrometheusApi::new(
            "http://prometheus.example.com:9090",
            second,
            loopback.clone(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Prometheus at http://prometheus.example.com:9090: host `prometheus.example.com` is not allowed; SDD sends requests to loopback only unless sdd.yaml lists the host under `targets.allowed_hosts`"
        );
        let listed = AllowedHosts::new(["prometheus.example.com".to_string()]);
        assert!(PrometheusApi::new("http://prometheus.example.com:9090", second, listed).is_ok());
        assert!(matches!(
            PrometheusApi::new("http://127.0.0.1:9090", Duration::ZERO, loopback),
            Err(PrometheusError::InvalidArgument(_))
        ));
    }

    #[test]
    fn messages_name_what_to_fix() {
        let url = "http://127.0.0.1:9090/api/v1/query".to_string();
        assert_eq!(
            PrometheusError::Timeout { url: url.clone(), seconds: 10.0 }.to_string(),
            "Prometheus at http://127.0.0.1:9090/api/v1/query did not answer within 10 s; raise monitoring.source.prometheus.timeout_seconds or narrow the query"
        );
        assert_eq!(
            PrometheusError::TooLarge { url: url.clone(), limit: MAX_ANSWER_BYTES }.to_string(),
            "Prometheus at http://127.0.0.1:9090/api/v1/query answered more than 32 MiB; narrow the selector or shorten the window"
        );
        assert_eq!(
            PrometheusError::Api {
                url: url.clone(),
                status: 400,
                error_type: "bad_data".into(),
                message: "1:5: parse error: unexpected end of input".into()
            }
            .to_string(),
            "Prometheus at http://127.0.0.1:9090/api/v1/query refused the request (HTTP 400, bad_data): 1:5: parse error: unexpected end of input; check the PromQL and the time range"
        );
        assert_eq!(
            PrometheusError::TooManySeries { url, count: 12_345, limit: 10_000 }.to_string(),
            "Prometheus at http://127.0.0.1:9090/api/v1/query answered 12345 series, over the cap of 10000; narrow the selector (more label matchers) or aggregate (`sum by (…)`)"
        );
        assert_eq!(
            excerpt(b"<html>\n  <body>Bad   gateway</body>\n</html>", 300),
            "<html> <body>Bad gateway</body> </html>"
        );
        assert_eq!(excerpt(b"", 300), "(empty body)");
        assert_eq!(excerpt(&[0xff; 10], 3), "\u{fffd}\u{fffd}\u{fffd}…");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
