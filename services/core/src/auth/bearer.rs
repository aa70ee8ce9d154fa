//! What kind of bearer token a request presents, told once from its form and before anything
//! verifies it: Flotilla's opaque tokens by their prefix, JWTs by their header (a cluster
//! assertion carries its certificate chain in `x5c`; Flotilla's access tokens do not). The
//! extractors match on the kind instead of each looking at the token in its own way.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use super::credentials::{API_TOKEN_PREFIX, REGISTRATION_TOKEN_PREFIX};

/// The kinds of bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerKind {
    /// An API token (`flt_...`).
    ApiToken,
    /// A registration token (`flreg_...`): it registers clusters and nothing else.
    RegistrationToken,
    /// A cluster assertion: a JWT whose header has `x5c`.
    ClusterAssertion,
    /// Anything else, taken for an access token from `/oauth/token` (verification decides).
    AccessToken,
}

impl BearerKind {
    /// The kind of `token`, from its form alone.
    pub fn of(token: &str) -> BearerKind {
        if token.starts_with(API_TOKEN_PREFIX) {
            BearerKind::ApiToken
        } else if token.starts_with(REGISTRATION_TOKEN_PREFIX) {
            BearerKind::RegistrationToken
        } else if has_x5c(token) {
            BearerKind::ClusterAssertion
        } else {
            BearerKind::AccessToken
        }
    }
}

/// Whether `token`'s JWT header names a certificate chain (`x5c`).
fn has_x5c(token: &str) -> bool {
    /// Only whether `x5c` is there: the chain is not copied out.
    #[derive(Deserialize)]
    struct Header {
        x5c: Option<serde::de::IgnoredAny>,
    }
    token
        .split('.')
        .next()
        .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
        .and_then(|json| serde_json::from_slice::<Header>(&json).ok())
        .is_some_and(|header| header.x5c.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn each_kind_is_told_by_its_form() {
        assert_eq!(BearerKind::of("flt_abc_def"), BearerKind::ApiToken);
        assert_eq!(
            BearerKind::of("flreg_abc_def"),
            BearerKind::RegistrationToken
        );
        let assertion = jwt(r#"{"alg":"ES256","x5c":["MIIB"]}"#);
        assert_eq!(BearerKind::of(&assertion), BearerKind::ClusterAssertion);
        let access = jwt(r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#);
        assert_eq!(BearerKind::of(&access), BearerKind::AccessToken);
        assert_eq!(BearerKind::of("not a token"), BearerKind::AccessToken);
        assert_eq!(BearerKind::of(""), BearerKind::AccessToken);
    }
}
