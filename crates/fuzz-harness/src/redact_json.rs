//! Fuzz the JSON body redactor: on any input it must not panic, and whenever it accepts the
//! input the output must be valid JSON with the same structure, and redacting again must change
//! nothing.

use frontdesk_redact::{FieldRules, Redactor};
use serde_json::Value;

fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        _ => Value::Null,
    }
}

pub fn run(data: &[u8]) {
    let redactor = Redactor::default();
    let rules = FieldRules::retell_calcom_defaults();
    let _ = redactor.redact_body(data, &rules);
    let Ok((out, _)) = redactor.redact_json_bytes(data, &rules) else {
        return;
    };
    // serde_json's `Value` rejects some inputs its validator accepts (numbers out of f64 range).
    let Ok(before) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let after: Value = serde_json::from_slice(&out).expect("output is JSON");
    assert_eq!(shape(&before), shape(&after));
    let (again, _) = redactor
        .redact_json_bytes(&out, &rules)
        .expect("output accepted again");
    assert_eq!(again, out);
}
