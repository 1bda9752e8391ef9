//! The four scenarios of the load run: what is sent, to which path, through which store, which
//! systems can do the job, and at which offered rates latency is measured.

use serde::{Deserialize, Serialize};

/// A system under load. Order is the order of columns and of the first repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// The static upstream itself: the floor, what the network path and the backend cost.
    Direct,
    /// nginx reverse proxy with a header-keyed `limit_req`: what ops would otherwise deploy.
    Nginx,
    /// A second frontdesk beside the first (`--baseline`): the build before a change, or the
    /// same build with other `server:` settings.
    Baseline,
    Frontdesk,
}

impl System {
    /// Whether this system is a frontdesk process.
    pub fn is_frontdesk(self) -> bool {
        matches!(self, System::Frontdesk | System::Baseline)
    }

    pub fn label(self) -> &'static str {
        match self {
            System::Direct => "direct",
            System::Nginx => "nginx",
            System::Baseline => "baseline",
            System::Frontdesk => "frontdesk",
        }
    }
}

/// Which body a scenario sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// The ~200-byte `check_availability` function call.
    FunctionCall,
    /// The ~200 KiB `call_ended` webhook.
    Webhook,
}

/// Where frontdesk keeps limiter state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    Redis,
}

/// The offered rates of the open-loop runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Rates {
    /// Fractions of the median closed-loop peak of a system (of the first system when absent).
    OfPeak {
        of: System,
        fractions: &'static [f64],
    },
    /// Fixed rates, in requests per second.
    Fixed(&'static [u32]),
}

impl Rates {
    /// The rates for the measured peaks, rounded to 100 requests/s, never 0.
    pub fn resolve(&self, peak_of: impl Fn(System) -> Option<f64>, fallback: System) -> Vec<u32> {
        match self {
            Rates::Fixed(rates) => rates.to_vec(),
            Rates::OfPeak { of, fractions } => {
                let peak = peak_of(*of).or_else(|| peak_of(fallback)).unwrap_or(0.0);
                fractions
                    .iter()
                    .map(|f| ((peak * f / 100.0).round() as u32).max(1) * 100)
                    .collect()
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub number: u8,
    pub title: &'static str,
    /// frontdesk's route (the upstream and nginx accept any path).
    pub path: &'static str,
    pub body: Body,
    pub store: StoreKind,
    pub systems: &'static [System],
    pub rates: Rates,
    /// What the baselines do here, for the table.
    pub baseline_note: &'static str,
    /// frontdesk must answer `"success":true` (the booking engine is live) for the run to count.
    pub needs_booking: bool,
}

const OF_NGINX: Rates = Rates::OfPeak {
    of: System::Nginx,
    fractions: &[0.25, 0.5, 0.75],
};

/// Every scenario, in order.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            number: 1,
            title: "signed JSON POST through the full policy, forwarded",
            path: "/bench/forward",
            body: Body::FunctionCall,
            store: StoreKind::Memory,
            systems: &[System::Direct, System::Nginx, System::Frontdesk],
            rates: OF_NGINX,
            baseline_note: "nginx: proxy_pass + limit_req on the call-id header; no HMAC, tenant or validation",
            needs_booking: false,
        },
        Scenario {
            number: 2,
            title: "200 KiB call_ended webhook, transcript redacted, forwarded",
            path: "/bench/webhook",
            body: Body::Webhook,
            store: StoreKind::Memory,
            systems: &[System::Direct, System::Nginx, System::Frontdesk],
            rates: OF_NGINX,
            baseline_note: "nginx: forwards the body unchanged; it cannot verify HMAC or redact",
            needs_booking: false,
        },
        Scenario {
            number: 3,
            title: "check_availability answered in-process",
            path: "/retell/function",
            body: Body::FunctionCall,
            store: StoreKind::Memory,
            systems: &[System::Frontdesk],
            // The goal is stated at 20 000 requests/s.
            rates: Rates::Fixed(&[5_000, 10_000, 20_000]),
            baseline_note: "no baseline: neither nginx nor the static upstream can answer a booking function",
            needs_booking: true,
        },
        Scenario {
            number: 4,
            title: "as 1, limits shared through Redis",
            path: "/bench/forward",
            body: Body::FunctionCall,
            store: StoreKind::Redis,
            systems: &[System::Nginx, System::Frontdesk],
            rates: OF_NGINX,
            baseline_note: "nginx: limit_req is per instance (no shared limiter); direct: see scenario 1",
            needs_booking: false,
        },
    ]
}

/// `systems` rotated by `round`, so no system always runs first (or last) in a repetition.
pub fn rotated(systems: &[System], round: usize) -> Vec<System> {
    let mut order = systems.to_vec();
    if !order.is_empty() {
        let by = round % order.len();
        order.rotate_left(by);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_the_reference_peak_or_its_fallback() {
        let peaks = |s: System| match s {
            System::Nginx => Some(40_000.0),
            System::Frontdesk => Some(20_000.0),
            System::Direct | System::Baseline => None,
        };
        assert_eq!(
            OF_NGINX.resolve(peaks, System::Frontdesk),
            vec![10_000, 20_000, 30_000]
        );
        let only_frontdesk = |s: System| (s == System::Frontdesk).then_some(20_000.0);
        assert_eq!(
            OF_NGINX.resolve(only_frontdesk, System::Frontdesk),
            vec![5_000, 10_000, 15_000]
        );
        assert_eq!(
            OF_NGINX.resolve(|_| None, System::Frontdesk),
            vec![100, 100, 100]
        );
        assert_eq!(Rates::Fixed(&[7]).resolve(peaks, System::Nginx), vec![7]);
    }

    #[test]
    fn every_system_leads_one_repetition() {
        let systems = [System::Direct, System::Nginx, System::Frontdesk];
        let leaders: Vec<System> = (0..3).map(|r| rotated(&systems, r)[0]).collect();
        assert_eq!(leaders, systems.to_vec());
        assert_eq!(
            rotated(&systems, 4),
            vec![System::Nginx, System::Frontdesk, System::Direct]
        );
        assert!(rotated(&[], 2).is_empty());
    }

    #[test]
    fn scenarios_are_numbered_and_frontdesk_runs_in_each() {
        let all = all();
        assert_eq!(
            all.iter().map(|s| s.number).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert!(all.iter().all(|s| s.systems.contains(&System::Frontdesk)));
        assert_eq!(
            all.iter().filter(|s| s.store == StoreKind::Redis).count(),
            1
        );
    }
}
