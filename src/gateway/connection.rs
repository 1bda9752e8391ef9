//! One traffic connection, from accept to close: its slot under the connection caps, the wait
//! for each next request (the keep-alive idle timeout), the deadline of each request head, and
//! the cap on requests per connection. Each request itself is served by [`Gateway`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora::apps::{HttpPersistentSettings, ServerApp};
use pingora::protocols::http::ServerSession as Session;
use pingora::protocols::{ALPN, Stream};
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::admission::Admission;
use super::bounds::HeadRead;
use super::head_meter::MeteredStream;
use super::metrics::Phase;
use super::proxy::{Gateway, Served};
use super::tls::Tls;

/// The traffic listener's application: connections in, requests to the gateway.
pub struct Frontdoor {
    pub gateway: Arc<Gateway>,
    pub admission: Arc<Admission>,
    /// Set when the listener serves TLS.
    pub tls: Option<Tls>,
}

#[async_trait]
impl ServerApp for Frontdoor {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let peer = stream
            .get_socket_digest()
            .and_then(|d| d.peer_addr().and_then(|a| a.as_inet()).copied());
        let _slot = self.admission.adopt(peer);
        let stream = match &self.tls {
            Some(tls) => {
                tls.accept(stream, self.gateway.bounds.header_timeout)
                    .await?
            }
            None => stream,
        };
        if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            // HTTP/2 multiplexes its own streams; Pingora's loop serves them.
            return ServerApp::process_new(&self.gateway, stream, shutdown).await;
        }
        self.serve_http1(stream, shutdown).await;
        None
    }

    async fn cleanup(&self) {
        ServerApp::cleanup(&*self.gateway).await;
    }
}

impl Frontdoor {
    async fn serve_http1(&self, stream: Stream, shutdown: &ShutdownWatch) {
        let bounds = &self.gateway.bounds;
        let (mut stream, meter) = MeteredStream::wrap(stream);
        let mut settings: Option<HttpPersistentSettings> = None;
        // The first head is due `header_timeout` after accept, idle time included.
        let mut deadline = Instant::now() + bounds.header_timeout;
        loop {
            let mut session = Session::new_http1(stream);
            match settings.take() {
                Some(settings) => settings.apply_to_session(&mut session),
                None => {
                    session.set_keepalive(Some(bounds.keepalive_timeout.as_secs().max(1)));
                    // Reuses after this request, so `max_requests` in all.
                    session.set_keepalive_reuses_remaining(Some(bounds.max_requests - 1));
                }
            }
            let head = HeadRead {
                deadline,
                meter: Some(&meter),
            };
            let (reusable, next) = match self.gateway.serve_request(session, shutdown, head).await {
                Served::Reusable(reusable, next) => (reusable, next),
                Served::Refused(stream) => return linger(stream).await,
                Served::Close => return,
            };
            let (next_stream, pipelined) = reusable.into_parts();
            stream = next_stream;
            settings = Some(next);
            match pipelined {
                Some(prefix) => {
                    // The next request is already here (pipelined): its head is due now.
                    if let Some(settings) = settings.as_mut() {
                        settings.set_pipelined_prefix(prefix);
                    }
                }
                None => {
                    if !self.until_next_request(&mut stream).await {
                        return;
                    }
                }
            }
            deadline = Instant::now() + bounds.header_timeout;
        }
    }

    /// Waits, up to the keep-alive timeout, for the first byte of the next request; `false`
    /// when the connection is to close (timeout, the client closed, or the service stops).
    async fn until_next_request(&self, stream: &mut Stream) -> bool {
        let mut first = [0u8; 1];
        let idle = pingora::prelude::timeout(
            self.gateway.bounds.keepalive_timeout,
            stream.try_peek(&mut first),
        );
        tokio::select! {
            biased;
            peeked = idle => match peeked {
                Ok(Ok(_)) => true,
                // The client closed, or the read failed: nothing more to serve.
                Ok(Err(_)) => false,
                Err(_) => {
                    Phase::Idle.count();
                    false
                }
            },
            () = self.gateway.until_stopping() => false,
        }
    }
}

/// Longest a refused connection is kept to drain what the client still sends.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes read and dropped while lingering.
const LINGER_BYTES: usize = 256 * 1024;

/// Closes a connection whose refusal went out while the client may still be sending: the write
/// side is closed first and the client's remaining bytes are read and dropped for a bounded
/// time. Closing with unread bytes makes the kernel send a reset, which can destroy the refusal
/// before the client reads it (what nginx's `lingering_close` avoids).
async fn linger(mut stream: Stream) {
    if stream.flush().await.is_err() {
        return;
    }
    if AsyncWriteExt::shutdown(&mut stream).await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 2048];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = pingora::prelude::timeout(LINGER_TIME, drain).await;
}
