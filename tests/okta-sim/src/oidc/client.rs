//! The registry's entry for one OIDC app (Admin Console → Applications → an
//! "OIDC - OpenID Connect" web or native app), and its command-line form.

/// An OIDC app integration: client id, secret (none for a public client), the
/// sign-in redirect URIs (matched exactly, as Okta does: scheme, case, port and
/// trailing slash all count) and whether PKCE is required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcClient {
    /// The client id (`0oa…` in a real org; any string here).
    pub client_id: String,
    /// The client secret (`client_secret_basic` or `client_secret_post`); `None`
    /// for a public client (`token_endpoint_auth_method` `none`), which must use PKCE.
    pub client_secret: Option<String>,
    /// Sign-in redirect URIs.
    pub redirect_uris: Vec<String>,
    /// "Require PKCE as additional verification": authorize requests without a
    /// `code_challenge` are refused. Always true for a public client.
    pub pkce_required: bool,
}

/// Why an `--oidc-client` value was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OidcClientError {
    /// Not `ID=SECRET,redirect=URL[,…]`.
    #[error("--oidc-client wants ID=SECRET,redirect=URL[,redirect=URL][,pkce|no-pkce], got {0:?}")]
    Syntax(String),
    /// An option that does not exist.
    #[error("--oidc-client: unknown option {0:?}")]
    Option(String),
    /// No redirect URI (Okta requires at least one for the code flow).
    #[error("--oidc-client {0}: at least one redirect=URL is needed")]
    NoRedirect(String),
}

impl OidcClient {
    /// A confidential web app with this secret, PKCE required, no redirect URIs yet.
    pub fn new(client_id: &str, client_secret: &str) -> OidcClient {
        OidcClient {
            client_id: client_id.to_string(),
            client_secret: Some(client_secret.to_string()),
            redirect_uris: Vec::new(),
            pkce_required: true,
        }
    }

    /// A public client (no secret; PKCE always required).
    pub fn public(client_id: &str) -> OidcClient {
        OidcClient {
            client_secret: None,
            ..OidcClient::new(client_id, "")
        }
    }

    /// The same client with one more sign-in redirect URI.
    pub fn with_redirect_uri(mut self, uri: &str) -> OidcClient {
        self.redirect_uris.push(uri.to_string());
        self
    }

    /// The same client with PKCE required or optional (a public client keeps it
    /// required, as Okta does).
    pub fn with_pkce(mut self, required: bool) -> OidcClient {
        self.pkce_required = required || self.client_secret.is_none();
        self
    }

    /// Parses `ID=SECRET,redirect=URL[,redirect=URL…][,pkce|no-pkce]` (the
    /// `--oidc-client` value). An empty secret (`ID=,redirect=…`) makes a public client.
    pub fn parse_cli(spec: &str) -> Result<OidcClient, OidcClientError> {
        let syntax = || OidcClientError::Syntax(spec.to_string());
        let (id, rest) = spec.split_once('=').ok_or_else(syntax)?;
        if id.is_empty() {
            return Err(syntax());
        }
        let mut parts = rest.split(',');
        let secret = parts.next().unwrap_or_default();
        let mut client = match secret {
            "" => OidcClient::public(id),
            secret => OidcClient::new(id, secret),
        };
        for option in parts {
            client = match option.split_once('=') {
                Some(("redirect", url)) if !url.is_empty() => client.with_redirect_uri(url),
                None if option == "pkce" => client.with_pkce(true),
                None if option == "no-pkce" => client.with_pkce(false),
                _ => return Err(OidcClientError::Option(option.to_string())),
            };
        }
        if client.redirect_uris.is_empty() {
            return Err(OidcClientError::NoRedirect(id.to_string()));
        }
        Ok(client)
    }

    /// Whether `uri` is one of the sign-in redirect URIs, exactly.
    pub(crate) fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_forms() {
        let c = OidcClient::parse_cli("0oaWeb=s3cret,redirect=http://h/cb,redirect=http://h/cb2")
            .unwrap();
        assert_eq!(c.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(c.redirect_uris, ["http://h/cb", "http://h/cb2"]);
        assert!(c.pkce_required);
        let c = OidcClient::parse_cli("0oaWeb=s,redirect=http://h/cb,no-pkce").unwrap();
        assert!(!c.pkce_required);
        let public = OidcClient::parse_cli("0oaSpa=,redirect=http://h/cb,no-pkce").unwrap();
        assert!(public.client_secret.is_none() && public.pkce_required);
        assert!(matches!(
            OidcClient::parse_cli("x=s"),
            Err(OidcClientError::NoRedirect(_))
        ));
        assert!(matches!(
            OidcClient::parse_cli("x=s,redirect=u,wat"),
            Err(OidcClientError::Option(_))
        ));
        assert!(matches!(
            OidcClient::parse_cli("=s,redirect=u"),
            Err(OidcClientError::Syntax(_))
        ));
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let c = OidcClient::new("c", "s").with_redirect_uri("http://h:8080/cb");
        assert!(c.allows_redirect("http://h:8080/cb"));
        for other in [
            "http://h:8080/cb/",
            "http://H:8080/cb",
            "https://h:8080/cb",
            "http://h/cb",
        ] {
            assert!(!c.allows_redirect(other), "{other}");
        }
    }
}
