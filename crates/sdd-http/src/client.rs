//! One HTTP/1.1 request on hyper, for readiness probes, executable examples and probes: a
//! timeout over the whole exchange, a cap on the body read, and only hosts `sdd.yaml` allows.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::rt::TokioIo;

use crate::AllowedHosts;

/// The body cap of [`send`]: a larger body is an error ([`HttpError::BodyTooLarge`]).
/// [`send_with_limit`] takes another cap per request.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// Absolute `http://host:port/path?query` URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("`{0}` is not an http:// URL (https is not supported for probes and examples)")]
    BadUrl(String),
    #[error("host `{0}` is not allowed: load and probe traffic goes to loopback only unless sdd.yaml lists the host under `targets.allowed_hosts`")]
    HostNotAllowed(String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    #[error("HTTP error: {0}")]
    Protocol(String),
    #[error("the response body is larger than {0} bytes")]
    BodyTooLarge(usize),
}

/// Host, port and path-and-query of an `http://` URL.
pub fn split_url(url: &str) -> Result<(String, u16, String), HttpError> {
    let uri: Uri = url.parse().map_err(|_| HttpError::BadUrl(url.into()))?;
    if uri.scheme_str() != Some("http") {
        return Err(HttpError::BadUrl(url.into()));
    }
    let host = uri
        .host()
        .ok_or_else(|| HttpError::BadUrl(url.into()))?
        .to_string();
    // A port written but not a port number (`:70000`) is a mistake, never port 80.
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    // After any credentials, and after an IPv6 literal's `]`.
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    let after_host = host_and_port.rsplit(']').next().unwrap_or_default();
    let port = match (after_host.contains(':'), uri.port_u16()) {
        (false, _) => 80,
        (true, Some(port)) => port,
        (true, None) => return Err(HttpError::BadUrl(url.into())),
    };
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    Ok((host, port, path))
}

/// [`send_with_limit`] with the body cap [`MAX_BODY`].
pub async fn send(
    request: &HttpRequest,
    allowed: &AllowedHosts,
) -> Result<HttpResponse, HttpError> {
    send_with_limit(request, allowed, MAX_BODY).await
}

/// One request: `request.timeout` over the whole exchange, a response body of more than
/// `max_body` bytes refused ([`HttpError::BodyTooLarge`]), and only hosts `allowed` lets through.
pub async fn send_with_limit(
    request: &HttpRequest,
    allowed: &AllowedHosts,
    max_body: usize,
) -> Result<HttpResponse, HttpError> {
    let (host, port, path) = split_url(&request.url)?;
    if !allowed.allows(&host) {
        return Err(HttpError::HostNotAllowed(host));
    }
    let started = Instant::now();
    tokio::time::timeout(
        request.timeout,
        exchange(request, &host, port, &path, max_body),
    )
    .await
    .map_err(|_| HttpError::Timeout(request.timeout))?
    .map(|(status, headers, body)| HttpResponse {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
    })
}

type Exchange = (u16, Vec<(String, String)>, Vec<u8>);

async fn exchange(
    request: &HttpRequest,
    host: &str,
    port: u16,
    path: &str,
    max_body: usize,
) -> Result<Exchange, HttpError> {
    let address = format!(
        "{}:{port}",
        host.trim_start_matches('[').trim_end_matches(']')
    );
    let stream = tokio::net::TcpStream::connect(&address)
        .await
        .map_err(|e| HttpError::Connect(address.clone(), e))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::Protocol(e.to_string()))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(path)
        .header(hyper::header::HOST, format!("{host}:{port}"));
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = Full::new(Bytes::from(request.body.clone().unwrap_or_default()));
    let outgoing = builder
        .body(body)
        .map_err(|e| HttpError::Protocol(format!("invalid request: {e}")))?;
    let response = sender
        .send_request(outgoing)
        .await
        .map_err(|e| HttpError::Protocol(e.to_string()))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).to_string(),
            )
        })
        .collect();
    let body = Limited::new(response.into_body(), max_body)
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                HttpError::BodyTooLarge(max_body)
            } else {
                HttpError::Protocol(format!("reading the body: {e}"))
            }
        })?;
    driver.abort();
    Ok((status, headers, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/tasks?x=1").unwrap(),
            ("127.0.0.1".into(), 8080, "/tasks?x=1".into())
        );
        assert_eq!(split_url("http://localhost").unwrap().1, 80);
        assert!(split_url("https://example.com/").is_err());
        assert!(split_url("not a url").is_err());
        // Not a port: refused, never read as port 80.
        assert!(split_url("http://127.0.0.1:70000/metrics").is_err());
        assert_eq!(split_url("http://127.0.0.1:65535/").unwrap().1, 65535);
    }

    #[tokio::test]
    async fn only_allowed_hosts() {
        let request = HttpRequest {
            method: "GET".into(),
            url: "http://10.1.2.3:80/".into(),
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(1),
        };
        let err = send(&request, &AllowedHosts::loopback_only())
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::HostNotAllowed(_)), "{err}");
    }

    /// A server on loopback (a thread) that answers every connection with `body` after reading
    /// the request head.
    fn answering(body: Vec<u8>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let mut answer =
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len())
                        .into_bytes();
                answer.extend_from_slice(&body);
                let _ = stream.write_all(&answer);
            }
        });
        format!("http://{address}/")
    }

    #[tokio::test]
    async fn body_cap_per_request() {
        let url = answering(vec![b'x'; 5000]);
        let request = HttpRequest {
            method: "GET".into(),
            url,
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(5),
        };
        let hosts = AllowedHosts::loopback_only();
        // The default cap (4 MiB) lets it through, as before.
        assert_eq!(send(&request, &hosts).await.unwrap().body.len(), 5000);
        assert_eq!(
            send_with_limit(&request, &hosts, 5000)
                .await
                .unwrap()
                .body
                .len(),
            5000
        );
        let err = send_with_limit(&request, &hosts, 4999).await.unwrap_err();
        assert!(matches!(err, HttpError::BodyTooLarge(4999)), "{err}");
        assert_eq!(
            err.to_string(),
            "the response body is larger than 4999 bytes"
        );
    }

    #[tokio::test]
    async fn default_cap_refuses_a_larger_body() {
        let url = answering(vec![b'x'; MAX_BODY + 1]);
        let request = HttpRequest {
            method: "GET".into(),
            url,
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(20),
        };
        let err = send(&request, &AllowedHosts::loopback_only())
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::BodyTooLarge(MAX_BODY)), "{err}");
    }
}
