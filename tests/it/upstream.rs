//! A small upstream for forwarding tests: records exactly what it received, answers with a
//! status set by the test, and can hold requests until the test releases them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    received: Mutex<Vec<Received>>,
    status: AtomicU16,
    /// `false` holds requests (after recording them) until set back to `true`.
    gate: watch::Sender<bool>,
    held: AtomicUsize,
    connections: AtomicUsize,
    closed: AtomicUsize,
}

pub struct Upstream {
    pub addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Upstream {
    pub fn start() -> Self {
        let (gate, _) = watch::channel(true);
        let state = Arc::new(State {
            received: Mutex::new(Vec::new()),
            status: AtomicU16::new(200),
            gate,
            held: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = thread_state.clone();
                            state.connections.fetch_add(1, Ordering::SeqCst);
                            tokio::spawn(async move {
                                let service = {
                                    let state = state.clone();
                                    service_fn(move |req| handle(state.clone(), req))
                                };
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                                state.closed.fetch_add(1, Ordering::SeqCst);
                            });
                        }
                    }
                }
            });
        });
        Self {
            addr,
            state,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }

    pub fn set_status(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    /// Requests arriving from now on wait until [`Upstream::release`].
    pub fn hold(&self) {
        self.state.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.state.gate.send_replace(true);
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// TCP connections closed so far (by either side).
    pub fn closed(&self) -> usize {
        self.state.closed.load(Ordering::SeqCst)
    }

    /// Requests currently held.
    pub fn held(&self) -> usize {
        self.state.held.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.release();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let len = body.len();
    state.received.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    let mut gate = state.gate.subscribe();
    if !*gate.borrow() {
        state.held.fetch_add(1, Ordering::SeqCst);
        let _ = gate.wait_for(|open| *open).await;
        state.held.fetch_sub(1, Ordering::SeqCst);
    }
    let status = state.status.load(Ordering::SeqCst);
    let answer = format!("{{\"received_bytes\":{len}}}");
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-upstream", "test")
        .body(Full::new(Bytes::from(answer)))
        .unwrap())
}
