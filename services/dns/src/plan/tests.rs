use super::*;

fn host() -> Host {
    Host::parse("www.acme.flotilla.test", "acme", "flotilla.test").unwrap()
}

fn endpoint(
    cluster: &str,
    region: Option<&str>,
    targets: &[&str],
    weight: i64,
    serving: bool,
) -> Endpoint {
    let targets: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
    Endpoint {
        cluster: cluster.into(),
        region: region.map(Into::into),
        weight,
        serving,
        targets: Targets::parse(&targets, &host()).unwrap(),
    }
}

/// The plan as `name type set_id ttl [region|weight] values` lines, for readable assertions.
fn lines(plan: &Plan) -> Vec<String> {
    plan.sets
        .iter()
        .map(|s| {
            let routing = match (&s.data.region, s.data.weight) {
                (Some(r), _) => format!(" region={r}"),
                (None, Some(w)) => format!(" weight={w}"),
                _ => String::new(),
            };
            format!(
                "{} {} {} {}{} {}",
                s.key.name,
                s.key.rtype,
                if s.key.set_id.is_empty() {
                    "-"
                } else {
                    &s.key.set_id
                },
                s.data.ttl,
                routing,
                s.data.values.join(",")
            )
        })
        .collect()
}

#[test]
fn routed_plan_has_a_latency_record_per_region_and_a_weighted_record_per_cluster() {
    let plan = plan(
        "acme",
        &host(),
        Flavour::Routed,
        1,
        &[
            endpoint(
                "use1-a",
                Some("us-east-1"),
                &["192.0.2.1", "2001:db8::1"],
                2,
                true,
            ),
            endpoint("use1-b", Some("us-east-1"), &["192.0.2.2"], 1, true),
            endpoint("euw1", Some("eu-west-1"), &["198.51.100.1"], 1, true),
        ],
    );
    assert_eq!(
        lines(&plan),
        [
            "_flotilla.www.acme.flotilla.test. TXT - 300 \"heritage=flotilla,account=acme\"",
            "eu-west-1._flotilla.www.acme.flotilla.test. A euw1 1 weight=1 198.51.100.1",
            "us-east-1._flotilla.www.acme.flotilla.test. A use1-a 1 weight=2 192.0.2.1",
            "us-east-1._flotilla.www.acme.flotilla.test. A use1-b 1 weight=1 192.0.2.2",
            "us-east-1._flotilla.www.acme.flotilla.test. AAAA use1-a 1 weight=2 2001:db8::1",
            "www.acme.flotilla.test. CNAME eu-west-1 1 region=eu-west-1 eu-west-1._flotilla.www.acme.flotilla.test.",
            "www.acme.flotilla.test. CNAME us-east-1 1 region=us-east-1 us-east-1._flotilla.www.acme.flotilla.test.",
        ]
    );
    assert!(plan.left_out.is_empty());
}

#[test]
fn an_endpoint_that_stops_serving_leaves_and_its_region_goes_when_empty() {
    let eps = [
        endpoint("use1", Some("us-east-1"), &["192.0.2.1"], 1, true),
        endpoint("euw1", Some("eu-west-1"), &["198.51.100.1"], 1, false),
    ];
    let plan = plan("acme", &host(), Flavour::Routed, 1, &eps);
    let lines = lines(&plan);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines.iter().all(|l| !l.contains("eu-west-1")), "{lines:#?}");
}

#[test]
fn with_nothing_serving_the_plan_fails_open_and_without_endpoints_it_is_empty() {
    let down = [
        endpoint("use1", Some("us-east-1"), &["192.0.2.1"], 1, false),
        endpoint("euw1", Some("eu-west-1"), &["198.51.100.1"], 1, false),
    ];
    let all_down = plan("acme", &host(), Flavour::Routed, 1, &down);
    assert_eq!(
        lines(&all_down).len(),
        5,
        "both regions and both clusters stay"
    );
    assert_eq!(
        plan("acme", &host(), Flavour::Routed, 1, &[]),
        Plan::default()
    );
    assert_eq!(
        plan("acme", &host(), Flavour::Plain, 1, &[]),
        Plan::default()
    );
}

#[test]
fn clusters_without_a_latency_region_are_left_out_with_the_reason() {
    let plan = plan(
        "acme",
        &host(),
        Flavour::Routed,
        1,
        &[
            endpoint("nowhere", None, &["192.0.2.1"], 1, true),
            endpoint("onprem", Some("dc-1"), &["192.0.2.2"], 1, true),
        ],
    );
    assert!(
        plan.sets.is_empty(),
        "no region, no records: not even the marker"
    );
    assert_eq!(plan.left_out.len(), 2);
    assert!(plan.left_out[0].reason.contains("no region label"));
    assert!(plan.left_out[1].reason.contains("\"dc-1\""));
}

#[test]
fn hostnames_get_weighted_cnames_unless_their_region_serves_addresses() {
    let plan = plan(
        "acme",
        &host(),
        Flavour::Routed,
        5,
        &[
            endpoint(
                "alb",
                Some("us-east-1"),
                &["lb-1.us-east-1.elb.amazonaws.com"],
                1,
                true,
            ),
            endpoint("ip", Some("us-east-1"), &["192.0.2.1"], 1, true),
            endpoint(
                "alb-eu",
                Some("eu-west-1"),
                &["lb-2.eu-west-1.elb.amazonaws.com"],
                3,
                true,
            ),
        ],
    );
    let lines = lines(&plan);
    assert!(lines.contains(&"eu-west-1._flotilla.www.acme.flotilla.test. CNAME alb-eu 5 weight=3 lb-2.eu-west-1.elb.amazonaws.com.".to_string()), "{lines:#?}");
    assert!(lines.iter().all(|l| !l.contains("lb-1")), "{lines:#?}");
    assert_eq!(plan.left_out.len(), 1);
    assert_eq!(plan.left_out[0].cluster, "alb");
}

#[test]
fn plain_plan_serves_every_address_of_the_host_as_one_set() {
    let plan = plan(
        "acme",
        &host(),
        Flavour::Plain,
        1,
        &[
            endpoint(
                "a",
                Some("us-east-1"),
                &["192.0.2.2", "2001:db8::2"],
                1,
                true,
            ),
            endpoint("b", Some("eu-west-1"), &["192.0.2.1"], 1, true),
            endpoint("c", None, &["192.0.2.9"], 1, false),
            endpoint("zero", None, &["192.0.2.8"], 0, true),
        ],
    );
    assert_eq!(
        lines(&plan),
        [
            "_flotilla.www.acme.flotilla.test. TXT - 300 \"heritage=flotilla,account=acme\"",
            "www.acme.flotilla.test. A - 1 192.0.2.1,192.0.2.2",
            "www.acme.flotilla.test. AAAA - 1 2001:db8::2",
        ]
    );
}

#[test]
fn plain_plan_serves_the_heaviest_hostname() {
    let plan = plan(
        "acme",
        &host(),
        Flavour::Plain,
        1,
        &[
            endpoint("a", None, &["a.example.com"], 1, true),
            endpoint("b", None, &["b.example.com"], 7, true),
        ],
    );
    assert!(lines(&plan).contains(&"www.acme.flotilla.test. CNAME - 1 b.example.com.".to_string()));
    assert_eq!(plan.left_out.len(), 1);
    assert!(plan.left_out[0].reason.contains("cluster b's is served"));
}

#[test]
fn the_plan_is_a_function_of_its_inputs_alone() {
    let eps = [
        endpoint("b", Some("us-east-1"), &["192.0.2.2"], 1, true),
        endpoint("a", Some("us-east-1"), &["192.0.2.1"], 1, true),
    ];
    let mut reversed = eps.clone();
    reversed.reverse();
    assert_eq!(
        plan("acme", &host(), Flavour::Routed, 1, &eps),
        plan("acme", &host(), Flavour::Routed, 1, &reversed)
    );
}

#[test]
fn the_marker_names_its_account() {
    let plan = plan(
        "acme",
        &host(),
        Flavour::Plain,
        1,
        &[endpoint("a", None, &["192.0.2.1"], 1, true)],
    );
    let marker = plan
        .sets
        .iter()
        .find(|s| s.key.rtype == "TXT")
        .expect("a marker");
    assert_eq!(marker_account(&marker.data.values[0]), Some("acme"));
    assert_eq!(marker_account("\"v=spf1 -all\""), None);
}
