//! Tenant isolation, by property: 100 tenants that share event type ids and a time zone, random
//! interleaved checks, bookings, cancellations and webhooks; no answer ever carries another
//! tenant's data, and every answer equals a simple model of that tenant's own calendar.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use frontdesk_booking::{
    Booking, BookingStatus, CalendarError, CalendarProvider, ContactQuery, HoldOutcome,
    HoldRequest, NewBooking, Slot, SlotQuery, Tenant, TenantDirectory, TenantsFile,
};
use frontdesk_calcom::{CacheConfig, CachedProvider, SlotKey};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_store::{MemoryStore, Store};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const TENANTS: usize = 100;
const DAYS: i8 = 5;

fn tz() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("tz")
}

/// Tenant `i`'s one free slot on `day`: 09:00 + i minutes, so the minute names the tenant.
fn slot_of(i: usize, day: Date) -> Timestamp {
    let minute = i8::try_from(i % 60).expect("minute");
    let hour = 9 + i8::try_from(i / 60).expect("hour");
    tz().to_timestamp(day.at(hour, minute, 0, 0)).expect("ts")
}

fn tenant_index(t: &Tenant) -> usize {
    t.id.trim_start_matches('t').parse().expect("index")
}

/// A calendar that answers each tenant with slots only that tenant could have.
struct Stub;

#[async_trait]
impl CalendarProvider for Stub {
    fn name(&self) -> &'static str {
        "stub"
    }

    async fn free_slots(&self, t: &Tenant, q: &SlotQuery) -> Result<Vec<Slot>, CalendarError> {
        let i = tenant_index(t);
        let mut out = Vec::new();
        let mut d = q.from;
        while d <= q.to {
            out.push(Slot {
                start: slot_of(i, d),
            });
            d = d.tomorrow().expect("date");
        }
        Ok(out)
    }

    async fn create(&self, t: &Tenant, b: &NewBooking) -> Result<Booking, CalendarError> {
        Ok(booking(t, b.start))
    }

    async fn get_booking(&self, _: &Tenant, _: &str) -> Result<Booking, CalendarError> {
        Err(CalendarError::NotFound)
    }

    async fn cancel(&self, t: &Tenant, booking_ref: &str) -> Result<Booking, CalendarError> {
        let ms: i64 = booking_ref.parse().map_err(|_| CalendarError::NotFound)?;
        let start = Timestamp::from_millisecond(ms).map_err(|_| CalendarError::NotFound)?;
        let mut b = booking(t, start);
        b.status = BookingStatus::Cancelled;
        Ok(b)
    }

    async fn reschedule(
        &self,
        _: &Tenant,
        _: &str,
        _: Timestamp,
    ) -> Result<Booking, CalendarError> {
        Err(CalendarError::NotFound)
    }

    async fn find_bookings(
        &self,
        _: &Tenant,
        _: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError> {
        Ok(Vec::new())
    }

    async fn hold(&self, _: &Tenant, h: &HoldRequest) -> Result<Vec<HoldOutcome>, CalendarError> {
        Ok(vec![HoldOutcome::Taken; h.starts.len()])
    }

    async fn release_holds(&self, _: &Tenant, _: &str) -> Result<usize, CalendarError> {
        Ok(0)
    }
}

fn booking(t: &Tenant, start: Timestamp) -> Booking {
    Booking {
        id: start.as_millisecond().to_string(),
        uid: format!("{}-{}", t.id, start.as_millisecond()),
        start,
        end: start + SignedDuration::from_mins(30),
        status: BookingStatus::Accepted,
        service: Some("s".to_owned()),
        phone: None,
        call_id: None,
    }
}

fn directory() -> TenantDirectory {
    let mut yaml = String::from("tenants:\n");
    for i in 0..TENANTS {
        // Ten companies with ten branches each; only three event type ids for all of them.
        yaml.push_str(&format!(
            "  - id: t{i}\n    company_id: c{}\n    branch_id: b{}\n    agent_ids: [a{i}]\n    \
             calendar: {{ provider: calcom, api_key_env: K, event_types: {{ s: {} }} }}\n    \
             services: {{ s: {{ duration: 30m }} }}\n",
            i / 10,
            i % 10,
            i % 3 + 1
        ));
    }
    TenantDirectory::compile(&TenantsFile::from_yaml(&yaml).expect("yaml")).expect("compiles")
}

#[derive(Debug, Clone)]
enum Op {
    Check { tenant: usize, day: i8 },
    Book { tenant: usize, day: i8 },
    Cancel { tenant: usize, day: i8 },
    Webhook { event_type: u64, day: i8 },
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0..TENANTS;
    let d = 0..DAYS;
    prop_oneof![
        4 => (t.clone(), d.clone()).prop_map(|(tenant, day)| Op::Check { tenant, day }),
        1 => (t.clone(), d.clone()).prop_map(|(tenant, day)| Op::Book { tenant, day }),
        1 => (t, d.clone()).prop_map(|(tenant, day)| Op::Cancel { tenant, day }),
        1 => (1u64..4, d).prop_map(|(event_type, day)| Op::Webhook { event_type, day }),
    ]
}

fn day(d: i8) -> Date {
    date(2026, 1, 5 + d)
}

#[test]
fn no_tenant_ever_sees_another_tenants_slots() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = directory();
    let tenants: Vec<Arc<Tenant>> = (0..TENANTS)
        .map(|i| dir.get(&format!("t{i}")).expect("tenant"))
        .collect();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..150), |ops| {
            runtime.block_on(async {
                // Sunday night before the week: every slot lies ahead.
                let clock = ManualClock::new(1_767_567_600_000);
                let clock_dyn: Arc<dyn Clock> = Arc::new(clock);
                let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock_dyn.clone()));
                let cache =
                    CachedProvider::new(Arc::new(Stub), store, clock_dyn, &CacheConfig::default());
                // Model: the tenant-days we booked (and have not cancelled).
                let mut booked: BTreeSet<(usize, i8)> = BTreeSet::new();
                for op in ops {
                    match op {
                        Op::Check { tenant, day: d } => {
                            let t = &tenants[tenant];
                            let q = SlotQuery {
                                for_call: None,
                                from: day(d),
                                to: day(d),
                                duration_min: 30,
                                service: Some("s".to_owned()),
                            };
                            let got = cache.free_slots(t, &q).await.expect("slots");
                            for s in &got {
                                prop_assert_eq!(
                                    s.start,
                                    slot_of(tenant, day(d)),
                                    "tenant {} got a foreign slot",
                                    tenant
                                );
                            }
                            let expected = usize::from(!booked.contains(&(tenant, d)));
                            prop_assert_eq!(got.len(), expected);
                        }
                        Op::Book { tenant, day: d } => {
                            let b = NewBooking {
                                start: slot_of(tenant, day(d)),
                                duration_min: 30,
                                service: Some("s".to_owned()),
                                attendee: Default::default(),
                                notes: None,
                                call_id: None,
                                request_key: None,
                            };
                            cache.create(&tenants[tenant], &b).await.expect("created");
                            booked.insert((tenant, d));
                        }
                        Op::Cancel { tenant, day: d } => {
                            if booked.remove(&(tenant, d)) {
                                let r = slot_of(tenant, day(d)).as_millisecond().to_string();
                                cache.cancel(&tenants[tenant], &r).await.expect("cancelled");
                            }
                        }
                        Op::Webhook { event_type, day: d } => {
                            // A booking elsewhere at a time no tenant's slot uses (08:00):
                            // invalidates every tenant on that event type, masks nothing.
                            let start = tz().to_timestamp(day(d).at(8, 0, 0, 0)).expect("ts");
                            let body = serde_json::json!({
                                "triggerEvent": "BOOKING_CREATED",
                                "payload": {
                                    "eventTypeId": event_type,
                                    "startTime": start.to_string(),
                                    "endTime": (start + SignedDuration::from_mins(30)).to_string(),
                                },
                            });
                            let n = cache.invalidate_from_webhook(&dir, &body).await;
                            let users = (0..TENANTS)
                                .filter(|i| (i % 3 + 1) as u64 == event_type)
                                .count();
                            prop_assert_eq!(n, users);
                        }
                    }
                }
                Ok(())
            })
        })
        .expect("isolation holds");
}

proptest! {
    /// Different key tuples never render to the same store key.
    #[test]
    fn distinct_keys_render_distinctly(
        a in ("[a-z0-9._-]{1,6}", "[a-z0-9._-]{1,6}", 0u64..4, 0i8..3, prop::sample::select(vec!["Europe/Berlin", "UTC", "America/New_York"]), 15u32..17),
        b in ("[a-z0-9._-]{1,6}", "[a-z0-9._-]{1,6}", 0u64..4, 0i8..3, prop::sample::select(vec!["Europe/Berlin", "UTC", "America/New_York"]), 15u32..17),
        generation in 0u64..3,
    ) {
        let key = |p: &(String, String, u64, i8, &str, u32)| {
            SlotKey::new(&p.0, &p.1, p.2, date(2026, 1, 5 + p.3), p.4, p.5).expect("valid parts")
        };
        let (ka, kb) = (key(&a), key(&b));
        prop_assert_eq!(ka == kb, ka.render(generation) == kb.render(generation));
        prop_assert_eq!(
            (ka.company_id(), ka.branch_id(), ka.date()) == (kb.company_id(), kb.branch_id(), kb.date()),
            ka.group().generation_group() == kb.group().generation_group()
        );
    }
}

#[test]
fn scopes_in_the_directory_are_distinct() {
    let dir = directory();
    let scopes: HashMap<String, usize> = dir
        .tenants()
        .enumerate()
        .map(|(i, t)| (t.scope.key(), i))
        .collect();
    assert_eq!(scopes.len(), TENANTS);
}
