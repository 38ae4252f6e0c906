//! SDD's client credentials as `sdd.yaml` describes them: the `auth.jwt` section becomes a
//! `sdd_http::auth::TokenIssuer` (its secret read from the environment when the file says
//! `${env:NAME}`), and `service.headers` the headers every client request carries.

use std::collections::BTreeMap;

use sdd_http::auth::{ProbeCredentials, TokenIssuer};
use sdd_spec::project::{AuthConfig, JwtConfig, ServiceConfig};

use crate::examples::expand_env;

fn issuer(jwt: &JwtConfig) -> TokenIssuer {
    TokenIssuer {
        secret: expand_env(&jwt.secret),
        subject: jwt.subject.clone(),
        claims: jwt.claims.clone().into_iter().collect(),
        ttl_seconds: jwt.ttl_seconds,
    }
}

/// The headers of SDD as a client: `service.headers` (with `${env:…}` expanded), plus a fresh
/// token when `auth.jwt` is set and the headers carry no `Authorization`.
pub fn client_headers(service: &ServiceConfig, auth: &AuthConfig) -> Vec<(String, String)> {
    headers_with(&service.headers, auth, |jwt| issuer(jwt).own())
}

/// The headers of SDD as a client under a user of its own, `<subject>-<user>` (the synthetic
/// journeys run as `<subject>-journeys`: their traffic never spends the allowance of SDD's own
/// user, or anyone's, under a per-user rate limit).
/// `configured` is `service.headers` (none when sdd.yaml has no service).
pub fn client_headers_as(
    configured: &BTreeMap<String, String>,
    auth: &AuthConfig,
    user: &str,
) -> Vec<(String, String)> {
    headers_with(configured, auth, |jwt| {
        issuer(jwt).probe_credentials().user(user)
    })
}

fn headers_with(
    configured: &BTreeMap<String, String>,
    auth: &AuthConfig,
    token: impl FnOnce(&JwtConfig) -> String,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = configured
        .iter()
        .map(|(k, v)| (k.clone(), expand_env(v)))
        .collect();
    if let Some(jwt) = &auth.jwt {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            headers.push(("Authorization".into(), token(jwt)));
        }
    }
    headers
}

/// Tokens for the probes, when `auth.jwt` is set.
pub fn probe_credentials(auth: &AuthConfig) -> Option<ProbeCredentials> {
    auth.jwt.as_ref().map(|jwt| issuer(jwt).probe_credentials())
}

/// One `Authorization` header per simulated load user (subject `<subject>-load-<n>`) when
/// `auth.jwt` is set and `users` > 1; otherwise none: the load runs as SDD's own user.
pub fn load_identities(auth: &AuthConfig, users: u32) -> Vec<Vec<(String, String)>> {
    match auth.jwt.as_ref().filter(|_| users > 1) {
        Some(jwt) => issuer(jwt).load_identities(users),
        None => Vec::new(),
    }
}
