//! The `Link` header parser: any bytes as one or more header values (split at `\n`), any
//! header-name casing. Never panics; every parsed URL lies between `<` and `>` of the
//! input; `next` is one of the parsed links.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::okta::HttpResponse;
use plugin::okta::link;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let links = link::parse(text);
    for l in &links {
        assert!(!l.url.contains('>'), "a URL never spans the closing bracket");
        assert!(text.contains(&format!("<{}", l.url.trim_start())) || text.contains(&l.url));
        assert_eq!(l.rel, l.rel.to_ascii_lowercase());
    }
    // The same text as several header lines with mixed name casing.
    let names = ["link", "Link", "LINK", "lInK"];
    let resp = HttpResponse {
        status: 200,
        headers: text
            .split('\n')
            .enumerate()
            .map(|(i, v)| (names[i % names.len()].to_string(), v.to_string()))
            .collect(),
        body: Vec::new(),
    };
    if let Some(next) = link::next(resp.header_values("link")) {
        let all: Vec<_> = resp.header_values("link").flat_map(link::parse).collect();
        assert!(all.iter().any(|l| l.url == next));
    }
});
