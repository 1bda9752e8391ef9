//! TLS on the traffic listener: TLS 1.2 and 1.3, HTTP/2 or HTTP/1.1 by ALPN, the certificate
//! from [`ReloadingCert`]. The handshake runs in the connection's own task, after its slot under
//! the connection caps is adopted: a handshake that fails or stalls frees the slot like any
//! closed connection, and is bounded by `header_timeout` rather than Pingora's fixed 60 s.

use std::sync::Arc;
use std::time::Duration;

use pingora::protocols::Stream;
use pingora::protocols::l4::stream::Stream as TcpStream;
use pingora_core::listeners::tls::Acceptor;

use crate::tls::ReloadingCert;

pub struct Tls {
    acceptor: Acceptor,
}

impl Tls {
    pub fn new(cert: Arc<ReloadingCert>) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("ring supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(cert);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self {
            acceptor: Acceptor::from_server_config(Arc::new(config)),
        }
    }

    /// The decrypted stream, or `None` when the handshake failed or took longer than `limit`.
    pub async fn accept(&self, stream: Stream, limit: Duration) -> Option<Stream> {
        // The plain listener hands over TCP streams; anything else is not ours to wrap.
        let tcp = stream.into_any().downcast::<TcpStream>().ok()?;
        match pingora::prelude::timeout(limit, self.acceptor.tls_handshake(*tcp)).await {
            Ok(Ok(tls)) => Some(Box::new(tls)),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                // The handshake is the start of the first request head, and counted as its.
                super::metrics::Phase::Header.count();
                None
            }
        }
    }
}
