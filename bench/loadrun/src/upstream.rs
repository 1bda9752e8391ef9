//! The static upstream every system forwards to (and the "direct" floor is measured against):
//! a minimal hyper HTTP/1.1 server that reads the whole request body and answers
//! `200 {"ok":true}` with keep-alive, on its own small tokio runtime inside this process.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::runtime::Runtime;

use crate::error::{Error, Result};

const ANSWER: &[u8] = br#"{"ok":true}"#;

/// A running upstream; stops (its runtime shuts down) when dropped.
pub struct Upstream {
    pub addr: SocketAddr,
    runtime: Option<Runtime>,
}

impl Upstream {
    /// Binds 127.0.0.1 on an ephemeral port and serves with `threads` runtime workers.
    pub fn start(threads: usize) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("upstream")
            .enable_io()
            .build()
            .map_err(Error::io("upstream runtime"))?;
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(Error::io("bind the upstream"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(Error::io("bind the upstream"))?;
        let addr = std_listener
            .local_addr()
            .map_err(Error::io("bind the upstream"))?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)
                .map_err(Error::io("bind the upstream"))?
        };
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    // A client that hangs up mid-request is not an upstream failure worth reporting.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), hyper::service::service_fn(answer))
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            runtime: Some(runtime),
        })
    }
}

async fn answer(
    request: Request<Incoming>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as a real backend would, before answering.
    let _ = request.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(ANSWER)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_every_request_with_ok_after_reading_the_body() {
        let upstream = Upstream::start(1).unwrap();
        let body = vec![b'x'; 300 * 1024];
        let reply = crate::probe::request(upstream.addr, "POST", "/anything", &[], &body).unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(reply.body_contains(r#"{"ok":true}"#));
    }
}
