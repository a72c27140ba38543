//! The identity store's network configuration (identitystore `NetworkConfiguration`): which
//! source addresses may call the identity store API and SCIM.
//!
//! Gatehouse has no VPCs. A "VPC endpoint" is read as the private network: loopback, RFC 1918,
//! RFC 4193 and link-local addresses. No request can originate from a listed VPC, so
//! `ApiRestrictSourceVpcs` admits only what `ApiAllowSourceIps` admits — the literal rule of the
//! API ("denied unless it originates from a VPC in this list, or from an IP address in
//! ApiAllowSourceIps").

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConfiguration {
    pub vpce_access_required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_restrict_source_vpcs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_allow_source_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scim_allow_source_ips: Vec<String>,
}

/// A CIDR range or a bare address (a /32 or /128).
pub fn parse_cidr(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn within(list: &[String], ip: IpAddr) -> bool {
    list.iter().filter_map(|c| parse_cidr(c)).any(|net| net.contains(&ip))
}

/// Gatehouse's stand-in for "came through a VPC endpoint".
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

impl NetworkConfiguration {
    /// Whether an identity store API call from `ip` is admitted.
    pub fn allows_api(&self, ip: IpAddr) -> bool {
        if within(&self.api_allow_source_ips, ip) {
            return true;
        }
        if !self.api_restrict_source_vpcs.is_empty() {
            return false;
        }
        !self.vpce_access_required || is_private(ip)
    }

    /// Whether a SCIM request from `ip` is admitted.
    pub fn allows_scim(&self, ip: IpAddr) -> bool {
        if !self.scim_allow_source_ips.is_empty() {
            return within(&self.scim_allow_source_ips, ip);
        }
        !self.vpce_access_required || is_private(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn no_configuration_admits_everyone() {
        let n = NetworkConfiguration::default();
        assert!(n.allows_api(ip("203.0.113.9")) && n.allows_scim(ip("203.0.113.9")));
    }

    #[test]
    fn vpce_required_admits_the_private_network_and_allow_lists() {
        let n = NetworkConfiguration {
            vpce_access_required: true,
            api_allow_source_ips: vec!["198.51.100.0/24".into()],
            scim_allow_source_ips: vec!["0.0.0.0/0".into()],
            ..Default::default()
        };
        assert!(n.allows_api(ip("10.1.2.3")) && n.allows_api(ip("::1")) && n.allows_api(ip("198.51.100.7")));
        assert!(!n.allows_api(ip("203.0.113.9")));
        assert!(n.allows_scim(ip("203.0.113.9")), "the guide's example: SCIM from the internet, API private");
    }

    #[test]
    fn restricted_vpcs_leave_only_the_allowed_ips() {
        let n = NetworkConfiguration {
            api_restrict_source_vpcs: vec!["vpc-0123abcd".into()],
            api_allow_source_ips: vec!["127.0.0.1".into()],
            ..Default::default()
        };
        assert!(n.allows_api(ip("127.0.0.1")));
        assert!(!n.allows_api(ip("10.0.0.1")));
    }

    #[test]
    fn scim_allow_list_is_exclusive() {
        let n = NetworkConfiguration { scim_allow_source_ips: vec!["192.0.2.0/28".into()], ..Default::default() };
        assert!(n.allows_scim(ip("192.0.2.3")) && !n.allows_scim(ip("192.0.2.30")) && !n.allows_scim(ip("127.0.0.1")));
    }
}
