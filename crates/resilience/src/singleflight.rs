//! Single-flight: concurrent requests for one key share one execution.
//!
//! The first task to ask for a key becomes its leader and gets a [`Lead`]; every later task
//! gets a [`Follow`] and waits for the leader's result. A leader that is dropped without
//! finishing (its caller hung up) removes its entry and closes the channel, and its followers
//! retry instead of inheriting an error nobody produced. The slot cache shares Cal.com fetches
//! this way, the booking engine the execution of one idempotent request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;

type Channel<V> = watch::Receiver<Option<V>>;

/// In-flight executions by key.
#[derive(Debug)]
pub struct SingleFlight<V> {
    inflight: Arc<Mutex<HashMap<String, Channel<V>>>>,
    waiting: Arc<AtomicUsize>,
}

impl<V> Default for SingleFlight<V> {
    fn default() -> Self {
        Self {
            inflight: Arc::default(),
            waiting: Arc::default(),
        }
    }
}

impl<V> Clone for SingleFlight<V> {
    fn clone(&self) -> Self {
        Self {
            inflight: Arc::clone(&self.inflight),
            waiting: Arc::clone(&self.waiting),
        }
    }
}

/// This task executes the key; the others wait for [`Lead::finish`].
#[derive(Debug)]
pub struct Lead<V> {
    flights: SingleFlight<V>,
    key: String,
    sender: Option<watch::Sender<Option<V>>>,
}

/// Another task is executing the key.
#[derive(Debug)]
pub struct Follow<V> {
    receiver: Channel<V>,
    waiting: Arc<AtomicUsize>,
}

#[derive(Debug)]
pub enum Role<V> {
    Lead(Lead<V>),
    Follow(Follow<V>),
}

impl<V: Clone> SingleFlight<V> {
    pub fn join(&self, key: &str) -> Role<V> {
        let mut map = self.inflight.lock();
        if let Some(receiver) = map.get(key) {
            return Role::Follow(Follow {
                receiver: receiver.clone(),
                waiting: Arc::clone(&self.waiting),
            });
        }
        let (sender, receiver) = watch::channel(None);
        map.insert(key.to_owned(), receiver);
        Role::Lead(Lead {
            flights: self.clone(),
            key: key.to_owned(),
            sender: Some(sender),
        })
    }

    /// Runs `execute` for `key` unless another task already is, and returns its result to
    /// every task that asked meanwhile. A leader abandoned mid-way hands the key on.
    pub async fn run<F, Fut>(&self, key: &str, execute: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let lead = loop {
            match self.join(key) {
                Role::Lead(lead) => break lead,
                Role::Follow(follow) => {
                    if let Some(value) = follow.wait().await {
                        return value;
                    }
                }
            }
        };
        let value = execute().await;
        lead.finish(value.clone());
        value
    }

    /// Whether `key` is being executed (background refreshes skip keys that are).
    pub fn is_inflight(&self, key: &str) -> bool {
        self.inflight.lock().contains_key(key)
    }

    /// Followers currently waiting for a leader (diagnostics and tests).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

impl<V> Lead<V> {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Publishes the result to every follower and ends the flight.
    pub fn finish(mut self, result: V) {
        self.flights.inflight.lock().remove(&self.key);
        if let Some(sender) = self.sender.take() {
            // No followers is fine: nobody else asked.
            let _ = sender.send(Some(result));
        }
    }
}

impl<V> Drop for Lead<V> {
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.flights.inflight.lock().remove(&self.key);
        }
    }
}

impl<V: Clone> Follow<V> {
    /// The leader's result; `None` when the leader was abandoned (retry the key).
    pub async fn wait(mut self) -> Option<V> {
        let _waiting = WaitingGuard::enter(&self.waiting);
        match self.receiver.wait_for(Option::is_some).await {
            Ok(value) => value.clone(),
            Err(_) => None,
        }
    }
}

/// Counts a waiting follower for as long as it waits (also when its future is dropped).
struct WaitingGuard<'a>(&'a AtomicUsize);

impl<'a> WaitingGuard<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Self(counter)
    }
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_get_the_leaders_result() {
        let flights = SingleFlight::<u32>::default();
        let Role::Lead(lead) = flights.join("k") else {
            panic!("first join leads")
        };
        let Role::Follow(follow) = flights.join("k") else {
            panic!("second join follows")
        };
        lead.finish(7);
        assert_eq!(follow.wait().await, Some(7));
        assert!(!flights.is_inflight("k"));
    }

    #[tokio::test]
    async fn abandoned_leader_releases_followers() {
        let flights = SingleFlight::<u32>::default();
        let lead = flights.join("k");
        let Role::Follow(follow) = flights.join("k") else {
            panic!("second join follows")
        };
        drop(lead);
        assert!(follow.wait().await.is_none());
        assert!(matches!(flights.join("k"), Role::Lead(_)));
    }

    #[tokio::test]
    async fn concurrent_runs_of_one_key_execute_once() {
        let flights = SingleFlight::<u32>::default();
        let executions = AtomicUsize::new(0);
        let (release, gate) = tokio::sync::oneshot::channel::<()>();
        let gate = tokio::sync::Mutex::new(Some(gate));
        let execute = || async {
            executions.fetch_add(1, Ordering::AcqRel);
            if let Some(gate) = gate.lock().await.take() {
                let _ = gate.await;
            }
            42
        };
        let leader = flights.run("k", execute);
        let follower = async {
            // The follower joins while the leader is parked on the gate.
            while !flights.is_inflight("k") {
                tokio::task::yield_now().await;
            }
            flights.run("k", execute).await
        };
        let opener = async {
            while flights.waiting() == 0 {
                tokio::task::yield_now().await;
            }
            let _ = release.send(());
        };
        let (a, b, ()) = tokio::join!(leader, follower, opener);
        assert_eq!((a, b), (42, 42));
        assert_eq!(executions.load(Ordering::Acquire), 1);
    }
}
