//! tenants.yaml: the shipped file compiles, problems name their field, lookup by agent/number.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use frontdesk_booking::tenants::CalendarConfig;
use frontdesk_booking::{Language, TenantDirectory, TenantsFile};
use jiff::civil::{date, time};

#[test]
fn shipped_tenants_file_compiles_with_the_demo_tenant() {
    let text = include_str!("../../../config/tenants.yaml");
    let file = TenantsFile::from_yaml(text).expect("parses");
    let dir = TenantDirectory::compile(&file).expect("compiles");
    let demo = dir.get("demo").expect("demo tenant");
    assert_eq!(demo.language, Language::De);
    assert!(matches!(demo.calendar, CalendarConfig::Local(_)));
    assert_eq!(demo.time_zone.iana_name(), Some("Europe/Berlin"));
    assert_eq!(demo.services.get("erstgespraech"), Some(&60));
    assert!(!demo.hours.is_working_day(date(2026, 12, 24)));
}

#[test]
fn defaults_apply_when_fields_are_absent() {
    let t = common::demo();
    assert_eq!(t.language, Language::De);
    assert_eq!(t.time_zone.iana_name(), Some("Europe/Berlin"));
    assert_eq!(t.granularity_min, 15);
    assert_eq!(t.max_alternatives, 3);
    assert_eq!(t.default_duration_min, 30);
    // Default week: Monday–Friday 09:00–18:00.
    let monday = t.hours.hours_on(date(2026, 1, 5)).unwrap();
    assert_eq!(
        (monday.open, monday.close),
        (time(9, 0, 0, 0), time(18, 0, 0, 0))
    );
    assert!(t.hours.hours_on(date(2026, 1, 10)).is_none());
}

#[test]
fn calcom_calendar_is_parsed() {
    let t = common::tenant_from_yaml(
        r#"
tenants:
  - id: acme
    company_id: acme
    branch_id: london
    numbers: ["+442071234567"]
    calendar:
      provider: calcom
      api_key_env: CALCOM_API_KEY_ACME
      event_types: { consultation: 123456 }
    services: { consultation: { duration: 45m } }
    time_zone: Europe/London
    language: en
"#,
    );
    match &t.calendar {
        CalendarConfig::Calcom(c) => {
            assert_eq!(c.api_key_env, "CALCOM_API_KEY_ACME");
            assert_eq!(c.event_types.get("consultation"), Some(&123456));
        }
        other => panic!("expected calcom, got {other:?}"),
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let bad = "tenants:\n  - id: a\n    company_id: a\n    branch_id: b\n    agent_ids: [x]\n    calendar: { provider: local, colour: red }\n";
    assert!(TenantsFile::from_yaml(bad).is_err());
    let bad = "tenants:\n  - id: a\n    company_id: a\n    branch_id: b\n    agent_ids: [x]\n    calendar: { provider: local }\n    timezone: UTC\n";
    assert!(TenantsFile::from_yaml(bad).is_err());
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let yaml = r#"
tenants:
  - id: a
    company_id: acme
    branch_id: one
    agent_ids: [agent_1]
    numbers: ["+4930111111"]
    calendar: { provider: local }
    time_zone: Mars/Olympus
    business_hours:
      monday: { open: "18:00", close: "09:00" }
      tuesday: { open: "9am", close: "17:00" }
    closed_dates: ["24.12.2026x"]
  - id: a
    company_id: acme
    branch_id: one
    agent_ids: [agent_1]
    numbers: ["+4930111111", "030 1234"]
    calendar:
      provider: calcom
      api_key_env: KEY
      event_types: { massage: 1 }
    slot_granularity: 7m
"#;
    let file = TenantsFile::from_yaml(yaml).unwrap();
    let errors = TenantDirectory::compile(&file).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for expected in [
        "tenants[0].time_zone",
        "tenants[0].business_hours.monday.close",
        "tenants[0].business_hours.tuesday.open",
        "tenants[0].closed_dates[0]",
        "tenants[1].id",
        "tenants[1].agent_ids[0]",
        "tenants[1].numbers[0]",
        "tenants[1].numbers[1]",
        "tenants[1].branch_id",
        "tenants[1].calendar.event_types.massage",
        "tenants[1].slot_granularity",
    ] {
        assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
    }
    // Messages never echo values (numbers are personal data in other places).
    assert!(errors.iter().all(|e| !e.message.contains("4930")));
}

#[test]
fn resolve_by_agent_or_number_and_refuse_conflicts() {
    let yaml = r#"
tenants:
  - id: one
    company_id: c
    branch_id: one
    agent_ids: [agent_1]
    numbers: ["+4930111111"]
    calendar: { provider: local }
  - id: two
    company_id: c
    branch_id: two
    agent_ids: [agent_2]
    numbers: ["+4930222222"]
    calendar: { provider: local }
"#;
    let dir = TenantDirectory::compile(&TenantsFile::from_yaml(yaml).unwrap()).unwrap();
    assert_eq!(dir.resolve(Some("agent_1"), None).unwrap().id, "one");
    assert_eq!(dir.resolve(None, Some("+49 30 222222")).unwrap().id, "two");
    assert_eq!(
        dir.resolve(Some("agent_2"), Some("+4930222222"))
            .unwrap()
            .id,
        "two"
    );
    assert_eq!(
        dir.resolve(Some("unknown"), Some("+4930111111"))
            .unwrap()
            .id,
        "one"
    );
    assert!(dir.resolve(Some("agent_1"), Some("+4930222222")).is_none());
    assert!(dir.resolve(Some("nobody"), None).is_none());
    assert!(dir.resolve(None, None).is_none());
}

#[test]
fn json_schema_describes_the_file() {
    let schema = serde_json::to_string(&schemars::schema_for!(TenantsFile)).unwrap();
    for word in [
        "tenants",
        "company_id",
        "provider",
        "calcom",
        "api_key_env",
        "business_hours",
        "slot_granularity",
    ] {
        assert!(schema.contains(word), "schema lacks {word}");
    }
}
