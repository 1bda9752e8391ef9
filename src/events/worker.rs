//! The delivery loop: claim due events, send each to its tenant's endpoint, report the
//! outcome back to the outbox. Runs on the background runtime, apart from every request: a
//! caller's answer never waits for a delivery.
//!
//! Time for the schedule (due, backoff, retry window, latency) comes from the injected clock.
//! `webhook-timestamp` is the wall clock: it is what receivers check against their own clocks
//! to refuse replays.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use frontdesk_booking::LocalCalendar;
use frontdesk_booking::local::events::OutboxEvent;
use frontdesk_resilience::{Breaker, Outcome};

use super::metrics::{DELIVERY_SECONDS, EVENTS, QUEUED};
use super::payload;
use super::schedule::{self, Next};
use crate::app::App;
use crate::config::BookingEventsConfig;
use crate::policy::outlets::NotifyTarget;
use crate::standard_webhooks;

pub struct Worker {
    app: Arc<App>,
    calendar: Arc<LocalCalendar>,
    config: BookingEventsConfig,
    http: reqwest::Client,
    /// One per tenant endpoint, made on its first event.
    breakers: HashMap<String, Option<Breaker>>,
}

impl Worker {
    pub fn new(app: Arc<App>, calendar: Arc<LocalCalendar>) -> Result<Self, String> {
        let config = app.config().file.booking_events.clone();
        // reqwest is built without a bundled crypto provider (see the Cal.com client).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            // The endpoint is the one configured; a redirect would send patient data elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("booking events HTTP client: {e}"))?;
        super::metrics::init();
        Ok(Self {
            app,
            calendar,
            config,
            http,
            breakers: HashMap::new(),
        })
    }

    /// Runs until the runtime stops.
    pub async fn run(mut self) {
        let wake = self.calendar.event_written();
        loop {
            let now = self.calendar.now_ms();
            let lease_until = now.saturating_add(millis(self.config.lease()));
            let claimed = self
                .calendar
                .claim_events(lease_until, self.config.batch)
                .await;
            let busy = match claimed {
                Ok(events) => {
                    let busy = !events.is_empty();
                    for event in events {
                        self.deliver(event).await;
                    }
                    busy
                }
                Err(e) => {
                    tracing::warn!(error = %e, "booking events: cannot read the outbox");
                    false
                }
            };
            self.publish_queue().await;
            if busy {
                continue;
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }

    async fn deliver(&mut self, event: OutboxEvent) {
        let policy = self.app.policy.current();
        let tenant = policy
            .tenants
            .tenants()
            .find(|t| t.scope == event.scope)
            .cloned();
        let target = tenant
            .as_ref()
            .and_then(|t| policy.outlets.notify.get(&t.id))
            .cloned();
        let attempts = event.attempts.saturating_add(1);
        let (Some(tenant), Some(target)) = (tenant, target) else {
            // The tenant or its endpoint left the config: kept as a dead letter, re-queued
            // once it is back.
            self.give_up(&event, attempts, "no notify endpoint configured")
                .await;
            return;
        };
        let body = payload::body(&tenant, &event);
        let breaker = self
            .breakers
            .entry(tenant.id.clone())
            .or_insert_with(|| {
                Breaker::new(
                    format!("notify:{}", tenant.id),
                    &self.config.breaker,
                    self.app.clock.clone(),
                )
                .ok()
            })
            .clone();
        let sent = match breaker.as_ref().map(Breaker::try_acquire) {
            Some(Err(_)) => Err("breaker_open".to_owned()),
            Some(Ok(permit)) => {
                let started = Instant::now();
                let (result, outcome) = self.send(&target, &event, body).await;
                permit.record(outcome, started.elapsed());
                result
            }
            None => self.send(&target, &event, body).await.0,
        };
        let now = self.calendar.now_ms();
        match sent {
            Ok(()) => {
                if let Err(e) = self.calendar.event_delivered(event.id).await {
                    // Sent but not marked: it is sent again after the lease (at least once).
                    tracing::warn!(error = %e, "booking events: delivered event not recorded");
                    return;
                }
                EVENTS.with_label_values(&["delivered"]).inc();
                DELIVERY_SECONDS.observe((now - event.created_ms).max(0) as f64 / 1000.0);
                tracing::info!(tenant = %tenant.id, seq = event.seq, kind = event.kind.as_str(), attempts, "booking event delivered");
            }
            Err(reason) => {
                EVENTS.with_label_values(&["failed"]).inc();
                let next = schedule::after_failure(
                    &self.config,
                    attempts,
                    event.queued_ms,
                    now,
                    rand::random::<f64>(),
                );
                match next {
                    Next::RetryAt(at) => {
                        tracing::info!(tenant = %tenant.id, seq = event.seq, attempts, reason = %reason, retry_in_ms = at - now, "booking event not delivered; retrying");
                        if let Err(e) = self
                            .calendar
                            .event_failed(event.id, attempts, at, &reason)
                            .await
                        {
                            tracing::warn!(error = %e, "booking events: failure not recorded");
                        }
                    }
                    Next::Dead => self.give_up(&event, attempts, &reason).await,
                }
            }
        }
    }

    async fn give_up(&self, event: &OutboxEvent, attempts: u32, reason: &str) {
        EVENTS.with_label_values(&["dead"]).inc();
        tracing::warn!(company = %event.scope.company_id, branch = %event.scope.branch_id, seq = event.seq, attempts, reason, "booking event dead-lettered");
        if let Err(e) = self.calendar.event_dead(event.id, attempts, reason).await {
            tracing::warn!(error = %e, "booking events: dead letter not recorded");
        }
    }

    /// One signed POST. The reason of a failure names no data (status, timeout, connect).
    async fn send(
        &self,
        target: &NotifyTarget,
        event: &OutboxEvent,
        body: Vec<u8>,
    ) -> (Result<(), String>, Outcome) {
        let id = event.message_id();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
            .unwrap_or(0);
        let signature = standard_webhooks::signature(&target.keys, &id, timestamp, &body);
        let response = self
            .http
            .post(target.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => (Ok(()), Outcome::Success),
            Ok(r) => {
                let status = r.status().as_u16();
                (Err(format!("status {status}")), Outcome::Status(status))
            }
            Err(e) if e.is_timeout() => (Err("timeout".into()), Outcome::Timeout),
            Err(e) if e.is_connect() => (Err("connect".into()), Outcome::ConnectError),
            Err(_) => (Err("transport".into()), Outcome::ConnectError),
        }
    }

    /// Queue depth per tenant with an endpoint (zero when empty, so alerts see the series).
    async fn publish_queue(&self) {
        let Ok(stats) = self.calendar.outbox_stats().await else {
            return;
        };
        let policy = self.app.policy.current();
        QUEUED.reset();
        for tenant in policy.tenants.tenants() {
            let s = stats.iter().find(|s| s.scope == tenant.scope);
            if s.is_none() && !tenant.notifies() {
                continue;
            }
            let (pending, dead) = s.map_or((0, 0), |s| (s.pending, s.dead));
            QUEUED
                .with_label_values(&[tenant.id.as_str(), "pending"])
                .set(i64::try_from(pending).unwrap_or(i64::MAX));
            QUEUED
                .with_label_values(&[tenant.id.as_str(), "dead"])
                .set(i64::try_from(dead).unwrap_or(i64::MAX));
        }
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
