//! Idle upstream connections, kept here rather than in Pingora's connector pool. Pingora spawns
//! a watch task for every returned connection and hands it back through that task (a oneshot, a
//! mutex, a wake-up of the task and a `getpeername`), which showed in every profile of a forwarded
//! request (docs/benchmarks.md).
//! Here a returned connection goes onto a stack, and taking one checks with at most one `read`
//! that the upstream has not closed it. A periodic sweep closes connections idle past their
//! timeout or closed by the upstream meanwhile.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use pingora::protocols::Stream;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use tokio::io::AsyncReadExt;

/// Idle connections kept per upstream; the oldest is closed to make room for a newer one.
pub const MAX_IDLE: usize = 128;

/// The idle connections to one upstream, warmest on top.
pub struct IdlePool {
    idle: Mutex<VecDeque<Idle>>,
    timeout: Duration,
    capacity: usize,
}

struct Idle {
    stream: Stream,
    since: Instant,
}

impl IdlePool {
    pub fn new(timeout: Duration, capacity: usize) -> Self {
        Self {
            idle: Mutex::new(VecDeque::new()),
            timeout,
            capacity,
        }
    }

    /// The most recently returned connection that is still usable, if any. Stale ones met on
    /// the way are closed.
    pub fn take(&self) -> Option<Stream> {
        loop {
            let mut idle = self.lock().pop_back()?;
            if idle.since.elapsed() < self.timeout && still_open(&mut idle.stream) {
                return Some(idle.stream);
            }
        }
    }

    /// Keeps a connection whose exchange ended cleanly for the next request.
    pub fn put(&self, stream: Stream) {
        let evicted = {
            let mut idle = self.lock();
            let evicted = (idle.len() >= self.capacity)
                .then(|| idle.pop_front())
                .flatten();
            idle.push_back(Idle {
                stream,
                since: Instant::now(),
            });
            evicted
        };
        // Closed outside the lock.
        drop(evicted);
    }

    /// Closes connections idle past the timeout or closed by the upstream. Holds the lock
    /// throughout: once a second, for at most `capacity` checks.
    pub fn sweep(&self) {
        self.lock()
            .retain_mut(|idle| idle.since.elapsed() < self.timeout && still_open(&mut idle.stream));
    }

    /// How many connections are idle now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        // A panic while holding the lock leaves a valid deque: keep using it.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An idle HTTP/1 connection is usable only while there is nothing to read on it: end of stream
/// or an error means the upstream closed it, and bytes would be an answer to no request. Costs
/// at most one `read`, and none when tokio already knows the socket has nothing to read.
fn still_open(stream: &mut Stream) -> bool {
    let mut byte = [0u8; 1];
    // `unconstrained`: tokio's cooperative budget must not turn a ready read into `Pending`.
    let read = std::pin::pin!(tokio::task::unconstrained(stream.read(&mut byte)));
    read.poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

/// Closes idle upstream connections past their timeout or closed by the upstream, so that a
/// quiet gateway does not hold them open.
pub struct IdleSweep(pub Vec<Arc<IdlePool>>);

#[async_trait::async_trait]
impl BackgroundService for IdleSweep {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => self.0.iter().for_each(|pool| pool.sweep()),
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A connected pair: ours as the pool holds it, and the upstream's end. Like a connection
    /// after an exchange, ours has read what the upstream last sent.
    async fn connection(listener: &TcpListener) -> (Stream, TcpStream) {
        let ours = TcpStream::connect(listener.local_addr().unwrap());
        let (ours, accepted) = tokio::join!(ours, listener.accept());
        let (mut ours, mut theirs): (Stream, _) = (
            Box::new(pingora::protocols::l4::stream::Stream::from(ours.unwrap())),
            accepted.unwrap().0,
        );
        theirs.write_all(b"answer").await.unwrap();
        let mut answer = [0u8; 6];
        ours.read_exact(&mut answer).await.unwrap();
        (ours, theirs)
    }

    /// Which connection the pool hands out next, by its file descriptor.
    fn next_taken(pool: &IdlePool) -> Option<i32> {
        pool.take().map(|s| s.id())
    }

    async fn listener() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").await.unwrap()
    }

    /// The upstream's end sees our side close (end of stream) rather than more data.
    async fn was_closed(theirs: &mut TcpStream) -> bool {
        let mut byte = [0u8; 1];
        matches!(theirs.read(&mut byte).await, Ok(0) | Err(_))
    }

    #[tokio::test]
    async fn the_most_recently_returned_connection_is_taken_first() {
        let listener = listener().await;
        let pool = IdlePool::new(Duration::from_secs(60), 8);
        let (a, _a) = connection(&listener).await;
        let (b, _b) = connection(&listener).await;
        let (a_id, b_id) = (a.id(), b.id());
        pool.put(a);
        pool.put(b);
        assert_eq!(next_taken(&pool), Some(b_id));
        assert_eq!(next_taken(&pool), Some(a_id));
        assert!(pool.take().is_none());
    }

    #[tokio::test]
    async fn a_full_pool_closes_its_oldest_connection() {
        let listener = listener().await;
        let pool = IdlePool::new(Duration::from_secs(60), 2);
        let (a, mut a_theirs) = connection(&listener).await;
        let (b, _b) = connection(&listener).await;
        let (c, _c) = connection(&listener).await;
        let (b_id, c_id) = (b.id(), c.id());
        pool.put(a);
        pool.put(b);
        pool.put(c);
        assert_eq!(pool.len(), 2);
        assert!(was_closed(&mut a_theirs).await);
        assert_eq!(next_taken(&pool), Some(c_id));
        assert_eq!(next_taken(&pool), Some(b_id));
    }

    #[tokio::test]
    async fn connections_the_upstream_closed_or_wrote_on_are_not_taken() {
        let listener = listener().await;
        let pool = IdlePool::new(Duration::from_secs(60), 8);
        let (open, _open) = connection(&listener).await;
        let (closed, closed_theirs) = connection(&listener).await;
        let (chatty, mut chatty_theirs) = connection(&listener).await;
        let open_id = open.id();
        pool.put(open);
        pool.put(closed);
        pool.put(chatty);
        drop(closed_theirs);
        chatty_theirs.write_all(b"unasked").await.unwrap();
        assert_eq!(next_taken(&pool), Some(open_id));
        assert!(pool.take().is_none());
    }

    #[tokio::test]
    async fn the_sweep_closes_expired_and_dead_connections() {
        let listener = listener().await;
        let pool = IdlePool::new(Duration::from_secs(60), 8);
        let (open, _open) = connection(&listener).await;
        let (dead, dead_theirs) = connection(&listener).await;
        let open_id = open.id();
        pool.put(open);
        pool.put(dead);
        drop(dead_theirs);
        pool.sweep();
        assert_eq!(pool.len(), 1);
        assert_eq!(next_taken(&pool), Some(open_id));

        let expiring = IdlePool::new(Duration::ZERO, 8);
        let (stale, mut stale_theirs) = connection(&listener).await;
        expiring.put(stale);
        expiring.sweep();
        assert_eq!(expiring.len(), 0);
        assert!(was_closed(&mut stale_theirs).await);
    }
}
