//! Tokens SDD mints for itself: HS256 JWTs for its own user, a second user (to see whether
//! limits are per user), a burst user, one per simulated load user, and an expired token (to
//! see whether expiry is enforced). Callers build a `TokenIssuer` from `sdd.yaml`'s `auth.jwt`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Base64url without padding, as JWTs use it.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
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

/// What SDD signs its tokens with.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    /// The HS256 secret (already read from the environment if the file refers to it).
    pub secret: String,
    /// The `sub` claim of SDD's own user.
    pub subject: String,
    /// Claims every token carries.
    pub claims: Map<String, Value>,
    /// Lifetime of a fresh token.
    pub ttl_seconds: u64,
}

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
    /// Signs a token for any other probe user (see [`ProbeCredentials::user`]).
    issuer: TokenIssuer,
    /// The user the consistency check re-runs the examples as, before and after the load
    /// (`<subject>-consistency`): an allowance the probes spent on SDD's own user must not
    /// read as a change the load caused.
    pub consistency_user: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl ProbeCredentials {
    /// A valid token of the probe user `<subject>-<name>`: each probe family asks for its own
    /// (`injection`, `size`, `owner`, …), so that no check is judged on the allowance another
    /// check spent under a per-user rate limit.
    pub fn user(&self, name: &str) -> String {
        self.issuer.bearer(
            &format!("{}-{name}", self.issuer.subject),
            self.issuer.fresh_expiry(),
        )
    }
}

impl TokenIssuer {
    /// `Bearer <jwt>` for `subject`, expiring at `expires_at` (Unix seconds).
    pub fn bearer(&self, subject: &str, expires_at: i64) -> String {
        let mut claims = self.claims.clone();
        claims.insert("sub".into(), Value::String(subject.into()));
        claims.insert("iat".into(), Value::from(now()));
        claims.insert("exp".into(), Value::from(expires_at));
        format!("Bearer {}", sign_hs256(&self.secret, &claims))
    }

    fn fresh_expiry(&self) -> i64 {
        now().saturating_add(i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX))
    }

    /// A fresh token for SDD's own user.
    pub fn own(&self) -> String {
        self.bearer(&self.subject, self.fresh_expiry())
    }

    pub fn probe_credentials(&self) -> ProbeCredentials {
        ProbeCredentials {
            expired: self.bearer(&self.subject, now() - 3600),
            second_user: self.bearer(&format!("{}-second", self.subject), self.fresh_expiry()),
            burst_user: self.bearer(&format!("{}-burst", self.subject), self.fresh_expiry()),
            issuer: self.clone(),
            consistency_user: self.bearer(
                &format!("{}-consistency", self.subject),
                self.fresh_expiry(),
            ),
        }
    }

    /// One `Authorization` header per simulated load user (subject `<subject>-load-<n>`).
    pub fn load_identities(&self, users: u32) -> Vec<Vec<(String, String)>> {
        let expires = self.fresh_expiry();
        (0..users)
            .map(|n| {
                vec![(
                    "Authorization".into(),
                    self.bearer(&format!("{}-load-{n}", self.subject), expires),
                )]
            })
            .collect()
    }
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

    #[test]
    fn base64url_has_no_padding_and_url_alphabet() {
        assert_eq!(b64url(b""), "");
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }
}
