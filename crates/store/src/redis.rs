//! The Redis backend: state shared by every replica.
//!
//! One multiplexed connection ([`ConnectionManager`]) per thread that uses the store, created
//! lazily and re-established in the background, so startup never waits for Redis and a restarted
//! Redis is picked up without restarting the proxy. Every operation is bounded by the configured
//! timeout. Rate limits run as one Lua script (`gcra.lua`, sent by EVALSHA and loaded on demand)
//! that reads the server's `TIME`, so replicas with skewed clocks still agree.
//!
//! Key layout under the configured prefix `P`: values at `P kv:<key>`, limiter state at
//! `P rl:<key>`, group generations at `P gen:<group>` (no spaces; three namespaces that can never
//! collide).

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, Script};
use thread_local::ThreadLocal;

use crate::gcra::Params;
use crate::redact::redact_url;
use crate::{Decision, GcraCheck, Rate, Store, StoreError, gcra_in_turn};

static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("gcra.lua")));

/// Where and how to reach Redis.
#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port/db` (or `rediss://`, `redis+unix://`). Never logged.
    pub url: String,
    /// Prepended to every key, so several deployments can share one Redis.
    pub prefix: String,
    /// Upper bound on each operation, connection wait included.
    pub timeout: Duration,
    /// Upper bound on each connection attempt.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// The URL could not be used. Carries no part of the URL: it may hold a password.
#[derive(Debug, thiserror::Error)]
#[error("invalid Redis URL")]
pub struct InvalidRedisUrl;

/// [`Store`] on Redis. Clones share connections.
#[derive(Clone)]
pub struct RedisStore {
    connections: Arc<Connections>,
    prefix: String,
    timeout: Duration,
    target: String,
}

/// A connection per thread, made on that thread's first use, so that its driver task runs on the
/// runtime of the requests using it. With one connection made on the background runtime, every
/// limiter decision of a proxied request cost wake-ups of that runtime's thread on the way out
/// and back (docs/benchmarks.md, scenario 4).
struct Connections {
    client: Client,
    config: ConnectionManagerConfig,
    per_thread: ThreadLocal<ConnectionManager>,
}

impl Connections {
    fn current(&self) -> Result<ConnectionManager, RedisError> {
        self.per_thread
            .get_or_try(|| {
                let conn = ConnectionManager::new_lazy_with_config(
                    self.client.clone(),
                    self.config.clone(),
                )?;
                connect_in_background(&conn);
                Ok(conn)
            })
            .cloned()
    }
}

/// Drives a new connection's first attempt to its end on its own task. Otherwise it would only
/// progress while some operation waits on it, each for at most the operation timeout, and a
/// Redis slower to reach than that would never be reached.
fn connect_in_background(conn: &ConnectionManager) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let mut conn = conn.clone();
    runtime.spawn(async move {
        let _: Result<(), RedisError> = redis::cmd("PING").query_async(&mut conn).await;
    });
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Creates the store without waiting for Redis: each thread's connection is made in the
    /// background on its first use and re-made whenever it drops.
    pub fn new(settings: &RedisSettings) -> Result<Self, InvalidRedisUrl> {
        let client = Client::open(settings.url.as_str()).map_err(|_| InvalidRedisUrl)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            // Few, short retries per reconnect round: when a round gives up, the next failing
            // operation starts a fresh one, so a returning Redis is found within about a second.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let connections = Connections {
            client,
            config,
            per_thread: ThreadLocal::new(),
        };
        let store = Self {
            connections: Arc::new(connections),
            prefix: settings.prefix.clone(),
            timeout: settings.timeout,
            target: redact_url(&settings.url),
        };
        Ok(store)
    }

    /// The Redis address with credentials removed, for health output and logs.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn key(&self, namespace: &str, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + namespace.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(namespace);
        full.push_str(key);
        full
    }

    /// Runs one Redis call under the operation timeout, mapping failures to [`StoreError`].
    async fn run<T, F, Fut>(&self, call: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let conn = self
            .connections
            .current()
            .map_err(|e| StoreError::Unavailable(classify(&e).to_owned()))?;
        match tokio::time::timeout(self.timeout, call(conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(StoreError::Unavailable(classify(&err).to_owned())),
            Err(_elapsed) => Err(StoreError::Timeout(self.timeout)),
        }
    }
}

/// A short, fixed description of a Redis failure. Deliberately not the error's own text, which
/// can quote server replies or addresses.
fn classify(err: &RedisError) -> &'static str {
    if err.is_connection_refusal() {
        "redis connection refused"
    } else if err.is_timeout() {
        "redis timed out"
    } else if err.is_connection_dropped() {
        "redis connection lost"
    } else if err.is_io_error() {
        "redis i/o error"
    } else {
        "redis error reply"
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    // `PX 0` is an error in Redis; the memory store applies the same one-millisecond floor.
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn gcra(&self, key: &str, rate: Rate, cost: u32) -> Result<Decision, StoreError> {
        let check = GcraCheck {
            key,
            rate,
            cost,
            stops: true,
        };
        let decisions = self.gcra_all(&[check]).await?;
        decisions
            .first()
            .copied()
            .ok_or_else(|| StoreError::Unavailable("redis error reply".to_owned()))
    }

    async fn gcra_all(&self, checks: &[GcraCheck<'_>]) -> Result<Vec<Decision>, StoreError> {
        let params: Option<Vec<Params>> =
            checks.iter().map(|c| Params::new(c.rate, 1_000)).collect();
        let Some(params) = params else {
            // A rate that lets nothing through is decided here, not in Redis: one call each.
            return gcra_in_turn(self, checks).await;
        };
        let mut invocation = GCRA_SCRIPT.prepare_invoke();
        for (check, p) in checks.iter().zip(&params) {
            invocation
                .key(self.key("rl:", check.key))
                .arg(p.interval)
                .arg(p.burst)
                .arg(check.cost)
                .arg(u8::from(check.stops));
        }
        let flat: Vec<u64> = self
            .run(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        Ok(flat
            .chunks_exact(4)
            .zip(checks)
            .map(|(d, check)| Decision {
                allowed: d[0] == 1,
                limit: check.rate.burst,
                remaining: u32::try_from(d[1]).unwrap_or(u32::MAX),
                retry_after: Duration::from_micros(d[2]),
                reset_after: Duration::from_micros(d[3]),
            })
            .collect())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = self.key("kv:", key);
        let stored: Option<String> = self
            .run(|mut conn| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms(ttl))
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(stored.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key("kv:", key);
        self.run(|mut conn| async move { redis::cmd("GET").arg(&key).query_async(&mut conn).await })
            .await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let key = self.key("kv:", key);
        self.run(|mut conn| async move {
            redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async(&mut conn)
                .await
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = self.key("kv:", key);
        self.run(|mut conn| async move { redis::cmd("DEL").arg(&key).query_async(&mut conn).await })
            .await
    }

    async fn generation(&self, group: &str) -> Result<u64, StoreError> {
        let key = self.key("gen:", group);
        let generation: Option<u64> = self
            .run(|mut conn| async move { redis::cmd("GET").arg(&key).query_async(&mut conn).await })
            .await?;
        Ok(generation.unwrap_or(0))
    }

    async fn bump_generation(&self, group: &str) -> Result<u64, StoreError> {
        let key = self.key("gen:", group);
        self.run(
            |mut conn| async move { redis::cmd("INCR").arg(&key).query_async(&mut conn).await },
        )
        .await
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let started = Instant::now();
        let _: () = self
            .run(|mut conn| async move { redis::cmd("PING").query_async(&mut conn).await })
            .await?;
        Ok(started.elapsed())
    }
}
