//! Request bodies of the scenarios: the small `check_availability` call (scenarios 1, 3, 4) and
//! the ~200 KiB `call_ended` webhook (scenario 2), grown from the shipped fixture with a long
//! transcript full of the PII the redaction profile must find.

use jiff::civil::{Date, Weekday};
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The bench tenant's agent (see `bench/config/tenants.yaml`).
pub const AGENT_ID: &str = "agent_bench";
/// The call every request belongs to; also sent as `x-retell-call-id` for the header-keyed limit.
pub const CALL_ID: &str = "call_bench";
/// Size the webhook is grown to.
pub const WEBHOOK_BYTES: usize = 200 * 1024;

/// A Tuesday at least a week ahead of `today`: inside the tenant's business hours and booking
/// horizon whatever day the bench runs.
pub fn bench_date(today: Date) -> Date {
    let mut date = today.saturating_add(jiff::Span::new().days(7));
    while date.weekday() != Weekday::Tuesday {
        date = date.saturating_add(jiff::Span::new().days(1));
    }
    date
}

/// The Retell custom-function call Retell would send mid-call.
pub fn check_availability(date: Date) -> Vec<u8> {
    json!({
        "name": "check_availability",
        "args": { "date": date.to_string(), "time": "10:00" },
        "call": {
            "call_id": CALL_ID,
            "agent_id": AGENT_ID,
            "from_number": "+4930123456",
            "to_number": "+4930999999"
        }
    })
    .to_string()
    .into_bytes()
}

const TURNS: [(&str, &str); 6] = [
    (
        "agent",
        "Thanks for calling Sunrise Dental, this is the front desk. How can I help you today?",
    ),
    (
        "user",
        "Hi, this is Maria Schneider. I'd like to book a cleaning, my number is +49 30 12345678.",
    ),
    (
        "agent",
        "Of course, Maria. I can offer Tuesday at ten or eleven thirty. Which one suits you?",
    ),
    (
        "user",
        "Tuesday at ten works. Please send the confirmation to maria.schneider@example.com.",
    ),
    (
        "agent",
        "Done. You are booked for Tuesday at ten, and the confirmation is on its way.",
    ),
    (
        "user",
        "Great, and if anything changes you can also call my husband on 0171 2345678. Bye!",
    ),
];

/// The `call_ended` fixture with its transcript (text, objects, and with tool calls) grown until
/// the body is at least [`WEBHOOK_BYTES`] long.
pub fn call_ended_webhook(fixture: &[u8]) -> Result<Vec<u8>> {
    let mut event: Value = serde_json::from_slice(fixture).map_err(|source| Error::Json {
        what: "the call_ended fixture",
        source,
    })?;
    let no_call = || Error::Answer {
        what: "the call_ended fixture".to_owned(),
        detail: "no `call` object".to_owned(),
    };
    let call = event
        .get_mut("call")
        .and_then(Value::as_object_mut)
        .ok_or_else(no_call)?;
    call.insert("call_id".to_owned(), json!(CALL_ID));
    call.insert("agent_id".to_owned(), json!(AGENT_ID));
    // The fixture's short transcript is replaced, not extended: measure without it.
    call.insert("transcript".to_owned(), json!(""));
    call.insert("transcript_object".to_owned(), json!([]));
    call.insert("transcript_with_tool_calls".to_owned(), json!([]));
    let base = serde_json::to_vec(&event)
        .map_err(|source| Error::Json {
            what: "webhook",
            source,
        })?
        .len();
    let (mut transcript, mut objects) = (String::new(), Vec::new());
    // Each turn adds itself to the transcript and to both object lists; counting as we go keeps
    // this linear instead of re-serialising the growing body.
    let mut size = base;
    let mut second = 0.0_f64;
    for (role, content) in TURNS.iter().cycle() {
        if size >= WEBHOOK_BYTES {
            break;
        }
        let line = format!(
            "{}: {content}\n",
            if *role == "agent" { "Agent" } else { "User" }
        );
        let words: Vec<Value> = content
            .split(' ')
            .take(4)
            .enumerate()
            .map(|(i, w)| json!({ "word": w, "start": second + i as f64 * 0.3, "end": second + i as f64 * 0.3 + 0.25 }))
            .collect();
        second += 6.0;
        let object = json!({ "role": role, "content": content, "words": words });
        size += line.len() + 2 * (serde_json::to_vec(&object).map(|v| v.len()).unwrap_or(0) + 1);
        transcript.push_str(&line);
        objects.push(object);
    }
    let call = event
        .get_mut("call")
        .and_then(Value::as_object_mut)
        .ok_or_else(no_call)?;
    call.insert("transcript".to_owned(), json!(transcript));
    call.insert(
        "transcript_object".to_owned(),
        Value::Array(objects.clone()),
    );
    call.insert(
        "transcript_with_tool_calls".to_owned(),
        Value::Array(objects),
    );
    serde_json::to_vec(&event).map_err(|source| Error::Json {
        what: "webhook",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/retell_call_ended.json");

    #[test]
    fn the_date_is_a_tuesday_at_least_a_week_ahead() {
        for day in 1..=14 {
            let today = Date::new(2026, 11, day).unwrap();
            let date = bench_date(today);
            assert_eq!(date.weekday(), Weekday::Tuesday);
            let ahead = (date - today).get_days();
            assert!((7..14).contains(&ahead), "{today} -> {date}");
        }
    }

    #[test]
    fn the_function_call_is_small_json_for_the_bench_tenant() {
        let body = check_availability(Date::new(2026, 12, 8).unwrap());
        assert!(body.len() < 300, "{}", body.len());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["call"]["agent_id"], AGENT_ID);
        assert_eq!(v["args"]["date"], "2026-12-08");
    }

    #[test]
    fn the_webhook_is_about_200_kib_with_pii_in_the_transcript() {
        let body = call_ended_webhook(FIXTURE).unwrap();
        assert!(
            (WEBHOOK_BYTES..WEBHOOK_BYTES + 4096).contains(&body.len()),
            "{}",
            body.len()
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["event"], "call_ended");
        let transcript = v["call"]["transcript"].as_str().unwrap();
        assert!(transcript.contains("maria.schneider@example.com"));
        assert!(transcript.contains("+49 30 12345678"));
        let objects = v["call"]["transcript_object"].as_array().unwrap();
        assert_eq!(
            objects.len(),
            v["call"]["transcript_with_tool_calls"]
                .as_array()
                .unwrap()
                .len()
        );
        assert!(objects.len() > 150, "{}", objects.len());
    }
}
