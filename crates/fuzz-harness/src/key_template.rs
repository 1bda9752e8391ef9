//! Key templates: parsing arbitrary template text and rendering against arbitrary JSON bodies.

use frontdesk::policy::template::{KeyTemplate, RequestView};

pub fn run(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (template, body) = data.split_at(split);
    let Ok(template) = std::str::from_utf8(template) else {
        return;
    };
    let Ok(template) = KeyTemplate::parse(template) else {
        return;
    };
    let body: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let headers = http::HeaderMap::new();
    let view = RequestView {
        client_ip: "127.0.0.1",
        client_net: "127.0.0.1",
        headers: &headers,
        body: body.as_ref(),
        tenant: Some("t"),
        route: "r",
        params: &[],
    };
    let _ = template.render_key(&["fuzz"], &view, Some(&["missing"]));
    let _ = template.render_key(&[], &view, None);
    if let Some(value) = template.render_value(&view) {
        assert!(!value.is_empty());
    }
}
