//! The Okta API token. Only the host holds it: the plugin's requests to the connector's
//! Okta host get `Authorization: SSWS <token>` from the HTTP policy
//! ([`crate::host::http`]), so the token never enters the guest. What an admin pastes is
//! validated and normalized here, and [`ApiToken`]'s `Debug` and `Display` never show it.

use http::HeaderValue;
use std::fmt;

/// Longest token accepted (Okta's are 42 characters).
pub const MAX_CHARS: usize = 512;

/// What `Debug` and `Display` show instead of the token.
pub const MASK: &str = "********";

/// Why a pasted token is refused. The messages never contain the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Nothing, only whitespace, or only the `SSWS` scheme.
    #[error(
        "the API token is empty; create one in the Okta Admin Console under Security > API > Tokens"
    )]
    Empty,
    /// Over [`MAX_CHARS`].
    #[error("the API token is longer than 512 characters; paste only the token value")]
    TooLong,
    /// Spaces, control characters or non-ASCII characters inside the token.
    #[error("the API token contains spaces or characters an Okta token never has")]
    BadCharacters,
}

/// A validated Okta API token (SSWS). Formatting it shows [`MASK`]; the value is read
/// only by [`ApiToken::expose`] (to store it) and [`ApiToken::authorization`] (to send
/// it to the connector's Okta host).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    value: String,
    header: HeaderValue,
}

impl ApiToken {
    /// Validate and normalize what an admin pasted: surrounding whitespace and a pasted
    /// `SSWS ` scheme (any case) are dropped; the rest must be 1 to 512 visible ASCII
    /// characters.
    pub fn parse(pasted: &str) -> Result<ApiToken, TokenError> {
        let mut t = pasted.trim();
        // Compared as bytes: a pasted token may start with multi-byte characters.
        if t.len() > 5 && t.as_bytes()[..5].eq_ignore_ascii_case(b"ssws ") {
            t = t[5..].trim_start();
        }
        if t.eq_ignore_ascii_case("ssws") {
            // `SSWS ` pasted without the token (trimmed), or twice (`SSWS SSWS`).
            t = "";
        }
        if t.is_empty() {
            return Err(TokenError::Empty);
        }
        if t.len() > MAX_CHARS {
            return Err(TokenError::TooLong);
        }
        if !t.chars().all(|c| c.is_ascii_graphic()) {
            return Err(TokenError::BadCharacters);
        }
        let mut header =
            HeaderValue::try_from(format!("SSWS {t}")).map_err(|_| TokenError::BadCharacters)?;
        header.set_sensitive(true);
        Ok(ApiToken {
            value: t.to_string(),
            header,
        })
    }

    /// The token itself, for the `secrets` table only.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The `Authorization` header value, `SSWS <token>` (marked sensitive).
    pub fn authorization(&self) -> HeaderValue {
        self.header.clone()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApiToken").field(&MASK).finish()
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pasted_tokens_are_normalized() {
        for pasted in [
            "00abc-XYZ",
            " SSWS 00abc-XYZ \n",
            "ssws 00abc-XYZ",
            "\tSsws   00abc-XYZ\t ",
        ] {
            let t = ApiToken::parse(pasted).unwrap();
            assert_eq!(t.expose(), "00abc-XYZ", "{pasted:?}");
            assert_eq!(t.authorization(), "SSWS 00abc-XYZ", "{pasted:?}");
            assert_eq!(ApiToken::parse(t.expose()), Ok(t), "idempotent");
        }
        // The longest accepted, and `SSWS` inside a token, which is not a prefix.
        assert!(ApiToken::parse(&"x".repeat(MAX_CHARS)).is_ok());
        assert_eq!(ApiToken::parse("SSWSabc").unwrap().expose(), "SSWSabc");
    }

    #[test]
    fn the_scheme_alone_is_no_token() {
        // `SSWS SSWS` used to be accepted as the token `SSWS`, which then re-validated
        // as empty.
        for t in [
            "",
            " \n\t",
            "SSWS",
            "ssws ",
            " SSWS \n",
            "SSWS     ",
            "SSWS SSWS ",
            "ssws  Ssws",
        ] {
            assert_eq!(ApiToken::parse(t), Err(TokenError::Empty), "{t:?}");
        }
        let e = TokenError::Empty.to_string();
        assert!(e.starts_with("the API token is empty"), "{e}");
    }

    #[test]
    fn long_spaced_or_control_character_tokens_are_refused() {
        assert_eq!(
            ApiToken::parse(&"x".repeat(MAX_CHARS + 1)),
            Err(TokenError::TooLong)
        );
        for t in [
            "00abc def",
            "abc\u{0}def",
            "abc\ndef",
            "SSWS a b",
            "tab\tbed",
        ] {
            assert_eq!(ApiToken::parse(t), Err(TokenError::BadCharacters), "{t:?}");
        }
        assert!(
            TokenError::BadCharacters
                .to_string()
                .contains("contains spaces")
        );
    }

    #[test]
    fn multi_byte_characters_in_a_token_are_refused_not_a_panic() {
        for t in ["abcd€x", "ͻ𑌐¾<l", "€€€€€€", "SSWS é", "ssws€ab"] {
            assert_eq!(ApiToken::parse(t), Err(TokenError::BadCharacters), "{t:?}");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_token() {
        let t = ApiToken::parse("00SECRETSECRET").unwrap();
        for shown in [
            format!("{t:?}"),
            format!("{t:#?}"),
            format!("{t}"),
            format!("{:?}", Some(&t)),
            format!("{:?}", t.authorization()),
        ] {
            assert!(!shown.contains("SECRET"), "{shown}");
        }
        assert_eq!(t.to_string(), MASK);
        assert_eq!(format!("{t:?}"), "ApiToken(\"********\")");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Never panics; an accepted token is a fixed point; a refusal never echoes it.
        #[test]
        fn parse_never_panics_and_is_idempotent(
            pasted in prop_oneof![
                proptest::collection::vec(
                    prop::sample::select(vec![
                        "SSWS ", "ssws ", "SSWS", "00", "abc", "XYZ", "-", "_", " ", "\n", "€", "é",
                    ]),
                    0..8,
                )
                .prop_map(|v| v.concat()),
                any::<String>(),
                "[A-Za-z0-9_-]{500,520}",
            ]
        ) {
            match ApiToken::parse(&pasted) {
                Ok(t) => {
                    prop_assert!(!t.expose().is_empty() && !t.expose().contains(' '));
                    prop_assert_eq!(ApiToken::parse(t.expose()), Ok(t.clone()));
                }
                Err(e) => {
                    let trimmed = pasted.trim();
                    if trimmed.len() >= 8 {
                        prop_assert!(!e.to_string().contains(trimmed), "{:?}", e);
                    }
                }
            }
        }

        /// An `SSWS ` prefix (any case) and surrounding whitespace are dropped.
        #[test]
        fn pasted_tokens_normalize(
            t in "[A-Za-z0-9_-]{1,60}",
            prefix in prop::sample::select(vec!["", "SSWS ", "ssws ", "Ssws  "]),
            pad in prop::sample::select(vec!["", " ", "\n", "\t "]),
        ) {
            let got = ApiToken::parse(&format!("{pad}{prefix}{t}{pad}")).unwrap();
            prop_assert_eq!(got.expose(), t.as_str());
        }
    }
}
