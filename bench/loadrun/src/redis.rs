//! Just enough RESP to check, around scenario 4, that Redis is reachable and how many commands
//! it processed meanwhile (a fallback to local limits would otherwise go unnoticed and be
//! measured as "Redis").

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::{Error, Result};

/// `host:port` of a `redis://[user:pass@]host:port[/db]` URL.
pub fn host_port(url: &str) -> Option<String> {
    let rest = url.strip_prefix("redis://")?;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = rest.split('/').next()?;
    if hostport.is_empty() {
        return None;
    }
    Some(if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:6379")
    })
}

/// `true` when the URL carries credentials (the checks here do not authenticate).
pub fn has_credentials(url: &str) -> bool {
    url.strip_prefix("redis://")
        .is_some_and(|r| r.split('/').next().is_some_and(|h| h.contains('@')))
}

/// Sends one command; returns a simple reply's line, or a bulk reply's contents.
fn command(url: &str, args: &[&str]) -> Result<String> {
    let addr = host_port(url)
        .and_then(|hp| hp.to_socket_addrs().ok()?.next())
        .ok_or_else(|| Error::Answer {
            what: "redis".to_owned(),
            detail: "unusable REDIS_URL".to_owned(),
        })?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(Error::io("connect to redis"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(Error::io("redis socket"))?;
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream
        .write_all(request.as_bytes())
        .map_err(Error::io("redis request"))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(Error::io("redis reply"))?;
    let line = line.trim_end();
    match line.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
        Some(len) => {
            let mut bulk = vec![0u8; len + 2];
            reader
                .read_exact(&mut bulk)
                .map_err(Error::io("redis reply"))?;
            bulk.truncate(len);
            Ok(String::from_utf8_lossy(&bulk).into_owned())
        }
        None => Ok(line.to_owned()),
    }
}

/// `PING` answered `+PONG`.
pub fn reachable(url: &str) -> bool {
    command(url, &["PING"]).is_ok_and(|r| r == "+PONG")
}

/// `total_commands_processed` from `INFO stats`: the difference across a scenario shows the
/// limiter really went to Redis (its keys, at bench rates, expire too fast to be seen).
pub fn commands_processed(url: &str) -> Result<u64> {
    let info = command(url, &["INFO", "stats"])?;
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::Answer {
            what: "redis".to_owned(),
            detail: "INFO stats without total_commands_processed".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_and_port_from_urls() {
        assert_eq!(
            host_port("redis://127.0.0.1:6379").as_deref(),
            Some("127.0.0.1:6379")
        );
        assert_eq!(
            host_port("redis://localhost/2").as_deref(),
            Some("localhost:6379")
        );
        assert_eq!(
            host_port("redis://:pw@10.0.0.1:7000/0").as_deref(),
            Some("10.0.0.1:7000")
        );
        assert_eq!(host_port("http://x"), None);
        assert!(has_credentials("redis://:pw@h:1"));
        assert!(!has_credentials("redis://h:1/0"));
    }

    #[test]
    fn talks_to_the_test_redis() {
        let url = std::env::var("REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
        assert!(reachable(&url), "a Redis is expected at {url}");
        let key = format!("loadrun-test:{}:a", std::process::id());
        let before = commands_processed(&url).unwrap();
        assert_eq!(
            command(&url, &["SET", &key, "1", "EX", "10"]).unwrap(),
            "+OK"
        );
        assert_eq!(command(&url, &["GET", &key]).unwrap(), "1");
        assert_eq!(command(&url, &["DEL", &key]).unwrap(), ":1");
        // The SET, GET and DEL above at least (other clients may add more).
        assert!(commands_processed(&url).unwrap() >= before + 3);
    }
}
