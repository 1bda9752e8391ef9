//! Bounds the number of open traffic connections, in total and per client address. Checked in
//! Pingora's accept loop (its connection filter), before a task or buffer exists for the
//! connection: an excess connection is closed at once.
//!
//! The filter reserves a slot; the connection's task adopts it ([`Admission::adopt`]) and frees
//! it when the connection ends. Pingora's listener is always plain TCP (its handshake a no-op), so
//! every accepted connection reaches its task and reservations and adoptions pair up exactly;
//! TLS is negotiated inside the task, after the adoption (`gateway::tls`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use parking_lot::Mutex;
use pingora::listeners::ConnectionFilter;

use super::metrics::{CONNECTIONS_OPEN, Refused};

#[derive(Debug)]
pub struct Admission {
    max_total: usize,
    max_per_client: usize,
    open: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

impl Admission {
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_client,
            open: AtomicUsize::new(0),
            per_client: Mutex::new(HashMap::new()),
        })
    }

    /// Reserves a slot for a connection from `ip`, or says why there is none.
    fn reserve(&self, ip: IpAddr) -> Result<(), Refused> {
        let reserved = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_total).then_some(n + 1)
            });
        if reserved.is_err() {
            return Err(Refused::MaxConnections);
        }
        let mut per_client = self.per_client.lock();
        let count = per_client.entry(ip).or_insert(0);
        if *count >= self.max_per_client {
            drop(per_client);
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(Refused::PerClient);
        }
        *count += 1;
        CONNECTIONS_OPEN.inc();
        Ok(())
    }

    fn release(&self, ip: IpAddr) {
        let mut per_client = self.per_client.lock();
        if let Some(count) = per_client.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                // Emptied entries go, so the map is as large as the set of connected clients.
                per_client.remove(&ip);
            }
        }
        drop(per_client);
        self.open.fetch_sub(1, Ordering::AcqRel);
        CONNECTIONS_OPEN.dec();
    }

    /// Takes over the slot the filter reserved for the connection from `peer`; it is freed when
    /// the returned guard drops. `None` for peers without an IP address (the filter counted none).
    pub fn adopt(self: &Arc<Self>, peer: Option<SocketAddr>) -> Option<Admitted> {
        peer.map(|peer| Admitted {
            admission: self.clone(),
            ip: peer.ip(),
        })
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// One open connection's slot.
#[derive(Debug)]
pub struct Admitted {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admission.release(self.ip);
    }
}

/// The filter Pingora's accept loop asks about each new connection.
#[derive(Debug, Clone)]
pub struct AdmissionFilter(pub Arc<Admission>);

#[async_trait]
impl ConnectionFilter for AdmissionFilter {
    async fn should_accept(&self, addr: Option<&SocketAddr>) -> bool {
        let Some(addr) = addr else {
            return true;
        };
        match self.0.reserve(addr.ip()) {
            Ok(()) => true,
            Err(reason) => {
                reason.count();
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, last], port))
    }

    #[test]
    fn caps_per_client_and_in_total_and_frees_slots_on_drop() {
        let admission = Admission::new(3, 2);
        assert!(admission.reserve(addr(1, 1).ip()).is_ok());
        assert!(admission.reserve(addr(1, 2).ip()).is_ok());
        assert_eq!(admission.reserve(addr(1, 3).ip()), Err(Refused::PerClient));
        assert!(admission.reserve(addr(2, 1).ip()).is_ok());
        assert_eq!(
            admission.reserve(addr(3, 1).ip()),
            Err(Refused::MaxConnections)
        );
        assert_eq!(admission.open(), 3);

        drop(admission.adopt(Some(addr(1, 1))));
        assert_eq!(admission.open(), 2);
        assert!(admission.reserve(addr(3, 1).ip()).is_ok());
        assert_eq!(admission.per_client.lock().len(), 3);
        for peer in [addr(1, 2), addr(2, 1), addr(3, 1)] {
            drop(admission.adopt(Some(peer)));
        }
        assert_eq!(admission.open(), 0);
        assert!(admission.per_client.lock().is_empty());
    }
}
