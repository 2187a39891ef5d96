//! What waki cannot do, on the raw WASI 0.2 API: several GETs in flight at once (start
//! each with `outgoing-handler.handle`, then `poll` their futures together), and
//! sleeping on a monotonic-clock pollable instead of spinning. The requests carry the
//! headers the client gives (no `Authorization`: the host authenticates them).

use crate::okta::{HttpResponse, TransportError};
use std::time::Duration;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, FutureIncomingResponse, IncomingResponse, Method, OutgoingRequest, RequestOptions,
    Scheme,
};
use wasip2::io::poll::{self, Pollable};
use wasip2::io::streams::StreamError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Block for `d` on a wasi monotonic-clock pollable.
pub fn sleep(d: Duration) {
    wasip2::clocks::monotonic_clock::subscribe_duration(d.as_nanos().min(u64::MAX as u128) as u64)
        .block();
}

fn start(
    url: &str,
    headers: &[(&'static str, &str)],
) -> Result<FutureIncomingResponse, TransportError> {
    let bad = |m: &str| TransportError(format!("{m}: {url}"));
    let parsed = url::Url::parse(url).map_err(|_| bad("not a URL"))?;
    let scheme = match parsed.scheme() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => Scheme::Other(other.to_string()),
    };
    let authority = match parsed.port() {
        Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let entries: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    let fields =
        Fields::from_list(&entries).map_err(|e| TransportError(format!("bad header: {e:?}")))?;
    let request = OutgoingRequest::new(fields);
    let invalid = |_| bad("invalid request");
    request.set_method(&Method::Get).map_err(invalid)?;
    request.set_scheme(Some(&scheme)).map_err(invalid)?;
    request.set_authority(Some(&authority)).map_err(invalid)?;
    request.set_path_with_query(Some(&path)).map_err(invalid)?;
    let options = RequestOptions::new();
    let nanos = |d: Duration| d.as_nanos() as u64;
    let _ = options.set_connect_timeout(Some(nanos(CONNECT_TIMEOUT)));
    let _ = options.set_first_byte_timeout(Some(nanos(READ_TIMEOUT)));
    let _ = options.set_between_bytes_timeout(Some(nanos(READ_TIMEOUT)));
    outgoing_handler::handle(request, Some(options))
        .map_err(|e| TransportError(format!("ErrorCode::{e:?}")))
}

fn read(resp: IncomingResponse) -> Result<HttpResponse, TransportError> {
    let status = resp.status();
    let headers = resp
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let body = resp
        .consume()
        .map_err(|_| TransportError("the response body was already taken".into()))?;
    let stream = body
        .stream()
        .map_err(|_| TransportError("the response body has no stream".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(TransportError(format!(
                    "reading the response body failed: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
    drop(stream);
    drop(body);
    Ok(HttpResponse {
        status,
        headers,
        body: bytes,
    })
}

fn finish(future: &FutureIncomingResponse) -> Result<HttpResponse, TransportError> {
    match future.get() {
        Some(Ok(Ok(resp))) => read(resp),
        Some(Ok(Err(code))) => Err(TransportError(format!("ErrorCode::{code:?}"))),
        Some(Err(())) => Err(TransportError("the response was already taken".into())),
        None => Err(TransportError("the response is not ready".into())),
    }
}

/// GET all `urls` concurrently; results in the same order.
pub fn get_many(
    urls: &[String],
    headers: &[(&'static str, &str)],
) -> Vec<Result<HttpResponse, TransportError>> {
    let mut results: Vec<Option<Result<HttpResponse, TransportError>>> =
        (0..urls.len()).map(|_| None).collect();
    let mut waiting: Vec<(usize, Pollable, FutureIncomingResponse)> = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        match start(url, headers) {
            Ok(future) => waiting.push((i, future.subscribe(), future)),
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    while !waiting.is_empty() {
        let ready = {
            let pollables: Vec<&Pollable> = waiting.iter().map(|(_, p, _)| p).collect();
            let mut ready: Vec<usize> = poll::poll(&pollables)
                .into_iter()
                .map(|i| i as usize)
                .collect();
            ready.sort_unstable();
            ready
        };
        for r in ready.into_iter().rev() {
            // The pollable is dropped before the future it came from.
            let (i, pollable, future) = waiting.remove(r);
            drop(pollable);
            results[i] = Some(finish(&future));
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(TransportError("no response".into()))))
        .collect()
}
