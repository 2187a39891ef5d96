//! The read-only endpoints: the discovery document, the JWKS and userinfo.

use chrono::Utc;
use serde_json::json;

use super::state::OidcState;
use super::{OidcRequest, idtoken};
use crate::org::Org;
use crate::reply::Reply;

/// `GET /.well-known/openid-configuration`: Okta's org authorization server
/// document, listing what the simulator does (Okta's lists more response types,
/// grants and modes).
pub(crate) fn configuration(origin: &str) -> Reply {
    let body = json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}/oauth2/v1/authorize"),
        "token_endpoint": format!("{origin}/oauth2/v1/token"),
        "userinfo_endpoint": format!("{origin}/oauth2/v1/userinfo"),
        "jwks_uri": format!("{origin}/oauth2/v1/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access", "groups"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "claims_supported": [
            "iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce",
            "name", "preferred_username", "given_name", "family_name", "email", "email_verified",
            "locale", "zoneinfo", "updated_at", "at_hash"
        ],
        "code_challenge_methods_supported": ["S256"],
        "request_parameter_supported": false,
    });
    Reply::json(200, body.to_string())
}

/// `GET /oauth2/v1/keys`: the published signing keys.
pub(crate) fn keys(state: &mut OidcState) -> Reply {
    Reply::json(200, state.keys.jwks().to_string())
}

/// `GET` or `POST /oauth2/v1/userinfo` with `Authorization: Bearer <access
/// token>`: `sub` and the claims of the token's scopes. A missing, unknown or
/// expired token gets 401 with an empty body and Okta's `WWW-Authenticate`.
pub(crate) fn userinfo(state: &OidcState, org: &Org, origin: &str, req: &OidcRequest<'_>) -> Reply {
    let token = req.authorization.and_then(|a| a.strip_prefix("Bearer "));
    let now = Utc::now().timestamp();
    let found = token
        .and_then(|t| state.tokens.get(t))
        .filter(|t| t.expires_at > now)
        .and_then(|t| Some((t, org.user(&t.user_id)?)));
    let Some((token, user)) = found else {
        let challenge = format!(
            "Bearer authorization_uri=\"{origin}/oauth2/v1/authorize\", realm=\"{origin}\", scope=\"openid\", error=\"invalid_token\", error_description=\"The access token is invalid.\", resource=\"\""
        );
        return Reply::json(401, String::new()).with_header("www-authenticate", challenge);
    };
    let mut claims = idtoken::profile_claims(user, &token.scopes);
    claims.insert("sub".into(), json!(user.id));
    Reply::json(200, serde_json::Value::Object(claims).to_string())
}
