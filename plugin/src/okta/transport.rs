//! The one thing the Okta client needs from the outside world: a blocking HTTP GET.
//! In the component it is wasi:http (through waki); in unit tests a scripted fake.

/// An HTTP response, fully read.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header lines in order; names as received (compare case-insensitively).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// All values of a header, matching the name case-insensitively.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a header.
    pub fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// A request that got no HTTP response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// A blocking HTTP client.
pub trait Transport {
    /// GET `url` with `headers`; the response body is read completely.
    fn get(
        &mut self,
        url: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<HttpResponse, TransportError>;

    /// GET several URLs at once; results in the same order. The default sends them one
    /// after the other; the component's transport sends them concurrently.
    fn get_many(
        &mut self,
        urls: &[String],
        headers: &[(&'static str, &str)],
    ) -> Vec<Result<HttpResponse, TransportError>> {
        urls.iter().map(|u| self.get(u, headers)).collect()
    }

    /// Wait without spinning. The component's transport blocks on a wasi
    /// monotonic-clock pollable; test transports record the wait instead.
    fn sleep(&mut self, duration: std::time::Duration) {
        std::thread::sleep(duration);
    }
}
