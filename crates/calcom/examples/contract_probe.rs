//! Sends one request of each kind the client makes (slots; slot reservations: reserve, extend,
//! delete; create naming a reservation, get, cancel, reschedule, list) to a Cal.com-compatible
//! server and prints what came back, so the requests can be checked against a validating mock
//! of Cal.com's OpenAPI description.
//!
//! The clock stands at 2023-09-04 09:00 UTC, before the `reservationUntil` of the description's
//! example reservation, so a mock answering with that example leaves the holds live and the
//! extend and delete requests are sent too.
//!
//! `cargo run -p frontdesk-calcom --example contract_probe -- http://127.0.0.1:4010 [event_type_id]`
//!
//! Meant for mock servers: against a real Cal.com account it would create, move and cancel a
//! booking.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "example code"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use frontdesk_booking::{
    Attendee, CalendarProvider, ContactQuery, HoldRequest, NewBooking, SlotQuery, TenantDirectory,
    TenantsFile,
};
use frontdesk_calcom::{BREAKER_TARGET, CalcomConfig, CalcomProvider, StaticApiKeys};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_resilience::BreakerRegistry;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base_url = args
        .next()
        .ok_or("usage: contract_probe <base_url> [event_type_id]")?;
    let event_type: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let yaml = format!(
        "tenants:\n  - id: probe\n    company_id: probe\n    branch_id: main\n    agent_ids: [probe]\n    \
         calendar: {{ provider: calcom, api_key_env: PROBE_KEY, event_types: {{ beratung: {event_type} }} }}\n    \
         services: {{ beratung: {{ duration: 30m }} }}\n    time_zone: Europe/Berlin\n"
    );
    let dir = TenantDirectory::compile(&TenantsFile::from_yaml(&yaml)?)
        .map_err(|e| format!("tenants: {e:?}"))?;
    let tenant = dir.get("probe").ok_or("tenant")?;
    let cfg = CalcomConfig {
        base_url,
        // The clock stands still: the default budget's burst would end the probe early.
        budget: frontdesk_calcom::BudgetConfig {
            requests_per_minute: 1_000,
            burst: 100,
            reserved_for_bookings: 3,
        },
        ..CalcomConfig::default()
    };
    // 2023-09-04T09:00:00Z.
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_693_818_000_000));
    let breakers = BreakerRegistry::new(clock.clone());
    breakers.configure(&BTreeMap::from([(
        BREAKER_TARGET.to_owned(),
        cfg.effective_breaker(),
    )]))?;
    let client = CalcomProvider::new(&cfg, breakers.get(BREAKER_TARGET).ok_or("breaker")?, clock)?
        .with_api_keys(Arc::new(StaticApiKeys::new([(
            "PROBE_KEY",
            "cal_probe_key",
        )])));

    let day = jiff::civil::date(2050, 9, 5);
    let slots = client
        .free_slots(
            &tenant,
            &SlotQuery {
                for_call: None,
                from: day,
                to: day,
                duration_min: 30,
                service: Some("beratung".to_owned()),
            },
        )
        .await;
    println!("slots: {slots:?}");
    let start = jiff::tz::TimeZone::get("Europe/Berlin")?.to_timestamp(day.at(10, 0, 0, 0))?;
    let hold = |at: jiff::Timestamp| HoldRequest {
        call_id: "call_probe".to_owned(),
        starts: vec![at],
        duration_min: 30,
        service: Some("beratung".to_owned()),
        hold_for: std::time::Duration::from_secs(300),
    };
    let earlier = start - jiff::SignedDuration::from_hours(1);
    println!("reserve: {:?}", client.hold(&tenant, &hold(earlier)).await);
    println!("extend: {:?}", client.hold(&tenant, &hold(earlier)).await);
    println!(
        "reserve another, delete the first: {:?}",
        client.hold(&tenant, &hold(start)).await
    );
    let created = client
        .create(
            &tenant,
            &NewBooking {
                start,
                duration_min: 30,
                service: Some("beratung".to_owned()),
                attendee: Attendee {
                    name: "Probe Caller".to_owned(),
                    email: Some("probe@example.org".to_owned()),
                    phone: Some("+4930123456".to_owned()),
                },
                notes: Some("contract probe".to_owned()),
                // Names the call's reservation of `start`.
                call_id: Some("call_probe".to_owned()),
                request_key: None,
            },
        )
        .await;
    println!("create: {created:?}");
    let uid = created
        .as_ref()
        .map_or_else(|_| "probe-uid".to_owned(), |b| b.uid.clone());
    println!("get: {:?}", client.get_booking(&tenant, &uid).await);
    let later = start + jiff::SignedDuration::from_hours(2);
    println!(
        "reschedule: {:?}",
        client.reschedule(&tenant, &uid, later).await
    );
    println!("cancel: {:?}", client.cancel(&tenant, &uid).await);
    let found = client
        .find_bookings(
            &tenant,
            &ContactQuery {
                phone: None,
                email: Some("probe@example.org".to_owned()),
                from: Some(start),
            },
        )
        .await;
    println!("list: {found:?}");
    println!("reserve: {:?}", client.hold(&tenant, &hold(start)).await);
    println!(
        "release (delete): {:?}",
        client.release_holds(&tenant, "call_probe").await
    );
    Ok(())
}
