//! Caps how many bytes a request head may take. Pingora's parser accepts heads up to 1 MiB and
//! grows its buffer with them; this stream wrapper hands the parser at most the configured
//! number of bytes while a head is being read, then fails the read, which the gateway answers
//! with 431. The buffer therefore never holds more than the cap.
//!
//! It also lets the keep-alive wait peek over TLS, whose stream cannot peek: the first byte of
//! the next request is read ahead and handed back by the next read.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    ALPN, GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl,
    Stream, TimingDigest, UniqueID, UniqueIDType,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// No head is being read: reads are not metered.
const DISARMED: usize = usize::MAX;

/// The handle the gateway keeps to arm and read the meter of a connection's stream.
#[derive(Debug, Clone)]
pub struct HeadMeter(Arc<AtomicUsize>);

impl HeadMeter {
    /// From now on, reads may return at most `limit` bytes in total.
    pub fn arm(&self, limit: usize) {
        self.0.store(limit, Ordering::Relaxed);
    }

    pub fn disarm(&self) {
        self.0.store(DISARMED, Ordering::Relaxed);
    }

    /// The armed budget ran out: the head was larger than allowed.
    pub fn exhausted(&self) -> bool {
        self.0.load(Ordering::Relaxed) == 0
    }
}

/// A connection's stream, metered while a head is read.
#[derive(Debug)]
pub struct MeteredStream {
    inner: Stream,
    budget: Arc<AtomicUsize>,
    /// A byte read ahead by `try_peek`, not yet handed to a reader.
    ahead: Option<u8>,
}

impl MeteredStream {
    pub fn wrap(inner: Stream) -> (Stream, HeadMeter) {
        let budget = Arc::new(AtomicUsize::new(DISARMED));
        let meter = HeadMeter(budget.clone());
        (
            Box::new(Self {
                inner,
                budget,
                ahead: None,
            }),
            meter,
        )
    }
}

impl AsyncRead for MeteredStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let budget = self.budget.load(Ordering::Relaxed);
        if budget == 0 {
            return Poll::Ready(Err(io::Error::other("request head too large")));
        }
        if let Some(byte) = self.ahead
            && buf.remaining() > 0
        {
            self.ahead = None;
            buf.put_slice(&[byte]);
            if budget != DISARMED {
                self.budget.store(budget - 1, Ordering::Relaxed);
            }
            return Poll::Ready(Ok(()));
        }
        if budget == DISARMED {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        // Read into a window of at most `budget` bytes of the caller's buffer.
        let window = buf.remaining().min(budget);
        let mut limited = ReadBuf::new(&mut buf.initialize_unfilled()[..window]);
        let polled = Pin::new(&mut self.inner).poll_read(cx, &mut limited);
        let filled = limited.filled().len();
        if let Poll::Ready(Ok(())) = polled {
            buf.advance(filled);
            self.budget.store(budget - filled, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for MeteredStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for MeteredStream {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }
}

impl UniqueID for MeteredStream {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for MeteredStream {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for MeteredStream {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for MeteredStream {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest)
    }
}

impl GetSocketDigest for MeteredStream {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest)
    }
}

#[async_trait]
impl Peek for MeteredStream {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        if self.ahead.is_none() && !self.inner.try_peek(buf).await? {
            // Cancel-safe: a read that has not completed has consumed nothing.
            let mut one = [0u8; 1];
            if tokio::io::AsyncReadExt::read(&mut self.inner, &mut one).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.ahead = Some(one[0]);
        }
        if let (Some(byte), Some(first)) = (self.ahead, buf.first_mut()) {
            *first = byte;
        }
        Ok(true)
    }
}
