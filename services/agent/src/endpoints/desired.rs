//! What the cluster should report, as a pure function of what the watches hold: each
//! Ingress whose rule hosts lie in the account's zone, and each Service of type LoadBalancer
//! annotated `flotilla.io/hostname`, contributes its load balancer's addresses (or hostname)
//! to its hosts, healthy while a backend Service has a ready endpoint. Every source object
//! gets a decision that says what became of it (what its Events say).
//!
//! Only what the server accepts is ever proposed, so that one odd object can never make the
//! whole set refused: hosts are checked against the zone and DNS label rules, addresses
//! against what a public answer can hold, weights against 0-255.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt;

use super::backends::{ingress_backends, Health, ReadyBackends};
use super::checks::{check_host, parse_weight, points, targets, HostProblem, MAX_TARGETS};
use super::{Decision, Note, Source, Wanted};

/// Annotation naming the hosts of a Service of type LoadBalancer (comma-separated).
pub const HOSTNAME_ANNOTATION: &str = "flotilla.io/hostname";
/// Annotation setting the weight of an Ingress's or Service's endpoints (0-255).
pub const WEIGHT_ANNOTATION: &str = "flotilla.io/weight";
/// Most endpoints of one set the server accepts.
pub const MAX_ENDPOINTS: usize = 1000;

/// What the watches hold.
pub struct Observed<'a> {
    /// The account's zone, `<account>.<base-domain>`.
    pub zone: &'a str,
    /// Every Ingress.
    pub ingresses: &'a [Arc<Ingress>],
    /// Every Service.
    pub services: &'a [Arc<Service>],
    /// Every EndpointSlice.
    pub slices: &'a [Arc<EndpointSlice>],
}

/// The endpoints the cluster should report, by host, and what became of each source.
#[derive(Debug, Default, PartialEq)]
pub struct Desired {
    /// By host.
    pub endpoints: BTreeMap<String, Wanted>,
    /// One per source object that names a host (others are not Flotilla's business).
    pub decisions: Vec<Decision>,
}

/// What one source object offers, before hosts are merged.
struct Offer {
    hosts: Vec<String>,
    targets: Vec<String>,
    weight: i64,
    healthy: bool,
}

/// Computes the desired endpoints.
pub fn desired(observed: &Observed<'_>) -> Desired {
    let ready = ReadyBackends::of(observed.services, observed.slices);
    // Each offer with the index of its object's decision.
    let mut offers: Vec<(usize, Offer)> = Vec::new();
    let mut decisions = Vec::new();
    for ingress in observed.ingresses {
        let source = Source::of(ingress.as_ref(), "Ingress");
        let hosts = ingress_hosts(ingress);
        if hosts.is_empty() {
            continue;
        }
        let backends = ingress_backends(ingress);
        let addresses = points(
            ingress
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .map(|i| (&i.ip, &i.hostname)),
        );
        let (offer, decision) = consider(
            source,
            hosts,
            ingress.annotations().get(WEIGHT_ANNOTATION),
            addresses,
            ready.health(&ingress.namespace().unwrap_or_default(), &backends),
            observed.zone,
        );
        offers.extend(offer.map(|o| (decisions.len(), o)));
        decisions.push(decision);
    }
    for service in observed.services {
        let Some(annotation) = service.annotations().get(HOSTNAME_ANNOTATION) else {
            continue;
        };
        let source = Source::of(service.as_ref(), "Service");
        let kind = service
            .spec
            .as_ref()
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".into());
        if kind != "LoadBalancer" {
            decisions.push(Decision {
                source,
                notes: vec![Note::warning(
                    "InvalidAnnotation",
                    format!(
                        "not reported to Flotilla: {HOSTNAME_ANNOTATION} is read only on Services of type LoadBalancer (this one is {kind})"
                    ),
                )],
            });
            continue;
        }
        let hosts: Vec<String> = annotation
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        let addresses = points(
            service
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .map(|i| (&i.ip, &i.hostname)),
        );
        let name = service.name_any();
        let (offer, decision) = consider(
            source,
            hosts,
            service.annotations().get(WEIGHT_ANNOTATION),
            addresses,
            ready.health(&service.namespace().unwrap_or_default(), &[name]),
            observed.zone,
        );
        offers.extend(offer.map(|o| (decisions.len(), o)));
        decisions.push(decision);
    }
    let mut endpoints = merge(&offers);
    if endpoints.len() > MAX_ENDPOINTS {
        let dropped: BTreeSet<String> = endpoints.keys().skip(MAX_ENDPOINTS).cloned().collect();
        endpoints.retain(|host, _| !dropped.contains(host));
        over_the_limit(&offers, &dropped, &mut decisions);
    }
    Desired {
        endpoints,
        decisions,
    }
}

/// Says, on each object offering a host beyond the first [`MAX_ENDPOINTS`] (by name), that
/// it is not reported: Flotilla holds at most that many endpoints for one cluster.
fn over_the_limit(
    offers: &[(usize, Offer)],
    dropped: &BTreeSet<String>,
    decisions: &mut [Decision],
) {
    for (decision, offer) in offers {
        let (out, kept): (Vec<&String>, Vec<&String>) =
            offer.hosts.iter().partition(|h| dropped.contains(*h));
        if out.is_empty() {
            continue;
        }
        let notes = &mut decisions[*decision].notes;
        if kept.is_empty() {
            // Its "reported" note would be untrue.
            notes.retain(|n| !matches!(n.reason, "Reported" | "BackendsNotReady"));
        }
        let out: Vec<&str> = out.into_iter().map(String::as_str).collect();
        notes.push(Note::warning(
            "TooManyHosts",
            format!(
                "not reported to Flotilla: {} {} beyond the cluster's first {MAX_ENDPOINTS} hosts (by name), the most Flotilla holds for one cluster",
                if out.len() == 1 { "host" } else { "hosts" },
                out.join(", ")
            ),
        ));
    }
}

/// An object's hosts, annotation, addresses and health: what it offers, and its decision.
fn consider(
    source: Source,
    hosts: Vec<String>,
    weight: Option<&String>,
    addresses: Vec<(Option<String>, Option<String>)>,
    health: Health,
    zone: &str,
) -> (Option<Offer>, Decision) {
    let mut notes = Vec::new();
    let mut kept = Vec::new();
    let mut outside = Vec::new();
    for host in hosts {
        match check_host(&host, zone) {
            Ok(h) => kept.push(h),
            Err(HostProblem::OutsideZone) => outside.push(host),
            Err(HostProblem::Invalid(why)) => notes.push(Note::warning(
                "InvalidHost",
                format!("not reported to Flotilla: host {host:?} {why}"),
            )),
        }
    }
    kept.sort();
    kept.dedup();
    if !outside.is_empty() {
        notes.push(Note::warning(
            "OutsideZone",
            format!(
                "not reported to Flotilla: {} outside the account's zone {zone}",
                describe_hosts(&outside)
            ),
        ));
    }
    let weight = match weight.map(|w| parse_weight(w)) {
        None => 1,
        Some(Ok(w)) => w,
        Some(Err(bad)) => {
            notes.push(Note::warning(
                "InvalidAnnotation",
                format!(
                    "not reported to Flotilla: {WEIGHT_ANNOTATION} {bad:?} is not a whole number from 0 to 255"
                ),
            ));
            return (None, Decision { source, notes });
        }
    };
    if kept.is_empty() {
        return (None, Decision { source, notes });
    }
    let targets = match targets(addresses) {
        Ok(t) => t,
        Err(why) => {
            notes.push(Note::normal(
                "WaitingForAddress",
                format!("not reported to Flotilla: {why}"),
            ));
            return (None, Decision { source, notes });
        }
    };
    let shown = format!("{} → {}", kept.join(", "), targets.join(", "));
    notes.insert(
        0,
        match &health {
            Health::Ready => Note::normal(
                "Reported",
                format!("reported to Flotilla as {shown} (healthy, weight {weight})"),
            ),
            Health::NoReadyEndpoint(services) => Note::warning(
                "BackendsNotReady",
                format!(
                    "reported to Flotilla as {shown} (unhealthy, weight {weight}): no ready endpoint behind {}",
                    describe_services(services)
                ),
            ),
        },
    );
    let offer = Offer {
        hosts: kept,
        targets,
        weight,
        healthy: matches!(health, Health::Ready),
    };
    (Some(offer), Decision { source, notes })
}

/// One endpoint per host, from every object offering it: the addresses of its healthy
/// offers (of all of them when none is healthy), healthy if any offer is, the highest weight.
fn merge(offers: &[(usize, Offer)]) -> BTreeMap<String, Wanted> {
    let mut by_host: BTreeMap<String, Vec<&Offer>> = BTreeMap::new();
    for (_, offer) in offers {
        for host in &offer.hosts {
            by_host.entry(host.clone()).or_default().push(offer);
        }
    }
    by_host
        .into_iter()
        .filter_map(|(host, offers)| {
            let healthy = offers.iter().any(|o| o.healthy);
            let serving: Vec<&&Offer> = offers.iter().filter(|o| o.healthy || !healthy).collect();
            let mut addresses: BTreeSet<IpAddr> = BTreeSet::new();
            let mut names: BTreeSet<&str> = BTreeSet::new();
            for offer in &serving {
                for target in &offer.targets {
                    match target.parse::<IpAddr>() {
                        Ok(ip) => {
                            addresses.insert(ip);
                        }
                        Err(_) => {
                            names.insert(target);
                        }
                    }
                }
            }
            // A name holds addresses or one CNAME, never both: addresses win.
            let targets: Vec<String> = if addresses.is_empty() {
                names
                    .into_iter()
                    .find(|n| *n != host)
                    .map(str::to_owned)
                    .into_iter()
                    .collect()
            } else {
                addresses
                    .iter()
                    .take(MAX_TARGETS)
                    .map(IpAddr::to_string)
                    .collect()
            };
            if targets.is_empty() {
                return None;
            }
            let weight = offers.iter().map(|o| o.weight).max().unwrap_or(1);
            Some((
                host,
                Wanted {
                    targets,
                    weight,
                    healthy,
                },
            ))
        })
        .collect()
}

/// The hosts of an Ingress's rules, as written.
fn ingress_hosts(ingress: &Ingress) -> Vec<String> {
    let mut hosts: Vec<String> = ingress
        .spec
        .iter()
        .flat_map(|s| s.rules.iter().flatten())
        .filter_map(|r| r.host.clone())
        .filter(|h| !h.is_empty())
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

fn describe_hosts(hosts: &[String]) -> String {
    match hosts {
        [one] => format!("host {one} is"),
        many => format!("hosts {} are", many.join(", ")),
    }
}

fn describe_services(services: &[String]) -> String {
    match services {
        [one] => format!("Service {one}"),
        many => format!("Services {}", many.join(", ")),
    }
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
