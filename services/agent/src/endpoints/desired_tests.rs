//! The pure decisions of `desired`: which objects count, what they report, and what their
//! Events say.

use super::*;
use serde_json::{json, Value};

const ZONE: &str = "acme.flotilla.example.com";

fn ingress(name: &str, hosts: &[&str], lb: Value, backends: &[&str]) -> Arc<Ingress> {
    let rules: Vec<Value> = hosts
        .iter()
        .map(|h| {
            json!({"host": h, "http": {"paths": backends.iter().map(|b| json!({
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": b, "port": {"number": 80}}}
            })).collect::<Vec<_>>()}})
        })
        .collect();
    Arc::new(
        serde_json::from_value(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "web", "uid": format!("uid-{name}")},
            "spec": {"rules": rules},
            "status": {"loadBalancer": {"ingress": lb}},
        }))
        .expect("an Ingress"),
    )
}

fn annotated(object: Arc<Ingress>, key: &str, value: &str) -> Arc<Ingress> {
    let mut object = (*object).clone();
    object
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(key.into(), value.into());
    Arc::new(object)
}

fn service(name: &str, kind: &str, annotations: Value, lb: Value) -> Arc<Service> {
    Arc::new(
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "web", "annotations": annotations},
            "spec": {"type": kind},
            "status": {"loadBalancer": {"ingress": lb}},
        }))
        .expect("a Service"),
    )
}

fn slice(service: &str, ready: &[Option<bool>]) -> Arc<EndpointSlice> {
    let endpoints: Vec<Value> = ready
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut e = json!({"addresses": [format!("10.0.0.{i}")]});
            if let Some(r) = r {
                e["conditions"] = json!({"ready": r});
            }
            e
        })
        .collect();
    Arc::new(
        serde_json::from_value(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": format!("{service}-abc"), "namespace": "web",
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4",
            "endpoints": endpoints,
        }))
        .expect("an EndpointSlice"),
    )
}

fn run(
    ingresses: &[Arc<Ingress>],
    services: &[Arc<Service>],
    slices: &[Arc<EndpointSlice>],
) -> Desired {
    desired(&Observed {
        zone: ZONE,
        ingresses,
        services,
        slices,
    })
}

fn wanted(targets: &[&str], weight: i64, healthy: bool) -> Wanted {
    Wanted {
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        weight,
        healthy,
    }
}

fn reasons(d: &Desired, name: &str) -> Vec<&'static str> {
    d.decisions
        .iter()
        .find(|d| d.source.name == name)
        .map(|d| d.notes.iter().map(|n| n.reason).collect())
        .unwrap_or_default()
}

fn message(d: &Desired, name: &str, reason: &str) -> String {
    d.decisions
        .iter()
        .find(|d| d.source.name == name)
        .and_then(|d| d.notes.iter().find(|n| n.reason == reason))
        .map(|n| n.message.clone())
        .unwrap_or_else(|| panic!("no {reason} note for {name}: {d:?}"))
}

#[test]
fn an_ingress_with_an_address_and_a_ready_backend_is_reported_healthy() {
    let www = format!("www.{ZONE}");
    let d = run(
        &[ingress(
            "www",
            &[&www],
            json!([{"ip": "192.0.2.10"}, {"ip": "2001:db8::10"}]),
            &["web"],
        )],
        &[],
        &[slice("web", &[None, Some(false)])],
    );
    assert_eq!(
        d.endpoints,
        BTreeMap::from([(
            www.clone(),
            wanted(&["192.0.2.10", "2001:db8::10"], 1, true)
        )])
    );
    assert_eq!(reasons(&d, "www"), ["Reported"]);
    assert_eq!(
        message(&d, "www", "Reported"),
        format!("reported to Flotilla as {www} → 192.0.2.10, 2001:db8::10 (healthy, weight 1)")
    );
    assert_eq!(d.decisions[0].source.uid.as_deref(), Some("uid-www"));
}

#[test]
fn no_load_balancer_address_means_nothing_reported_yet() {
    let d = run(
        &[ingress(
            "www",
            &[&format!("www.{ZONE}")],
            json!([]),
            &["web"],
        )],
        &[],
        &[],
    );
    assert!(d.endpoints.is_empty());
    assert_eq!(reasons(&d, "www"), ["WaitingForAddress"]);
}

#[test]
fn backends_without_a_ready_endpoint_report_unhealthy_naming_them() {
    let host = format!("shop.{ZONE}");
    let d = run(
        &[ingress(
            "shop",
            &[&host],
            json!([{"ip": "192.0.2.1"}]),
            &["cart", "front"],
        )],
        &[],
        &[slice("cart", &[Some(false)])],
    );
    assert_eq!(d.endpoints[&host], wanted(&["192.0.2.1"], 1, false));
    assert!(
        message(&d, "shop", "BackendsNotReady")
            .ends_with("no ready endpoint behind Services cart, front"),
        "{d:?}"
    );
    // One ready endpoint behind any backend is enough.
    let d = run(
        &[ingress(
            "shop",
            &[&host],
            json!([{"ip": "192.0.2.1"}]),
            &["cart", "front"],
        )],
        &[],
        &[slice("cart", &[Some(false)]), slice("front", &[Some(true)])],
    );
    assert!(d.endpoints[&host].healthy);
}

#[test]
fn hosts_outside_the_zone_and_wildcards_are_refused_with_a_warning_the_rest_reported() {
    let inside = format!("api.{ZONE}");
    let d = run(
        &[ingress(
            "mixed",
            &[
                &inside,
                "api.example.org",
                "*.acme.flotilla.example.com",
                &format!("bad_label.{ZONE}"),
            ],
            json!([{"ip": "192.0.2.7"}]),
            &[],
        )],
        &[],
        &[],
    );
    assert_eq!(d.endpoints.keys().collect::<Vec<_>>(), [&inside]);
    assert_eq!(
        reasons(&d, "mixed"),
        ["Reported", "InvalidHost", "InvalidHost", "OutsideZone"]
    );
    assert_eq!(
        message(&d, "mixed", "OutsideZone"),
        format!(
            "not reported to Flotilla: host api.example.org is outside the account's zone {ZONE}"
        )
    );
    // An Ingress naming no host of the zone at all is only a warning.
    let d = run(
        &[ingress(
            "other",
            &["www.example.org"],
            json!([{"ip": "192.0.2.7"}]),
            &[],
        )],
        &[],
        &[],
    );
    assert!(d.endpoints.is_empty());
    assert_eq!(reasons(&d, "other"), ["OutsideZone"]);
}

#[test]
fn a_weight_annotation_sets_the_weight_and_a_bad_one_skips_the_object() {
    let host = format!("w.{ZONE}");
    let base = ingress("w", &[&host], json!([{"ip": "192.0.2.3"}]), &[]);
    let d = run(&[annotated(base.clone(), WEIGHT_ANNOTATION, "7")], &[], &[]);
    assert_eq!(d.endpoints[&host].weight, 7);
    for bad in ["heavy", "256", "-1", "1.5"] {
        let d = run(&[annotated(base.clone(), WEIGHT_ANNOTATION, bad)], &[], &[]);
        assert!(d.endpoints.is_empty(), "{bad}");
        assert_eq!(reasons(&d, "w"), ["InvalidAnnotation"], "{bad}");
        assert!(message(&d, "w", "InvalidAnnotation").contains(&format!("{bad:?}")));
    }
}

#[test]
fn annotated_load_balancer_services_count_like_ingresses() {
    let a = format!("a.{ZONE}");
    let b = format!("b.{ZONE}");
    let lb = service(
        "edge",
        "LoadBalancer",
        json!({HOSTNAME_ANNOTATION: format!("{a}, {b}"), WEIGHT_ANNOTATION: "3"}),
        json!([{"hostname": "lb-1.elb.example.net"}]),
    );
    let plain = service(
        "internal",
        "ClusterIP",
        json!({HOSTNAME_ANNOTATION: format!("c.{ZONE}")}),
        json!([]),
    );
    let d = run(&[], &[lb, plain], &[slice("edge", &[Some(true)])]);
    assert_eq!(d.endpoints[&a], wanted(&["lb-1.elb.example.net"], 3, true));
    assert_eq!(d.endpoints[&b], wanted(&["lb-1.elb.example.net"], 3, true));
    assert_eq!(reasons(&d, "internal"), ["InvalidAnnotation"]);
    // A Service without its own ready endpoint is unhealthy.
    let lb = service(
        "edge",
        "LoadBalancer",
        json!({HOSTNAME_ANNOTATION: a.clone()}),
        json!([{"ip": "192.0.2.9"}]),
    );
    let d = run(&[], &[lb], &[]);
    assert!(!d.endpoints[&a].healthy);
}

#[test]
fn objects_sharing_a_host_merge_their_healthy_addresses() {
    let host = format!("www.{ZONE}");
    let up = ingress("up", &[&host], json!([{"ip": "192.0.2.1"}]), &["ok"]);
    let down = annotated(
        ingress("down", &[&host], json!([{"ip": "192.0.2.2"}]), &["broken"]),
        WEIGHT_ANNOTATION,
        "9",
    );
    let d = run(&[up, down.clone()], &[], &[slice("ok", &[None])]);
    assert_eq!(d.endpoints[&host], wanted(&["192.0.2.1"], 9, true));
    // When none is healthy, all addresses stay, reported unhealthy.
    let d = run(
        &[
            ingress("up", &[&host], json!([{"ip": "192.0.2.1"}]), &["gone"]),
            down,
        ],
        &[],
        &[],
    );
    assert_eq!(
        d.endpoints[&host],
        wanted(&["192.0.2.1", "192.0.2.2"], 9, false)
    );
}

#[test]
fn only_addresses_the_server_accepts_are_proposed() {
    let host = format!("x.{ZONE}");
    let d = run(
        &[ingress(
            "x",
            &[&host],
            json!([{"ip": "0.0.0.0"}, {"ip": "224.0.0.1"}, {"ip": "192.0.2.4"}, {"hostname": "lb.example.net"}]),
            &[],
        )],
        &[],
        &[],
    );
    assert_eq!(d.endpoints[&host].targets, ["192.0.2.4"]);
    let d = run(
        &[ingress("y", &[&host], json!([{"ip": "0.0.0.0"}]), &[])],
        &[],
        &[],
    );
    assert!(d.endpoints.is_empty());
    assert_eq!(reasons(&d, "y"), ["WaitingForAddress"]);
}

#[test]
fn objects_that_name_no_host_are_not_flotillas_business() {
    let d = run(
        &[ingress("nohost", &[], json!([{"ip": "192.0.2.1"}]), &[])],
        &[service(
            "plain",
            "LoadBalancer",
            json!({}),
            json!([{"ip": "192.0.2.2"}]),
        )],
        &[],
    );
    assert_eq!(d, Desired::default());
}

#[test]
fn hosts_beyond_the_thousand_flotilla_holds_are_refused_with_a_warning() {
    let ingresses: Vec<Arc<Ingress>> = (0..=MAX_ENDPOINTS)
        .map(|i| {
            ingress(
                &format!("i-{i:04}"),
                &[&format!("h-{i:04}.{ZONE}")],
                json!([{"ip": "192.0.2.1"}]),
                &[],
            )
        })
        .collect();
    let d = run(&ingresses, &[], &[]);
    assert_eq!(d.endpoints.len(), MAX_ENDPOINTS);
    assert!(!d.endpoints.contains_key(&format!("h-1000.{ZONE}")));
    assert_eq!(reasons(&d, "i-1000"), ["TooManyHosts"]);
    assert!(
        message(&d, "i-1000", "TooManyHosts").contains(&format!("host h-1000.{ZONE} beyond")),
        "{d:?}"
    );
    assert_eq!(reasons(&d, "i-0999"), ["Reported"]);
}
