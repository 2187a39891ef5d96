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
}
