//! A list of XSS vectors comes out of the `strip_html` normalisation (as used by the shipped
//! `name` and `notes` fields) inert: no `<`, no `>`, no `javascript:`, no `on*=` handler.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use frontdesk_validate::{NormalizeStep, normalize};
use serde_json::json;

const VECTORS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<script>alert(1)",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)",
    "<body onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<div style=\"x\" onmouseover='alert(1)'>hover</div>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\0script:alert(1)",
    "javajavascript:script:alert(1)",
    "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "&#x3C;svg onload=alert(1)&#x3E;",
    "\\u003cscript\\u003e",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<img src=x onerror=alert(1)//<",
    "<a title=\">\" onclick=alert(1)>x</a>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "< script >alert(1)</ script >",
    "<\u{0}script>alert(1)</script>",
    "<</p>iframe src=javascript:alert(1)//",
];

fn is_inert(text: &str) -> Result<(), String> {
    let lower = text.to_lowercase();
    let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    if text.contains('<') || text.contains('>') {
        return Err("angle bracket".into());
    }
    if squeezed.contains("javascript:") || squeezed.contains("vbscript:") {
        return Err("script scheme".into());
    }
    if has_event_handler(&lower) {
        return Err("event handler".into());
    }
    if html_escape::decode_html_entities(text) != text {
        return Err("decodable entity left".into());
    }
    Ok(())
}

/// `on<letters>=` as an attribute would be written.
fn has_event_handler(lower: &str) -> bool {
    lower.match_indices("on").any(|(i, _)| {
        let rest = &lower[i + 2..];
        let name_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        name_len > 0 && rest[name_len..].trim_start().starts_with('=')
    })
}

#[test]
fn every_vector_comes_out_inert() {
    let steps = [
        NormalizeStep::StripHtml,
        NormalizeStep::CollapseWhitespace,
        NormalizeStep::Trim,
        NormalizeStep::Nfc,
    ];
    for vector in VECTORS {
        let out = normalize(vector, &steps);
        if let Err(why) = is_inert(&out) {
            panic!("{vector:?} -> {out:?}: {why}");
        }
        assert_eq!(
            normalize(&out, &steps),
            out,
            "not idempotent for {vector:?}"
        );
    }
}

#[test]
fn vectors_in_the_shipped_name_field_come_out_inert() {
    let schemas = common::shipped_schemas();
    for vector in VECTORS {
        let input = json!({"date": "2026-01-06", "time": "10:00", "name": format!("Jane {vector} Doe"),
            "notes": vector});
        let clean = schemas["book_appointment"]
            .validate(&input)
            .unwrap_or_else(|e| panic!("{vector:?}: {e:?}"));
        assert!(
            clean["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Jane")),
            "{vector:?}"
        );
        for field in ["name", "notes"] {
            // `notes` is left out when nothing but markup was in it.
            let text = clean
                .get(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if let Err(why) = is_inert(text) {
                panic!("{vector:?} in {field} -> {text:?}: {why}");
            }
        }
    }
}

#[test]
fn the_detector_itself_flags_live_markup() {
    assert!(is_inert("<b>").is_err());
    assert!(is_inert("java script:x").is_err());
    assert!(is_inert("x onclick = y").is_err());
    assert!(is_inert("&lt;").is_err());
    assert!(is_inert("Jane Doe, 10 Uhr; Anton").is_ok());
}
