//! The admin page's stylesheet and script, compiled into the binary from
//! `host-harness/assets/` and served at `<base>/assets/<name>`. Pages link them with
//! `?v=` and a digest of the content, so that browsers may keep them for a year and
//! still fetch a changed file at once.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One embedded file.
pub struct Asset {
    /// File name, the last segment of its path.
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// A digest of `body`, worked out on first use.
    version: OnceLock<String>,
}

/// The stylesheet.
pub static CSS: Asset = Asset {
    name: "usersync.css",
    content_type: "text/css; charset=utf-8",
    body: include_str!("../../../assets/usersync.css"),
    version: OnceLock::new(),
};

/// The script.
pub static JS: Asset = Asset {
    name: "usersync.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../../assets/usersync.js"),
    version: OnceLock::new(),
};

/// The path (below the page's base) every asset is served at.
const DIR: &str = "/assets";

impl Asset {
    /// The link of a page to this asset, with its version.
    pub fn href(&self, base: &str) -> String {
        let version = self
            .version
            .get_or_init(|| hex::encode(&Sha256::digest(self.body.as_bytes())[..8]));
        format!("{base}{DIR}/{}?v={version}", self.name)
    }

    fn response(&self) -> Response {
        (
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            self.body,
        )
            .into_response()
    }
}

/// The asset routes (open: the login form needs them too).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    [&CSS, &JS].into_iter().fold(Router::new(), |r, a| {
        r.route(
            &format!("{DIR}/{}", a.name),
            get(move || async move { a.response() }),
        )
    })
}
