//! Record planning: a pure function from what the clusters of an account report for one host
//! to the record sets that host should have.
//!
//! Routed plans (Route53, and `none`): at the host, one latency CNAME per region (set
//! identifier = region) leading to `<region>._flotilla.<host>`, and there one weighted set per
//! cluster (set identifier = cluster): A and/or AAAA for addresses, CNAME for a hostname.
//! Plain plans (PowerDNS, which has no latency or weighted routing): the host answers with all
//! the served addresses as one set, or with one hostname. Both carry a TXT marker at
//! `_flotilla.<host>` naming the owner, so records Flotilla wrote are recognisable in the zone.
//!
//! An endpoint is served while it is healthy and its cluster is `ready`. When none of a
//! host's endpoints is served, the plan fails open: it serves all of them (as Route53 does
//! when every health check fails), because an empty answer would be cached by resolvers for
//! the zone's negative TTL and outlast the outage. A host with no endpoints at all (all
//! deleted, or their clusters deregistered) has no records.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::hosts::{Host, Targets};
use crate::records::{fqdn, txt, RecordData, RecordKey, RecordSet, RecordType};

/// TTL of the ownership marker, which never changes while the host exists.
pub const MARKER_TTL: i64 = 300;

/// Regions Route53 accepts for latency records (`ResourceRecordSetRegion`).
pub const LATENCY_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// How a provider can route: with latency and weights, or plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Latency records per region, weighted records per cluster (Route53).
    Routed,
    /// One record set per host (PowerDNS).
    Plain,
}

/// One cluster's endpoint for the host, with what the plan needs to know of its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The cluster's name.
    pub cluster: String,
    /// The cluster's `region` label.
    pub region: Option<String>,
    /// 0-255.
    pub weight: i64,
    /// Healthy by its agent's last report, and its cluster `ready`.
    pub serving: bool,
    /// What it serves.
    pub targets: Targets,
}

/// An endpoint the plan leaves out although it could be served, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The endpoint's cluster.
    pub cluster: String,
    /// Why.
    pub reason: String,
}

/// The plan for one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The record sets the host should have, sorted by key.
    pub sets: Vec<RecordSet>,
    /// Endpoints left out, with the reason.
    pub left_out: Vec<LeftOut>,
}

/// The marker's text for an account's host.
pub fn marker_text(account: &str) -> String {
    format!("heritage=flotilla,account={account}")
}

/// The account a marker's TXT value (as the zone holds it, quoted) names, if it is one.
pub fn marker_account(value: &str) -> Option<&str> {
    value
        .strip_prefix('"')?
        .strip_suffix('"')?
        .strip_prefix("heritage=flotilla,account=")
}

/// Plans `host` of `account` from its `endpoints`.
pub fn plan(
    account: &str,
    host: &Host,
    flavour: Flavour,
    ttl: i64,
    endpoints: &[Endpoint],
) -> Plan {
    let mut out = Plan::default();
    let serving: Vec<&Endpoint> = endpoints.iter().filter(|e| e.serving).collect();
    // Fail open: with nothing serving, every endpoint is served rather than none.
    let candidates = if serving.is_empty() {
        endpoints.iter().collect()
    } else {
        serving
    };
    match flavour {
        Flavour::Routed => routed(host, ttl, &candidates, &mut out),
        Flavour::Plain => plain(host, ttl, &candidates, &mut out),
    }
    if !out.sets.is_empty() {
        out.sets.push(set(
            host.marker_name(),
            RecordType::TXT,
            "",
            MARKER_TTL,
            vec![txt(&marker_text(account))],
        ));
    }
    out.sets.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn routed(host: &Host, ttl: i64, candidates: &[&Endpoint], out: &mut Plan) {
    let mut regions: BTreeMap<&str, Vec<&Endpoint>> = BTreeMap::new();
    for e in candidates {
        match e.region.as_deref() {
            Some(r) if LATENCY_REGIONS.contains(&r) => regions.entry(r).or_default().push(e),
            Some(r) => out.left_out.push(LeftOut {
                cluster: e.cluster.clone(),
                reason: format!(
                    "region label {r:?} is not an AWS region Route53 routes by latency"
                ),
            }),
            None => out.left_out.push(LeftOut {
                cluster: e.cluster.clone(),
                reason: "the cluster has no region label".into(),
            }),
        }
    }
    for (region, endpoints) in regions {
        // One regional name cannot hold both a CNAME and addresses: addresses win.
        let any_addresses = endpoints
            .iter()
            .any(|e| matches!(e.targets, Targets::Addresses(_)));
        let regional = host.regional_name(region);
        for e in endpoints {
            let weight = Some(e.weight);
            match &e.targets {
                Targets::Addresses(list) => {
                    for (rtype, values) in split_families(list) {
                        let mut s = set(regional.clone(), rtype, &e.cluster, ttl, values);
                        s.data.weight = weight;
                        out.sets.push(s);
                    }
                }
                Targets::Hostname(_) if any_addresses => out.left_out.push(LeftOut {
                    cluster: e.cluster.clone(),
                    reason: format!(
                        "region {region} is served by addresses; a hostname target cannot share \
                         its name with them"
                    ),
                }),
                Targets::Hostname(name) => {
                    let mut s = set(
                        regional.clone(),
                        RecordType::CNAME,
                        &e.cluster,
                        ttl,
                        vec![fqdn(name)],
                    );
                    s.data.weight = weight;
                    out.sets.push(s);
                }
            }
        }
        let mut latency = set(host.fqdn(), RecordType::CNAME, region, ttl, vec![regional]);
        latency.data.region = Some(region.to_owned());
        out.sets.push(latency);
    }
}

fn plain(host: &Host, ttl: i64, candidates: &[&Endpoint], out: &mut Plan) {
    // Weight 0 means "only when nothing else is there", as in Route53.
    let weighted: Vec<&Endpoint> = candidates
        .iter()
        .copied()
        .filter(|e| e.weight > 0)
        .collect();
    let candidates = if weighted.is_empty() {
        candidates.to_vec()
    } else {
        weighted
    };
    let mut addresses: Vec<IpAddr> = candidates
        .iter()
        .filter_map(|e| match &e.targets {
            Targets::Addresses(list) => Some(list.iter().copied()),
            Targets::Hostname(_) => None,
        })
        .flatten()
        .collect();
    addresses.sort();
    addresses.dedup();
    if !addresses.is_empty() {
        for (rtype, values) in split_families(&addresses) {
            out.sets.push(set(host.fqdn(), rtype, "", ttl, values));
        }
        for e in candidates
            .iter()
            .filter(|e| matches!(e.targets, Targets::Hostname(_)))
        {
            out.left_out.push(LeftOut {
                cluster: e.cluster.clone(),
                reason: "the host is served by addresses; a hostname target cannot share its name with them".into(),
            });
        }
        return;
    }
    // Only hostnames: a CNAME holds one, so the heaviest wins (then the first cluster by name).
    let mut hostnames: Vec<&Endpoint> = candidates.to_vec();
    hostnames.sort_by(|a, b| {
        b.weight
            .cmp(&a.weight)
            .then_with(|| a.cluster.cmp(&b.cluster))
    });
    if let Some((first, rest)) = hostnames.split_first() {
        if let Targets::Hostname(name) = &first.targets {
            out.sets.push(set(
                host.fqdn(),
                RecordType::CNAME,
                "",
                ttl,
                vec![fqdn(name)],
            ));
        }
        for e in rest {
            out.left_out.push(LeftOut {
                cluster: e.cluster.clone(),
                reason: format!(
                    "a CNAME holds one hostname; cluster {}'s is served",
                    first.cluster
                ),
            });
        }
    }
}

/// Addresses split into an A set and an AAAA set (either may be absent).
fn split_families(list: &[IpAddr]) -> Vec<(RecordType, Vec<String>)> {
    let v4: Vec<String> = list
        .iter()
        .filter(|a| a.is_ipv4())
        .map(IpAddr::to_string)
        .collect();
    let v6: Vec<String> = list
        .iter()
        .filter(|a| a.is_ipv6())
        .map(IpAddr::to_string)
        .collect();
    [(RecordType::A, v4), (RecordType::AAAA, v6)]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .collect()
}

fn set(name: String, rtype: RecordType, set_id: &str, ttl: i64, values: Vec<String>) -> RecordSet {
    RecordSet {
        key: RecordKey {
            name,
            rtype: rtype.as_str().to_owned(),
            set_id: set_id.to_owned(),
        },
        data: RecordData {
            ttl,
            values,
            region: None,
            weight: None,
        },
    }
}

#[cfg(test)]
mod tests;
