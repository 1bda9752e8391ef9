//! Idempotency of writes: across replicas on a real Redis, a still-pending duplicate, and
//! takeover after a crashed replica's marker expires.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frontdesk_booking::args::book_args;
use frontdesk_booking::idempotency::{Idempotency, PENDING_TTL, PollPolicy};
use frontdesk_booking::{CallContext, Engine};
use frontdesk_store::{RedisSettings, RedisStore, Store};
use serde_json::{Value, json};

fn call(id: &str) -> CallContext {
    CallContext {
        call_id: Some(id.to_owned()),
        from_number: None,
    }
}

fn args() -> Value {
    json!({"date": "2026-01-06", "time": "16:00", "name": "Erika"})
}

fn redis() -> Arc<dyn Store> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let store = RedisStore::new(&RedisSettings {
        url: std::env::var("REDIS_URL")
            .expect("REDIS_URL names the test Redis (make test sets it)"),
        prefix: format!("test:booking:{}:{nanos}:", std::process::id()),
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
    })
    .expect("redis url");
    Arc::new(store)
}

async fn slot_is_free(engine: &Engine) -> bool {
    let r = engine
        .call(
            &common::demo(),
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "16:00"}),
        )
        .await;
    r["available"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_sharing_redis_book_once_and_answer_alike() {
    let f = common::fixture();
    let store = redis();
    assert!(
        store.ping().await.is_ok(),
        "Redis must be reachable (REDIS_URL)"
    );
    let replicas: Vec<Arc<Engine>> = (0..3)
        .map(|_| {
            Arc::new(common::engine_at(
                &f.db_path(),
                store.clone(),
                f.clock.clone(),
            ))
        })
        .collect();
    let tenant = common::demo();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let engine = replicas[i % replicas.len()].clone();
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .call(&tenant, call("redis-call"), "book_appointment", &args())
                .await
        }));
    }
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    assert_eq!(replies[0]["success"], true, "{}", replies[0]);
    assert!(replies.iter().all(|r| *r == replies[0]));
    // A different call for the same slot is a different request: it finds the slot taken.
    let other = replicas[0]
        .call(&tenant, call("other-call"), "book_appointment", &args())
        .await;
    assert_eq!(other["reason"], "slot_unavailable");
}

#[tokio::test]
async fn duplicate_of_a_pending_call_answers_in_progress_and_writes_nothing() {
    let f = common::fixture();
    let tenant = common::demo();
    let engine = common::engine_at(&f.db_path(), f.store.clone(), f.clock.clone())
        .with_poll_policy(PollPolicy {
            interval: Duration::from_millis(1),
            attempts: 3,
        });
    // Another replica has claimed this exact call and not finished.
    let normalised = book_args(&tenant, &args(), None).unwrap().normalised();
    let key = Idempotency::key(&tenant.scope, "busy-call", "book_appointment", &normalised);
    assert!(
        f.store
            .set_if_absent(&key, br#"{"state":"pending"}"#, PENDING_TTL)
            .await
            .unwrap()
    );

    let r = engine
        .call(&tenant, call("busy-call"), "book_appointment", &args())
        .await;
    assert_eq!(r["reason"], "in_progress", "{r}");
    assert!(slot_is_free(&engine).await);

    // The other replica died: once its marker expires, a retry executes.
    f.clock.advance(PENDING_TTL + Duration::from_secs(1));
    let r = engine
        .call(&tenant, call("busy-call"), "book_appointment", &args())
        .await;
    assert_eq!(r["success"], true, "{r}");
    assert!(!slot_is_free(&engine).await);
}

#[tokio::test]
async fn same_call_different_arguments_are_different_requests() {
    let f = common::fixture();
    let tenant = common::demo();
    let first = f
        .engine
        .call(&tenant, call("c"), "book_appointment", &args())
        .await;
    let second = f
        .engine
        .call(
            &tenant,
            call("c"),
            "book_appointment",
            &json!({"date": "2026-01-06", "time": "16:30", "name": "Erika"}),
        )
        .await;
    assert_eq!(first["success"], true);
    assert_eq!(second["success"], true);
    assert_ne!(first["booking"]["id"], second["booking"]["id"]);
}
