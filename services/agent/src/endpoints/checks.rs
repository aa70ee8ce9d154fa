//! What Flotilla accepts, checked before anything is proposed, so that one odd object never
//! makes a whole set refused: hosts in the account's zone made of DNS labels, addresses a
//! public answer can hold, weights from 0 to 255.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::config::is_dns_label;

/// Longest host the server accepts.
const MAX_HOST_LEN: usize = 200;
/// Most targets of one endpoint the server accepts.
pub const MAX_TARGETS: usize = 32;

/// Why a host is not reported.
pub enum HostProblem {
    /// Not in the account's zone.
    OutsideZone,
    /// Not a name the server accepts, and why.
    Invalid(&'static str),
}

/// The host as reported (lower case, no trailing dot), if it lies in `zone` and the server
/// would accept it.
pub fn check_host(host: &str, zone: &str) -> Result<String, HostProblem> {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.starts_with("*.") {
        return Err(HostProblem::Invalid(
            "is a wildcard; Flotilla reports exact names only",
        ));
    }
    if host != zone && !host.ends_with(&format!(".{zone}")) {
        return Err(HostProblem::OutsideZone);
    }
    if host.len() > MAX_HOST_LEN {
        return Err(HostProblem::Invalid("is longer than 200 characters"));
    }
    if !host.split('.').all(is_dns_label) {
        return Err(HostProblem::Invalid(
            "has a label that is not a DNS label (a-z, 0-9, '-')",
        ));
    }
    Ok(host)
}

/// A weight annotation's value.
pub fn parse_weight(value: &str) -> Result<i64, &str> {
    match value.trim().parse::<i64>() {
        Ok(w) if (0..=255).contains(&w) => Ok(w),
        _ => Err(value),
    }
}

/// The targets of a load balancer's ingress points: its usable addresses, sorted, or its
/// first hostname; why there are none.
pub fn targets(points: Vec<(Option<String>, Option<String>)>) -> Result<Vec<String>, String> {
    if points.is_empty() {
        return Err("the load balancer has no address yet".into());
    }
    let mut addresses: BTreeSet<IpAddr> = BTreeSet::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (ip, hostname) in points {
        if let Some(ip) = ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
            if usable(ip) {
                addresses.insert(ip);
            }
        } else if let Some(name) = hostname {
            let name = name.strip_suffix('.').unwrap_or(&name).to_ascii_lowercase();
            if name.contains('.') && name.split('.').all(|l| !l.is_empty() && l.len() <= 63) {
                names.insert(name);
            }
        }
    }
    if !addresses.is_empty() {
        return Ok(addresses
            .iter()
            .take(MAX_TARGETS)
            .map(IpAddr::to_string)
            .collect());
    }
    names
        .into_iter()
        .next()
        .map(|n| vec![n])
        .ok_or_else(|| "the load balancer has no usable address".into())
}

/// A load balancer's ingress points (an Ingress's and a Service's are distinct types of the
/// same shape), as (ip, hostname) pairs.
pub fn points<'a>(
    list: impl Iterator<Item = (&'a Option<String>, &'a Option<String>)>,
) -> Vec<(Option<String>, Option<String>)> {
    list.map(|(ip, hostname)| (ip.clone(), hostname.clone()))
        .collect()
}

/// Whether a public answer can hold `ip` (the server refuses the others).
pub fn usable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_broadcast() || a.is_multicast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
    }
}
