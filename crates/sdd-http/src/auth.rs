//! Tokens SDD mints for itself: HS256 JWTs for its own user, a second user (to see whether
//! limits are per user), a burst user, one per simulated load user, and an expired token (to
//! see whether expiry is enforced). Callers build a `TokenIssuer` from `sdd.yaml`'s `auth.jwt`.
//! `unsigned` and `tampered` rework a token the service accepts into ones it must refuse: the
//! same claims under `alg: none`, and a changed payload under the old signature.

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

/// The header, payload and signature of a compact JWT (`Bearer ` in front allowed), and its
/// claims; `None` when it is not one (an API key, an opaque token).
fn jwt_parts(token: &str) -> Option<(&str, &str, &str, Map<String, Value>)> {
    let token = token.trim();
    let token = match token.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
        _ => token,
    };
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())?;
    match claims {
        Value::Object(claims) => Some((header, payload, signature, claims)),
        _ => None,
    }
}

/// `token`'s claims, unchanged, under the header `{"alg":"<alg>","typ":"JWT"}` with an empty
/// signature (`header.payload.`): what a service that lets the token pick its algorithm
/// takes as valid without any key. `None` when `token` is not a JWT.
pub fn unsigned(token: &str, alg: &str) -> Option<String> {
    let (_, payload, _, _) = jwt_parts(token)?;
    let header = serde_json::json!({ "alg": alg, "typ": "JWT" });
    Some(format!(
        "{}.{payload}.",
        b64url(header.to_string().as_bytes())
    ))
}

/// `token` with its payload re-encoded after a change — `role` raised to `admin` (or, when it
/// already is, to `root`), everything else kept — and its original signature: a valid
/// signature over another payload, which only a service that checks the signature against
/// this payload refuses (one that trusts signatures it has seen before, say, takes it).
/// `None` when `token` is not a JWT.
pub fn tampered(token: &str) -> Option<String> {
    let (header, _, signature, mut claims) = jwt_parts(token)?;
    // The claim must really change: the same payload would carry a valid signature.
    let raised = if claims.get("role").and_then(Value::as_str) == Some("admin") {
        "root"
    } else {
        "admin"
    };
    claims.insert("role".into(), Value::from(raised));
    let payload = b64url(Value::Object(claims).to_string().as_bytes());
    Some(format!("{header}.{payload}.{signature}"))
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

    fn claims_of(token: &str) -> Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    fn issuer() -> TokenIssuer {
        let mut claims = Map::new();
        claims.insert("role".into(), Value::from("user"));
        TokenIssuer {
            secret: "s3cret".into(),
            subject: "sdd".into(),
            claims,
            ttl_seconds: 600,
        }
    }

    /// The unsigned token carries exactly the claims of the token it was made from (so a
    /// service that takes it sees the probe's own user, not yet expired) and no signature.
    #[test]
    fn an_unsigned_token_keeps_the_claims_and_drops_the_signature() {
        let own = issuer().own();
        for alg in ["none", "None"] {
            let token = unsigned(&own, alg).unwrap();
            let parts: Vec<&str> = token.split('.').collect();
            assert_eq!(parts.len(), 3, "{token}");
            assert_eq!(parts[2], "", "{token}");
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
            assert_eq!(header, serde_json::json!({"alg": alg, "typ": "JWT"}));
            let claims = claims_of(&token);
            assert_eq!(claims, claims_of(own.strip_prefix("Bearer ").unwrap()));
            assert_eq!(claims["sub"], "sdd");
            assert_eq!(claims["role"], "user");
            assert!(claims["exp"].as_i64().unwrap() > now());
        }
        assert_eq!(unsigned("Bearer not-a-token", "none"), None);
        assert_eq!(unsigned("an-api-key", "none"), None);
    }

    /// The tampered token keeps header and signature and changes the payload, which the
    /// signature then no longer covers; a role already `admin` still changes.
    #[test]
    fn a_tampered_token_keeps_the_signature_over_another_payload() {
        let own = issuer().own();
        let bare = own.strip_prefix("Bearer ").unwrap();
        let token = tampered(&own).unwrap();
        let (old, new): (Vec<&str>, Vec<&str>) =
            (bare.split('.').collect(), token.split('.').collect());
        assert_eq!(new[0], old[0]);
        assert_eq!(new[2], old[2]);
        assert_ne!(new[1], old[1]);
        let claims = claims_of(&token);
        assert_eq!(claims["role"], "admin");
        assert_eq!(claims["sub"], "sdd");
        let resigned = sign_hs256("s3cret", claims.as_object().unwrap());
        assert_ne!(
            resigned.rsplit('.').next(),
            Some(new[2]),
            "the old signature is not valid for it"
        );

        let mut admin = issuer();
        admin.claims.insert("role".into(), Value::from("admin"));
        assert_eq!(claims_of(&tampered(&admin.own()).unwrap())["role"], "root");
        assert_eq!(tampered("opaque"), None);
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
