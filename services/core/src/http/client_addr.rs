//! The client's address. It is the connection's peer, unless that peer is one of the trusted
//! proxies (`FLOTILLA_TRUSTED_PROXIES`): then the proxies' forwarding header is read from the
//! right, each trusted hop vouching for the one before it, and the first address not itself a
//! trusted proxy is the client. Anything to the left of it was written by the client and may
//! be forged; a peer that is not a trusted proxy is never believed about anyone.
//! The envelope resolves it once per request; the rate limits, the audit log and the
//! request's span read it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// The client's address as resolved for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Which header the trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (ingress-nginx, nginx, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The proxies whose forwarding header is believed, and which header they write.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    /// Their networks; empty: no proxy is trusted.
    pub networks: Vec<IpNet>,
    /// The header they write.
    pub header: ForwardedHeader,
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => hops(headers, &X_FORWARDED_FOR, Some),
            ForwardedHeader::Forwarded => hops(headers, &FORWARDED, forwarded_for),
        };
        // From the right: each address was written by the hop to its right, trusted so far.
        for hop in hops.iter().rev() {
            match parse_node(hop) {
                Some(address) => {
                    client = address.to_canonical();
                    if !self.trusts(client) {
                        break;
                    }
                }
                // `unknown`, an obfuscated name, garbage: the last trusted hop is all we know.
                None => break,
            }
        }
        client
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// Every element of every `name` header, in order, through `node` (which picks the node out
/// of an element).
fn hops<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    node: impl Fn(&'h str) -> Option<&'h str>,
) -> Vec<&'h str> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or_default().split(','))
        .map(|element| node(element.trim()).unwrap_or_default())
        .collect()
}

/// The `for=` node of a `Forwarded` element (`for=192.0.2.60;proto=http;by=203.0.113.43`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address out of a node: `192.0.2.60`, `192.0.2.60:4711`, `[2001:db8::17]:4711`,
/// `2001:db8::17`; `None` for anything else.
fn parse_node(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .or_else(|_| node.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| {
            let inner = node.strip_prefix('[')?.split(']').next()?;
            inner.parse().ok()
        })
}

/// The client's address of a request: as the envelope resolved it, or the connection's peer
/// (requests served without the envelope), or the unspecified address.
pub fn of(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ClientAddr>()
        .map(|ClientAddr(address)| *address)
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip())
        })
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(networks: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies {
            networks: networks.iter().map(|n| n.parse().unwrap()).collect(),
            header,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let forged = headers(&[("x-forwarded-for", "192.0.2.9")]);
        assert_eq!(
            trusted.client(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        let nobody = proxies(&[], ForwardedHeader::XForwardedFor);
        assert_eq!(nobody.client(ip("10.0.0.1"), &forged), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(
            &["10.0.0.0/8", "127.0.0.1/32"],
            ForwardedHeader::XForwardedFor,
        );
        // The client forged the left-most entry; the proxies appended the real one.
        let chain = headers(&[("x-forwarded-for", "203.0.113.66, 192.0.2.9, 10.1.2.3")]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &chain), ip("192.0.2.9"));
        // Split over two header lines, and an IPv4-mapped peer.
        let split = headers(&[
            ("x-forwarded-for", "203.0.113.66"),
            ("x-forwarded-for", "192.0.2.9"),
        ]);
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.5"), &split),
            ip("192.0.2.9")
        );
        // Every hop trusted: the left-most is as far as we can see.
        let inside = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.2.3")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &inside), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // Garbage stops the walk at the last hop a trusted proxy vouched for.
        let garbage = headers(&[("x-forwarded-for", "192.0.2.9, unknown, 10.1.2.3")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &garbage), ip("10.1.2.3"));
    }

    #[test]
    fn forwarded_nodes_with_ports_quotes_and_brackets() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let chain = headers(&[(
            "forwarded",
            r#"for=203.0.113.66, For="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2:80;by=10.0.0.1"#,
        )]);
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &chain),
            ip("2001:db8:cafe::17")
        );
        // The X-Forwarded-For of a client is not read when the proxies write Forwarded.
        let other = headers(&[("x-forwarded-for", "192.0.2.9")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &other), ip("10.0.0.1"));
    }
}
