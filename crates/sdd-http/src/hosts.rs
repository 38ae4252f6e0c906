//! Where SDD may send traffic.

/// The hosts load, probe and example traffic may go to: loopback always, anything else only
/// when `sdd.yaml` lists it under `targets.allowed_hosts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    /// Loopback plus `hosts` (names or addresses, compared without regard to case).
    pub fn new(hosts: impl IntoIterator<Item = String>) -> AllowedHosts {
        AllowedHosts {
            hosts: hosts.into_iter().collect(),
        }
    }

    /// Loopback only.
    pub fn loopback_only() -> AllowedHosts {
        AllowedHosts::default()
    }

    /// Loopback is always allowed; anything else only when listed.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        loopback || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_always_others_only_when_listed() {
        let none = AllowedHosts::loopback_only();
        for host in ["localhost", "127.0.0.1", "127.3.4.5", "::1", "[::1]"] {
            assert!(none.allows(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "example.com",
            "localhost.example.com",
            "0.0.0.0",
        ] {
            assert!(!none.allows(host), "{host}");
        }
        let some = AllowedHosts::new(["Staging.Example.com".to_string()]);
        assert!(some.allows("staging.example.com"));
        assert!(!some.allows("example.com"));
    }
}
