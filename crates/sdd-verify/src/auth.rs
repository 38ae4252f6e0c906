//! Client credentials SDD makes itself from `sdd.yaml`'s `auth`: HS256 JWTs for its own user,
//! a second user (to see whether limits are per user) and an expired token (to see whether
//! expiry is enforced), and the headers every client request carries.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use sdd_spec::project::{AuthConfig, JwtConfig, ServiceConfig};

use crate::examples::expand_env;
use crate::probes::b64url;

/// Tokens for the probes, as `Authorization` header values.
#[derive(Debug, Clone)]
pub struct ProbeCredentials {
    /// Same user, signature valid, expired an hour ago.
    pub expired: String,
    /// Another user (`<subject>-second`), valid.
    pub second_user: String,
    /// The user whose requests the rate-limit burst spends (`<subject>-burst`), so that the
    /// burst does not use up SDD's own user's allowance for the checks after it.
    pub burst_user: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An HS256 JWT with `claims`.
pub fn sign_hs256(secret: &str, claims: &Map<String, Value>) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(Value::Object(claims.clone()).to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(signing_input.as_bytes());
    let signature = b64url(&mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn token(jwt: &JwtConfig, subject: &str, expires_at: i64) -> String {
    let mut claims: Map<String, Value> = jwt.claims.clone().into_iter().collect();
    claims.insert("sub".into(), Value::String(subject.into()));
    claims.insert("iat".into(), Value::from(now()));
    claims.insert("exp".into(), Value::from(expires_at));
    format!("Bearer {}", sign_hs256(&expand_env(&jwt.secret), &claims))
}

/// The headers of SDD as a client: `service.headers` (with `${env:…}` expanded), plus a fresh
/// token when `auth.jwt` is set and the headers carry no `Authorization`.
pub fn client_headers(service: &ServiceConfig, auth: &AuthConfig) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = service
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), expand_env(v)))
        .collect();
    if let Some(jwt) = &auth.jwt {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            headers.push((
                "Authorization".into(),
                token(jwt, &jwt.subject, now() + jwt.ttl_seconds as i64),
            ));
        }
    }
    headers
}

pub fn probe_credentials(auth: &AuthConfig) -> Option<ProbeCredentials> {
    let jwt = auth.jwt.as_ref()?;
    Some(ProbeCredentials {
        expired: token(jwt, &jwt.subject, now() - 3600),
        second_user: token(
            jwt,
            &format!("{}-second", jwt.subject),
            now() + jwt.ttl_seconds as i64,
        ),
        burst_user: token(
            jwt,
            &format!("{}-burst", jwt.subject),
            now() + jwt.ttl_seconds as i64,
        ),
    })
}

/// One `Authorization` header per simulated load user (subject `<subject>-load-<n>`) when
/// `auth.jwt` is set and `users` > 1; otherwise none: the load runs as SDD's own user.
pub fn load_identities(auth: &AuthConfig, users: u32) -> Vec<Vec<(String, String)>> {
    let Some(jwt) = auth.jwt.as_ref().filter(|_| users > 1) else {
        return Vec::new();
    };
    let expires = now() + jwt.ttl_seconds as i64;
    (0..users)
        .map(|n| {
            vec![(
                "Authorization".into(),
                token(jwt, &format!("{}-load-{n}", jwt.subject), expires),
            )]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs256_matches_an_independent_implementation() {
        // Computed with Python's hmac and base64 modules for the key "secret".
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from("1234567890"));
        let jwt = sign_hs256("secret", &claims);
        assert_eq!(
            jwt,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.Rq8IxqeX7eA6GgYxlcHdPFVRNFFZc5rEI3MQTZZbK3I"
        );
    }
}
