//! SDD as an HTTP client of the service under specification.
//!
//! `sdd-http` holds what every part of SDD that talks to the service shares: one HTTP/1.1
//! request on hyper with a timeout over the whole exchange and a cap on the body (`client`),
//! the host allow-list that keeps load and probe traffic on loopback unless `sdd.yaml` names
//! more hosts (`AllowedHosts`), the one parser of `http://` URLs, and the HS256 tokens SDD mints
//! for its own users (`auth`). It knows nothing of specs or MCP; callers turn `sdd.yaml` into
//! these types.

pub mod auth;
mod client;
mod hosts;

pub use client::{
    send, send_with_limit, split_url, HttpError, HttpRequest, HttpResponse, MAX_BODY,
};
pub use hosts::AllowedHosts;
