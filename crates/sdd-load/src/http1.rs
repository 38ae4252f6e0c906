//! A minimal HTTP/1.1 client connection for load: requests are pre-serialized bytes, response
//! heads are parsed with httparse, bodies are read by `Content-Length`, chunked encoding, or to
//! the end of the connection, and left in the connection's buffer until the next request (read
//! only when a sample of the answers is asked for). No pipelining: one request in flight per
//! connection, as a client would.

use std::borrow::Cow;

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEADERS: usize = 64;
/// A response head larger than this is an error (not a server anyone measures).
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug)]
pub enum ExchangeError {
    /// The connection failed while sending or receiving.
    Io(io::Error),
    /// The server closed the connection before a complete response.
    Closed,
    /// The response could not be parsed.
    Malformed(String),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeError::Io(e) => write!(f, "{e}"),
            ExchangeError::Closed => write!(f, "connection closed before a complete response"),
            ExchangeError::Malformed(m) => write!(f, "malformed response: {m}"),
        }
    }
}

pub struct Response {
    pub status: u16,
    /// The server allows another request on this connection.
    pub keep_alive: bool,
    /// Where the body is in the connection's buffer.
    body: Body,
}

/// Where a response's body lies in the connection's buffer, as it was framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    /// `Content-Length` bytes, or everything to the end of the connection.
    Bytes {
        start: usize,
        end: usize,
    },
    /// Chunked, from `start` (chunk-size lines included).
    Chunked {
        start: usize,
    },
}

pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    pub async fn connect(address: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    /// Send one request and read its whole response.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        head_request: bool,
    ) -> Result<Response, ExchangeError> {
        self.stream
            .write_all(request)
            .await
            .map_err(ExchangeError::Io)?;
        self.buf.clear();
        // Read until the head is complete.
        let (status, head_len, length, chunked, mut keep_alive) = loop {
            if self.fill().await? == 0 {
                return Err(ExchangeError::Closed);
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let status = response.code.unwrap_or(0);
                    let mut length = None;
                    let mut chunked = false;
                    let mut keep_alive = response.version == Some(1);
                    for h in response.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok());
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = contains_token(h.value, b"chunked");
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            if contains_token(h.value, b"close") {
                                keep_alive = false;
                            } else if contains_token(h.value, b"keep-alive") {
                                keep_alive = true;
                            }
                        }
                    }
                    break (status, head_len, length, chunked, keep_alive);
                }
                Ok(httparse::Status::Partial) if self.buf.len() < MAX_HEAD => continue,
                Ok(httparse::Status::Partial) => {
                    return Err(ExchangeError::Malformed("response head too large".into()))
                }
                Err(e) => return Err(ExchangeError::Malformed(e.to_string())),
            }
        };
        let no_body =
            head_request || status == 204 || status == 304 || (100..200).contains(&status);
        if no_body {
            return Ok(Response {
                status,
                keep_alive,
                body: Body::None,
            });
        }
        let body = if chunked {
            self.read_chunked(head_len).await?;
            Body::Chunked { start: head_len }
        } else if let Some(length) = length {
            while self.buf.len() < head_len + length {
                if self.fill().await? == 0 {
                    return Err(ExchangeError::Closed);
                }
            }
            Body::Bytes {
                start: head_len,
                end: head_len + length,
            }
        } else {
            // No length: the body runs to the end of the connection.
            while self.fill().await? > 0 {}
            keep_alive = false;
            Body::Bytes {
                start: head_len,
                end: self.buf.len(),
            }
        };
        Ok(Response {
            status,
            keep_alive,
            body,
        })
    }

    /// The body of `response`, the last answer on this connection (chunks joined); `None`
    /// when it had none or its chunks cannot be read.
    pub fn body(&self, response: &Response) -> Option<Cow<'_, [u8]>> {
        match response.body {
            Body::None => None,
            Body::Bytes { start, end } => self.buf.get(start..end).map(Cow::Borrowed),
            Body::Chunked { start } => dechunk(self.buf.get(start..)?).map(Cow::Owned),
        }
    }

    async fn fill(&mut self) -> Result<usize, ExchangeError> {
        let start = self.buf.len();
        self.buf.resize(start + 16 * 1024, 0);
        let n = self
            .stream
            .read(&mut self.buf[start..])
            .await
            .map_err(ExchangeError::Io)?;
        self.buf.truncate(start + n);
        Ok(n)
    }

    /// Skip a chunked body starting at `at`.
    async fn read_chunked(&mut self, mut at: usize) -> Result<(), ExchangeError> {
        loop {
            // The chunk-size line.
            let line_end = loop {
                if let Some(i) = find_crlf(&self.buf[at..]) {
                    break at + i;
                }
                if self.fill().await? == 0 {
                    return Err(ExchangeError::Closed);
                }
            };
            let size_text = std::str::from_utf8(&self.buf[at..line_end])
                .map_err(|_| ExchangeError::Malformed("chunk size".into()))?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| ExchangeError::Malformed(format!("chunk size `{size_text}`")))?;
            at = line_end + 2;
            if size == 0 {
                // Trailers (usually none) end with an empty line.
                loop {
                    if let Some(i) = find_crlf(&self.buf[at..]) {
                        if i == 0 {
                            return Ok(());
                        }
                        at += i + 2;
                        continue;
                    }
                    if self.fill().await? == 0 {
                        return Err(ExchangeError::Closed);
                    }
                }
            }
            while self.buf.len() < at + size + 2 {
                if self.fill().await? == 0 {
                    return Err(ExchangeError::Closed);
                }
            }
            at += size + 2;
        }
    }
}

/// The data of a complete chunked body (trailers ignored).
fn dechunk(mut bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find_crlf(bytes)?;
        let size_text = std::str::from_utf8(&bytes[..line_end]).ok()?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(bytes.get(..size)?);
        bytes = bytes.get(size + 2..)?;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

/// `METHOD path HTTP/1.1` with `Host`, the headers, and the body with its length.
pub fn serialize_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    close: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.map_or(0, <[u8]>::len));
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    if let Some(body) = body {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn serve_once(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for response in responses {
                let _ = socket.read(&mut buf).await;
                // Dribble the response out in small pieces.
                for piece in response.chunks(7) {
                    socket.write_all(piece).await.unwrap();
                    socket.flush().await.unwrap();
                }
            }
        });
        address
    }

    #[tokio::test]
    async fn lengths_chunks_and_close() {
        let address = serve_once(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\nbody to the end",
        ])
        .await;
        let mut conn = Connection::connect(address).await.unwrap();
        let request = serialize_request("GET", "/", "x", &[], None, false);
        let body = |conn: &Connection, r: &Response| conn.body(r).map(|b| b.into_owned());
        let r = conn.exchange(&request, false).await.unwrap();
        assert_eq!((r.status, r.keep_alive), (200, true));
        assert_eq!(body(&conn, &r).as_deref(), Some(&b"hello"[..]));
        let r = conn.exchange(&request, false).await.unwrap();
        assert_eq!((r.status, r.keep_alive), (201, true));
        assert_eq!(body(&conn, &r).as_deref(), Some(&b"abcde"[..]));
        let r = conn.exchange(&request, false).await.unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(body(&conn, &r), None);
        let r = conn.exchange(&request, false).await.unwrap();
        assert_eq!((r.status, r.keep_alive), (500, false));
        assert_eq!(body(&conn, &r).as_deref(), Some(&b"body to the end"[..]));
        assert!(matches!(
            conn.exchange(&request, false).await,
            Err(ExchangeError::Closed | ExchangeError::Io(_))
        ));
    }

    #[test]
    fn chunked_bodies_are_joined_and_broken_ones_refused() {
        assert_eq!(
            dechunk(b"3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: t\r\n\r\n").as_deref(),
            Some(&b"abcde"[..])
        );
        assert_eq!(dechunk(b"0\r\n\r\n").as_deref(), Some(&b""[..]));
        for broken in [&b"zz\r\nabc\r\n0\r\n\r\n"[..], b"9\r\nabc\r\n", b"3\r\nabc"] {
            assert_eq!(dechunk(broken), None, "{broken:?}");
        }
    }

    #[test]
    fn requests_carry_length_and_headers() {
        let bytes = serialize_request(
            "POST",
            "/tasks",
            "127.0.0.1:8080",
            &[("Authorization".into(), "Bearer t".into())],
            Some(b"{}"),
            false,
        );
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "POST /tasks HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}"
        );
    }
}
