//! The admin listener's Pingora side: each request goes to [`Admin`] as plain `http` values.

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::admin::{Admin, AdminRequest};

pub struct AdminApp(pub Admin);

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let peer_is_loopback = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .is_some_and(|a| a.ip().is_loopback());
        let head = session.req_header();
        self.0
            .answer(AdminRequest {
                method: head.method.as_str(),
                path: head.uri.path(),
                query: head.uri.query().unwrap_or(""),
                headers: &head.headers,
                peer_is_loopback,
            })
            .await
    }
}
