//! HS256 JWT verification: the signature (constant-time), the algorithm, and `exp`; and, for
//! the `alg_none` fault, the classic flaw of trusting a token that says it is unsigned.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The token's user (its `sub` claim), or why it is refused.
pub fn verify_hs256(token: &str, secret: &str, now: i64) -> Result<String, String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed token".into());
    };
    let header: Value = decode_json(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err("unsupported algorithm (HS256 only)".into());
    }
    let signature = base64url_decode(signature).ok_or("malformed signature")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| "unusable secret".to_string())?;
    mac.update(&token.as_bytes()[..header_and_payload_len(token)]);
    mac.verify_slice(&signature)
        .map_err(|_| "invalid signature".to_string())?;
    subject(&decode_json(payload)?, now)
}

/// The `alg_none` fault: a token whose header says `"alg": "none"` (in any case) is taken
/// without a signature and its claims trusted, as JWT libraries that let the token choose its
/// algorithm once did; anything else is checked as [`verify_hs256`] checks it.
pub fn verify_trusting_alg_none(token: &str, secret: &str, now: i64) -> Result<String, String> {
    let mut parts = token.split('.');
    if let (Some(header), Some(payload)) = (parts.next(), parts.next()) {
        let unsigned = decode_json(header).is_ok_and(|h| {
            h.get("alg")
                .and_then(Value::as_str)
                .is_some_and(|alg| alg.eq_ignore_ascii_case("none"))
        });
        if unsigned {
            return subject(&decode_json(payload)?, now);
        }
    }
    verify_hs256(token, secret, now)
}

/// The `exp` claim of a token, read without checking anything: for a token already verified.
pub fn expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    decode_json(payload).ok()?.get("exp")?.as_i64()
}

/// The user of verified `claims`: their `sub`, if they have not expired.
fn subject(claims: &Value, now: i64) -> Result<String, String> {
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => {}
        Some(_) => return Err("token expired".into()),
        None => return Err("token has no expiry".into()),
    }
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => Ok(sub.to_string()),
        _ => Err("token has no subject".into()),
    }
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json(part: &str) -> Result<Value, String> {
    let bytes = base64url_decode(part).ok_or("malformed token")?;
    serde_json::from_slice(&bytes).map_err(|_| "malformed token".to_string())
}

/// Unpadded base64url (RFC 4648 §5), as JWTs use it.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // A lone trailing character carries fewer than 8 bits: not valid base64.
    (bits < 6).then_some(out)
}

pub fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// An HS256 token for `sub` expiring at `exp` (for tests and local use).
pub fn sign_hs256(secret: &str, sub: &str, exp: i64) -> String {
    let header = base64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = base64url_encode(
        serde_json::json!({ "sub": sub, "exp": exp })
            .to_string()
            .as_bytes(),
    );
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", base64url_encode(&mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_token_made_by_another_implementation() {
        let secret = "secret";
        let token = sign_hs256(secret, "ada", 2_000_000_000);
        assert_eq!(
            verify_hs256(&token, secret, 1_900_000_000),
            Ok("ada".into())
        );
        // {"sub":"1234567890"} signed with "secret" by Python's hmac and base64 modules.
        let known = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.Rq8IxqeX7eA6GgYxlcHdPFVRNFFZc5rEI3MQTZZbK3I";
        assert_eq!(
            verify_hs256(known, "secret", 0),
            Err("token has no expiry".into())
        );
        assert_eq!(
            verify_hs256(known, "other", 0),
            Err("invalid signature".into())
        );
    }

    #[test]
    fn refuses_expired_forged_and_malformed_tokens() {
        let token = sign_hs256("s", "ada", 100);
        assert_eq!(verify_hs256(&token, "s", 100), Err("token expired".into()));
        assert_eq!(
            verify_hs256(&token, "t", 50),
            Err("invalid signature".into())
        );
        assert_eq!(verify_hs256("a.b", "s", 0), Err("malformed token".into()));
        let none_alg = format!(
            "{}.{}.",
            base64url_encode(br#"{"alg":"none"}"#),
            base64url_encode(br#"{"sub":"x","exp":9999999999}"#)
        );
        assert!(verify_hs256(&none_alg, "s", 0)
            .unwrap_err()
            .contains("HS256 only"));
    }

    #[test]
    fn the_alg_none_fault_trusts_unsigned_tokens_and_still_checks_signed_ones() {
        let unsigned = |alg: &str, exp: i64| {
            format!(
                "{}.{}.",
                base64url_encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()),
                base64url_encode(format!(r#"{{"sub":"mallory","exp":{exp}}}"#).as_bytes())
            )
        };
        for alg in ["none", "None", "NONE"] {
            assert_eq!(
                verify_trusting_alg_none(&unsigned(alg, 200), "s", 100),
                Ok("mallory".into()),
                "{alg}"
            );
            assert!(verify_hs256(&unsigned(alg, 200), "s", 100).is_err());
        }
        assert_eq!(
            verify_trusting_alg_none(&unsigned("none", 50), "s", 100),
            Err("token expired".into())
        );
        let token = sign_hs256("s", "ada", 200);
        assert_eq!(verify_trusting_alg_none(&token, "s", 100), Ok("ada".into()));
        assert_eq!(
            verify_trusting_alg_none(&token, "t", 100),
            Err("invalid signature".into())
        );
    }

    #[test]
    fn expiry_reads_the_exp_claim() {
        assert_eq!(expiry(&sign_hs256("s", "ada", 1234)), Some(1234));
        assert_eq!(expiry("a.b.c"), None);
        assert_eq!(expiry("no dots"), None);
    }

    #[test]
    fn base64url_round_trips() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let encoded = base64url_encode(text.as_bytes());
            assert_eq!(base64url_decode(&encoded).unwrap(), text.as_bytes());
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_decode("Z"), None);
    }
}
