//! Raw request bytes through Pingora's HTTP/1 parser, the gateway's head checks and the shipped
//! route table: no input may panic, a routed request's parameters are whole path segments, and
//! the client address is the peer's unless the peer is a trusted proxy.

use std::net::IpAddr;
use std::sync::LazyLock;

use frontdesk::gateway::bounds::Bounds;
use frontdesk::gateway::proxy::{HeadRoute, route_head};
use frontdesk::stages::client_ip::{ip_text, net_text};

use crate::shipped::SHIPPED;

static BOUNDS: LazyLock<Bounds> =
    LazyLock::new(|| Bounds::from_config(&SHIPPED.config.file.server));
static TRUSTED: LazyLock<Vec<ipnet::IpNet>> =
    LazyLock::new(|| vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
}

pub fn run(data: &[u8]) {
    let _ = reach(data);
}

/// What the gateway made of the head (`None`: no input at all).
pub fn reach(data: &[u8]) -> Option<HeadRoute> {
    // The first byte picks the peer: a trusted proxy (X-Forwarded-For is read) or a client.
    let (&pick, head) = data.split_first()?;
    let peer: IpAddr = match pick % 3 {
        0 => [10, 0, 0, 2].into(),
        1 => std::net::Ipv6Addr::LOCALHOST.into(),
        _ => [203, 0, 113, 9].into(),
    };
    let trusted = |ip: &IpAddr| TRUSTED.iter().any(|net| net.contains(ip));
    let routed = RUNTIME.with(|rt| {
        rt.block_on(route_head(
            head.to_vec(),
            peer,
            &TRUSTED,
            &BOUNDS,
            &SHIPPED.policy,
        ))
    });
    let HeadRoute::Route {
        name,
        params,
        client_ip,
        ..
    } = &routed
    else {
        return Some(routed);
    };
    let client_ip = *client_ip;
    assert!(
        SHIPPED.policy.routes.iter().any(|r| &r.name == name),
        "routed to `{name}`, which the policy does not have"
    );
    for (param, value) in params {
        assert!(
            !value.is_empty() && !value.contains('/'),
            "parameter {param} = {value:?} is not one path segment"
        );
    }
    assert!(
        client_ip == peer || trusted(&peer),
        "an untrusted peer's X-Forwarded-For was believed"
    );
    let text = ip_text(client_ip);
    assert_eq!(text, client_ip.to_string());
    let net = net_text(client_ip, &text);
    assert!(client_ip.is_ipv6() || net == text);
    Some(routed)
}
