//! Slot cache keys, built only through [`SlotKey::new`].
//!
//! The replaced gateway's worst bug was a cache key without the tenant in it. Here a key cannot
//! exist without company id, branch id, event type, date and time zone: the fields are private,
//! there is no `From<String>`, no `Default`, no parser, and the constructor refuses parts that
//! could make two different tuples render to the same string. The rendered form is only ever
//! produced from a checked key.

use std::fmt;

use jiff::civil::Date;

/// Why key parts were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("company id must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.'")]
    CompanyId,
    #[error("branch id must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.'")]
    BranchId,
    #[error("time zone must be an IANA name")]
    TimeZone,
    #[error("duration must be 1-1440 minutes")]
    Duration,
    #[error("call id must be 1-256 characters")]
    CallId,
}

/// One tenant-day of Cal.com slots for one event type, length and time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotKey {
    company_id: String,
    branch_id: String,
    event_type: u64,
    date: Date,
    time_zone: String,
    duration_min: u32,
}

/// The invalidation group of a key: every cached variant (event type, length, time zone) of
/// one tenant-day. Webhooks and our own writes bump it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DayGroup {
    company_id: String,
    branch_id: String,
    date: Date,
}

impl SlotKey {
    /// The only way to make a key: every part is required and checked.
    pub fn new(
        company_id: &str,
        branch_id: &str,
        event_type: u64,
        date: Date,
        time_zone: &str,
        duration_min: u32,
    ) -> Result<Self, KeyError> {
        if !is_identifier(company_id) {
            return Err(KeyError::CompanyId);
        }
        if !is_identifier(branch_id) {
            return Err(KeyError::BranchId);
        }
        if time_zone.is_empty()
            || time_zone.len() > 64
            || !time_zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        {
            return Err(KeyError::TimeZone);
        }
        if duration_min == 0 || duration_min > 1440 {
            return Err(KeyError::Duration);
        }
        Ok(Self {
            company_id: company_id.to_owned(),
            branch_id: branch_id.to_owned(),
            event_type,
            date,
            time_zone: time_zone.to_owned(),
            duration_min,
        })
    }

    pub fn company_id(&self) -> &str {
        &self.company_id
    }

    pub fn branch_id(&self) -> &str {
        &self.branch_id
    }

    pub fn event_type(&self) -> u64 {
        self.event_type
    }

    pub fn date(&self) -> Date {
        self.date
    }

    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    pub fn duration_min(&self) -> u32 {
        self.duration_min
    }

    /// The tenant-day this key belongs to.
    pub fn group(&self) -> DayGroup {
        DayGroup {
            company_id: self.company_id.clone(),
            branch_id: self.branch_id.clone(),
            date: self.date,
        }
    }

    /// The store key for the group's `generation`. Parts are separated by `:`, which no part
    /// may contain, so the rendering is injective.
    pub fn render(&self, generation: u64) -> String {
        format!(
            "calcom:slots:{}:{}:{}:{}:{}:{}:g{}",
            self.company_id,
            self.branch_id,
            self.date,
            self.event_type,
            self.duration_min,
            self.time_zone,
            generation
        )
    }
}

impl DayGroup {
    /// A tenant-day, with the same checks as [`SlotKey::new`].
    pub fn new(company_id: &str, branch_id: &str, date: Date) -> Result<Self, KeyError> {
        if !is_identifier(company_id) {
            return Err(KeyError::CompanyId);
        }
        if !is_identifier(branch_id) {
            return Err(KeyError::BranchId);
        }
        Ok(Self {
            company_id: company_id.to_owned(),
            branch_id: branch_id.to_owned(),
            date,
        })
    }

    pub fn date(&self) -> Date {
        self.date
    }

    /// The store's generation group name.
    pub fn generation_group(&self) -> String {
        format!(
            "calcom:day:{}:{}:{}",
            self.company_id, self.branch_id, self.date
        )
    }

    /// The store key of the "just taken" overlay of this tenant-day.
    pub fn overlay_key(&self) -> String {
        format!(
            "calcom:taken:{}:{}:{}",
            self.company_id, self.branch_id, self.date
        )
    }
}

/// A tenant (company, branch), for the store keys that cover all of its days: the slots its
/// calls hold, and the reservations one call holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantGroup {
    company_id: String,
    branch_id: String,
}

impl TenantGroup {
    /// With the same checks as [`SlotKey::new`].
    pub fn new(company_id: &str, branch_id: &str) -> Result<Self, KeyError> {
        if !is_identifier(company_id) {
            return Err(KeyError::CompanyId);
        }
        if !is_identifier(branch_id) {
            return Err(KeyError::BranchId);
        }
        Ok(Self {
            company_id: company_id.to_owned(),
            branch_id: branch_id.to_owned(),
        })
    }

    /// The store key of the tenant's held slots (every call's), which the cache masks.
    pub fn held_key(&self) -> String {
        format!("calcom:held:{}:{}", self.company_id, self.branch_id)
    }

    /// The store key of the Cal.com reservations `call_id` holds at this tenant. The call id is
    /// the last part and the parts before it cannot contain `:`, so the rendering is injective
    /// whatever the call id contains.
    pub fn call_holds_key(&self, call_id: &str) -> Result<String, KeyError> {
        if call_id.is_empty() || call_id.len() > 256 {
            return Err(KeyError::CallId);
        }
        Ok(format!(
            "calcom:holds:{}:{}:{}",
            self.company_id, self.branch_id, call_id
        ))
    }
}

impl fmt::Display for SlotKey {
    /// For logs: the identity without the generation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}/{}m/{}",
            self.company_id,
            self.branch_id,
            self.event_type,
            self.date,
            self.duration_min,
            self.time_zone
        )
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_parts_that_could_collide() {
        let d = jiff::civil::date(2026, 1, 6);
        assert_eq!(
            SlotKey::new("", "b", 1, d, "Europe/Berlin", 30),
            Err(KeyError::CompanyId)
        );
        assert_eq!(
            SlotKey::new("a:b", "c", 1, d, "Europe/Berlin", 30),
            Err(KeyError::CompanyId)
        );
        assert_eq!(
            SlotKey::new("a", "b:c", 1, d, "Europe/Berlin", 30),
            Err(KeyError::BranchId)
        );
        assert_eq!(
            SlotKey::new("a", "b", 1, d, "Europe:Berlin", 30),
            Err(KeyError::TimeZone)
        );
        assert_eq!(
            SlotKey::new("a", "b", 1, d, "Europe/Berlin", 0),
            Err(KeyError::Duration)
        );
    }

    #[test]
    fn call_holds_keys_are_injective() {
        let a = TenantGroup::new("acme", "berlin").unwrap();
        let b = TenantGroup::new("acme", "berlin:x").map(|_| ());
        assert_eq!(b, Err(KeyError::BranchId));
        assert_eq!(a.call_holds_key(""), Err(KeyError::CallId));
        let k1 = a.call_holds_key("call:1").unwrap();
        let k2 = TenantGroup::new("acme", "berlin")
            .unwrap()
            .call_holds_key("call")
            .unwrap();
        assert_ne!(k1, k2);
        let other = TenantGroup::new("acme", "munich").unwrap();
        assert_ne!(
            a.call_holds_key("c").unwrap(),
            other.call_holds_key("c").unwrap()
        );
        assert_ne!(a.held_key(), other.held_key());
    }

    #[test]
    fn rendering_carries_every_part() {
        let d = jiff::civil::date(2026, 1, 6);
        let key = SlotKey::new("acme", "london", 42, d, "Europe/London", 30).unwrap();
        assert_eq!(
            key.render(3),
            "calcom:slots:acme:london:2026-01-06:42:30:Europe/London:g3"
        );
        let other = SlotKey::new("acme", "paris", 42, d, "Europe/London", 30).unwrap();
        assert_ne!(key.render(3), other.render(3));
        assert_ne!(key.group(), other.group());
    }
}
