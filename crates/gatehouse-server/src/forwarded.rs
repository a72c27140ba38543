//! Behind a reverse proxy the peer is the proxy: `X-Forwarded-For` names the client, but only
//! proxies listed in `trusted_proxies` may say so (anyone else could forge it to dodge
//! per-address lockouts or blur the audit log). The client found here replaces the connection's
//! address for every front door, so audit records, rate limits and lockouts see the same one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    base: IpAddr,
    bits: u8,
}

impl Block {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, bits) = match text.trim().split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text.trim(), None),
        };
        let base: IpAddr = addr.parse().map_err(|_| format!("'{text}' is not an IP address or CIDR block"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => {
                b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?
            }
            None => max,
        };
        Ok(Block { base, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn prefix(bytes: &[u8], bits: u8) -> Vec<u8> {
            bytes
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let keep = (bits as usize).saturating_sub(i * 8).min(8) as u32;
                    if keep == 0 { 0 } else { b & (0xffu8 << (8 - keep)) }
                })
                .collect()
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.base, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => prefix(&a.octets(), self.bits) == prefix(&b.octets(), self.bits),
            (IpAddr::V6(a), IpAddr::V6(b)) => prefix(&a.octets(), self.bits) == prefix(&b.octets(), self.bits),
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Block>);

impl TrustedProxies {
    pub fn parse(list: &[String]) -> Result<Self, String> {
        list.iter().map(|b| Block::parse(b)).collect::<Result<Vec<_>, _>>().map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }

    /// The client: walking `X-Forwarded-For` from the right (the hop nearest us), the first
    /// address not of a trusted proxy. The peer itself when it is not trusted.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for.unwrap_or_default().split(',').rev().map(str::trim).filter(|h| !h.is_empty());
        let mut client = peer;
        for hop in hops {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                // A hop that is not an address (a forged or obfuscated one): stop at what we know.
                Err(_) => break,
            }
        }
        client
    }
}

pub async fn real_client(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = state.trusted_proxies.client(peer.ip(), forwarded);
        if client != peer.ip() {
            request.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks() {
        let b = Block::parse("10.1.0.0/16").unwrap();
        assert!(b.contains(ip("10.1.200.3")) && !b.contains(ip("10.2.0.1")));
        assert!(Block::parse("127.0.0.1").unwrap().contains(ip("::ffff:127.0.0.1")));
        assert!(Block::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:ffff::1")));
        assert!(Block::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(Block::parse("10.0.0.0/33").is_err() && Block::parse("proxy").is_err());
    }

    #[test]
    fn only_trusted_proxies_forward() {
        let t = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        // Through two trusted proxies: the client is the first untrusted hop from the right.
        assert_eq!(t.client(ip("127.0.0.1"), Some("198.51.100.7, 203.0.113.5, 10.0.0.4")), ip("203.0.113.5"));
        // An untrusted peer's header is ignored.
        assert_eq!(t.client(ip("192.0.2.1"), Some("203.0.113.5")), ip("192.0.2.1"));
        // No header, or garbage: the proxy itself.
        assert_eq!(t.client(ip("10.0.0.4"), None), ip("10.0.0.4"));
        assert_eq!(t.client(ip("10.0.0.4"), Some("unknown")), ip("10.0.0.4"));
        assert_eq!(TrustedProxies::default().client(ip("127.0.0.1"), Some("203.0.113.5")), ip("127.0.0.1"));
    }
}
