//! One-off HTTP/1.1 exchanges for readiness checks and the sanity request before each load.
//!
//! The load itself always comes from oha; this only needs a status line, headers and the raw
//! bytes after them, so it sends `Connection: close` and reads to the end of the stream.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// What came back: the status, the headers (names lower-cased) and the body bytes as sent
/// (not de-chunked; callers only look for markers in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_contains(&self, needle: &str) -> bool {
        String::from_utf8_lossy(&self.body).contains(needle)
    }
}

/// Sends one request and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Reply> {
    const TIMEOUT: Duration = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(Error::io("connect"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(Error::io("socket option"))?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(Error::io("socket option"))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(Error::io("send request"))?;
    stream.write_all(body).map_err(Error::io("send request"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(Error::io("read answer"))?;
    parse(&raw).ok_or_else(|| Error::Answer {
        what: addr.to_string(),
        detail: "not an HTTP/1.1 response".to_owned(),
    })
}

fn parse(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

/// Polls `ready` every 50 ms until it holds or `timeout` passes; `abort` ends the wait early
/// with its message (e.g. the server process exited).
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
    mut abort: impl FnMut() -> Option<String>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(detail) = abort() {
            return Err(Error::NotReady {
                what: what.to_owned(),
                detail,
            });
        }
        if Instant::now() >= deadline {
            return Err(Error::NotReady {
                what: what.to_owned(),
                detail: format!("no answer within {timeout:?}"),
            });
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

/// A port that was free a moment ago on 127.0.0.1 (servers that cannot take a pre-bound socket
/// need a number; a clash shows up as a readiness failure, never as measuring the wrong server).
pub fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(Error::io("find a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(Error::io("find a free port"))?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_headers_and_body() {
        let reply = parse(
            b"HTTP/1.1 404 Not Found\r\nX-Frontdesk-Version: 0.1.0\r\ncontent-length: 2\r\n\r\nno",
        )
        .unwrap();
        assert_eq!(reply.status, 404);
        assert_eq!(reply.header("x-frontdesk-version"), Some("0.1.0"));
        assert_eq!(reply.body, b"no");
        assert!(parse(b"garbage").is_none());
    }

    #[test]
    fn talks_to_a_real_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let seen = String::from_utf8_lossy(&buf[..n]).into_owned();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\n{\"success\":true}")
                .unwrap();
            seen
        });
        let reply = request(addr, "POST", "/x", &[("x-a".into(), "1".into())], b"{}").unwrap();
        let seen = server.join().unwrap();
        assert!(seen.starts_with("POST /x HTTP/1.1\r\n"), "{seen}");
        assert!(seen.contains("x-a: 1\r\n"));
        assert_eq!(reply.status, 200);
        assert!(reply.body_contains("\"success\":true"));
    }
}
