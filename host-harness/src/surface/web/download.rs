//! A run's downloads, the page's and the REST API's: its report as JSON (`report.json`:
//! the run, its report with every change, its log) and its changes as CSV
//! (`changes.csv`), streamed.
//!
//! The document is written on tokio's blocking pool, a stored chunk of changes at a
//! time, into a bounded channel of frames that the response body drains. A download so
//! holds about one chunk and [`FRAMES`] frames in memory however big the run is, a client
//! that reads slowly stops the writer (the channel stays full) instead of making the
//! server buffer for it, and a client that goes away stops it at its next frame.

use crate::harness::Harness;
use crate::product::db::runs::{LogLine, Run};
use crate::surface::report;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::io::{self, Write};
use tokio::sync::mpsc;

/// Bytes a frame holds (the writer's buffer).
const FRAME: usize = 64 * 1024;

/// Frames written but not yet sent, at most.
const FRAMES: usize = 4;

/// Downloads written at once; more wait for a turn. Each holds a thread of the blocking
/// pool while its client reads: without a bound, slow clients could take every thread
/// the other requests need.
static WRITERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);

/// `report.json` of `run`: the REST API's run with its whole report and `log`.
pub async fn report_json(h: &Harness, run: &Run, log: &[LogLine]) -> Response {
    let doc = super::json::run_with_log(run, log);
    let changes = h.run_change_chunks(run.id);
    streamed(
        "application/json",
        format!("usersync-run-{}.json", run.id),
        move |w| report::write_json_with_changes(w, &doc, &["report", "changes"], changes),
    )
    .await
}

/// `changes.csv` of run `id`.
pub async fn changes_csv(h: &Harness, id: i64) -> Response {
    let changes = h.run_change_chunks(id);
    streamed(
        "text/csv; charset=utf-8",
        format!("usersync-run-{id}-changes.csv"),
        move |w| report::write_changes_csv(w, changes),
    )
    .await
}

/// A 200 attachment named `filename` whose body `write` writes on the blocking pool. A
/// failure after the first bytes can only cut the body short: the client sees it end
/// without its last chunk of the chunked encoding, and the server logs it.
async fn streamed(
    content_type: &'static str,
    filename: String,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send + 'static,
) -> Response {
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(FRAMES);
    let failed = tx.clone();
    let name = filename.clone();
    let turn = WRITERS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let mut w = io::BufWriter::with_capacity(FRAME, Frames(tx));
        match write(&mut w).and_then(|()| w.flush()) {
            Ok(()) => {}
            // The body was dropped: the client went away.
            Err(_) if failed.is_closed() => {
                tracing::debug!("download {name}: the client went away")
            }
            Err(e) => {
                tracing::warn!("download {name} cut short: {e}");
                let _ = failed.blocking_send(Err(e));
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let mut resp = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// The writing end of a download: each write is a frame, sent when the channel has room.
struct Frames(mpsc::Sender<io::Result<Bytes>>);

impl Write for Frames {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
