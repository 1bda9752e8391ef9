//! The slot cache's single-flight: concurrent misses of one day share one Cal.com request.

use std::sync::Arc;

use frontdesk_booking::CalendarError;
use jiff::Timestamp;

pub use frontdesk_resilience::singleflight::Role;

/// What a fill produces: the day's slot starts, or why there are none.
pub type DayResult = Result<Arc<Vec<Timestamp>>, CalendarError>;

/// In-flight fills by rendered store key.
pub type SingleFlight = frontdesk_resilience::singleflight::SingleFlight<DayResult>;
