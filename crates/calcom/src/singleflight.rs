//! Single-flight for cache fills: concurrent misses of one key share one upstream request.
//!
//! The first task to miss a key becomes its leader and gets a [`Lead`]; every later task gets a
//! [`Follow`] and waits for the leader's result. A leader that is dropped without finishing
//! (its caller hung up) removes its entry and closes the channel, and its followers retry
//! instead of inheriting an error nobody produced.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use frontdesk_booking::CalendarError;
use jiff::Timestamp;
use parking_lot::Mutex;
use tokio::sync::watch;

/// What a fill produces: the day's slot starts, or why there are none.
pub type DayResult = Result<Arc<Vec<Timestamp>>, CalendarError>;

type Channel = watch::Receiver<Option<DayResult>>;

/// In-flight fills by rendered store key.
#[derive(Debug, Default, Clone)]
pub struct SingleFlight {
    inflight: Arc<Mutex<HashMap<String, Channel>>>,
    waiting: Arc<AtomicUsize>,
}

/// This task fetches the key; the others wait for [`Lead::finish`].
#[derive(Debug)]
pub struct Lead {
    flights: SingleFlight,
    key: String,
    sender: Option<watch::Sender<Option<DayResult>>>,
}

/// Another task is fetching the key.
#[derive(Debug)]
pub struct Follow {
    receiver: Channel,
    waiting: Arc<AtomicUsize>,
}

#[derive(Debug)]
pub enum Role {
    Lead(Lead),
    Follow(Follow),
}

impl SingleFlight {
    pub fn join(&self, key: &str) -> Role {
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

    /// Whether a fill of `key` is running (background refreshes skip keys that are).
    pub fn is_inflight(&self, key: &str) -> bool {
        self.inflight.lock().contains_key(key)
    }

    /// Followers currently waiting for a leader (diagnostics and tests).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

impl Lead {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Publishes the result to every follower and ends the flight.
    pub fn finish(mut self, result: DayResult) {
        self.flights.inflight.lock().remove(&self.key);
        if let Some(sender) = self.sender.take() {
            // No followers is fine: nobody else asked.
            let _ = sender.send(Some(result));
        }
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.flights.inflight.lock().remove(&self.key);
        }
    }
}

impl Follow {
    /// The leader's result; `None` when the leader was abandoned (retry the key).
    pub async fn wait(mut self) -> Option<DayResult> {
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
        let flights = SingleFlight::default();
        let Role::Lead(lead) = flights.join("k") else {
            panic!("first join leads")
        };
        let Role::Follow(follow) = flights.join("k") else {
            panic!("second join follows")
        };
        lead.finish(Ok(Arc::new(vec![Timestamp::UNIX_EPOCH])));
        let got = follow.wait().await.expect("result").expect("ok");
        assert_eq!(got.as_slice(), &[Timestamp::UNIX_EPOCH]);
        assert!(!flights.is_inflight("k"));
    }

    #[tokio::test]
    async fn abandoned_leader_releases_followers() {
        let flights = SingleFlight::default();
        let lead = flights.join("k");
        let Role::Follow(follow) = flights.join("k") else {
            panic!("second join follows")
        };
        drop(lead);
        assert!(follow.wait().await.is_none());
        assert!(matches!(flights.join("k"), Role::Lead(_)));
    }
}
