//! Writing one whole answer frontdesk makes itself (a refusal, a stage's reply, a handler's
//! answer): used by the gateway and by the forwarder when the upstream fails before answering.

use pingora::Result;
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession as Session;

use crate::stages::Reply;

pub async fn write_reply(session: &mut Session, reply: Reply) -> Result<()> {
    let mut header = ResponseHeader::build(reply.status, Some(4 + reply.headers.len()))?;
    if let Some(ct) = reply.content_type {
        header.insert_header("content-type", ct)?;
    }
    header.insert_header("content-length", reply.body.len().to_string())?;
    header.insert_header("cache-control", "no-store")?;
    for (name, value) in reply.headers {
        header.insert_header(name, value)?;
    }
    session.write_response_header(Box::new(header)).await?;
    session.write_response_body(reply.body, true).await
}
