use super::*;

fn set(
    name: &str,
    rtype: &str,
    set_id: &str,
    ttl: i64,
    values: &[&str],
    region: Option<&str>,
    weight: Option<i64>,
) -> RecordSet {
    RecordSet {
        key: RecordKey {
            name: name.into(),
            rtype: rtype.into(),
            set_id: set_id.into(),
        },
        data: RecordData {
            ttl,
            values: values.iter().map(|s| s.to_string()).collect(),
            region: region.map(Into::into),
            weight,
        },
    }
}

fn weighted(cluster: &str, ttl: i64, weight: i64) -> RecordSet {
    set(
        "r._flotilla.www.acme.test.",
        "A",
        cluster,
        ttl,
        &["192.0.2.1"],
        None,
        Some(weight),
    )
}

fn latency(region: &str, set_id: &str) -> RecordSet {
    set(
        "www.acme.test.",
        "CNAME",
        set_id,
        1,
        &["r._flotilla.www.acme.test."],
        Some(region),
        None,
    )
}

fn change(action: Action, set: RecordSet) -> Change {
    Change { action, set }
}

fn refused(changes: &[Change], current: &[RecordSet]) -> String {
    check(changes, current).expect_err("Route53 would refuse this batch")
}

#[test]
fn a_planned_batch_passes() {
    let changes = [
        change(Action::Create, latency("us-east-1", "us-east-1")),
        change(Action::Create, latency("eu-west-1", "eu-west-1")),
        change(Action::Create, weighted("a", 1, 1)),
        change(Action::Create, weighted("b", 1, 0)),
        change(
            Action::Create,
            set(
                "_flotilla.www.acme.test.",
                "TXT",
                "",
                300,
                &["\"heritage=flotilla\""],
                None,
                None,
            ),
        ),
    ];
    check(&changes, &[]).unwrap();
}

#[test]
fn latency_sets_need_a_known_region_and_one_per_region() {
    assert!(
        refused(&[change(Action::Create, latency("mars-1", "mars-1"))], &[]).contains("\"mars-1\"")
    );
    let twice = refused(
        &[
            change(Action::Create, latency("us-east-1", "x")),
            change(Action::Create, latency("us-east-1", "y")),
        ],
        &[],
    );
    assert!(twice.contains("two latency sets"), "{twice}");
    // Against what the zone already holds, too.
    assert!(refused(
        &[change(Action::Create, latency("us-east-1", "y"))],
        &[latency("us-east-1", "x")]
    )
    .contains("two latency sets"));
}

#[test]
fn weighted_groups_share_a_ttl_and_weights_stay_in_range() {
    let current = [weighted("a", 1, 1)];
    assert!(
        refused(&[change(Action::Create, weighted("b", 5, 1))], &current).contains("share one TTL")
    );
    check(
        &[
            change(Action::Upsert, weighted("a", 5, 1)),
            change(Action::Create, weighted("b", 5, 1)),
        ],
        &current,
    )
    .unwrap();
    assert!(
        refused(&[change(Action::Create, weighted("b", 1, 256))], &[]).contains("outside 0-255")
    );
    assert!(
        refused(&[change(Action::Create, weighted("b", 1, -1))], &[]).contains("outside 0-255")
    );
}

#[test]
fn set_identifiers_are_1_to_128_characters() {
    assert!(refused(
        &[change(Action::Create, weighted(&"c".repeat(129), 1, 1))],
        &[]
    )
    .contains("1-128"));
    check(
        &[change(Action::Create, weighted(&"c".repeat(128), 1, 1))],
        &[],
    )
    .unwrap();
    let mut no_id = weighted("a", 1, 1);
    no_id.key.set_id.clear();
    assert!(refused(&[change(Action::Create, no_id)], &[]).contains("1-128"));
    let mut both = weighted("a", 1, 1);
    both.data.region = Some("us-east-1".into());
    assert!(refused(&[change(Action::Create, both)], &[]).contains("not both"));
}

#[test]
fn a_request_holds_at_most_1000_records_and_32000_characters_with_upserts_counted_twice() {
    let many = |n: usize, action: Action| -> Vec<Change> {
        (0..n)
            .map(|i| change(action, weighted(&format!("c{i}"), 1, 1)))
            .collect()
    };
    check(&many(1000, Action::Create), &[]).unwrap();
    assert!(refused(&many(1001, Action::Create), &[]).contains("1001 records"));
    let current: Vec<RecordSet> = (0..501).map(|i| weighted(&format!("c{i}"), 1, 1)).collect();
    assert!(refused(&many(501, Action::Upsert), &current).contains("1002 records"));
    check(&many(500, Action::Upsert), &current).unwrap();
    let long = format!("\"{}\"", "x".repeat(250));
    let txts: Vec<Change> = (0..128)
        .map(|i| {
            change(
                Action::Create,
                set(
                    &format!("_flotilla.h{i}.acme.test."),
                    "TXT",
                    "",
                    300,
                    &[&long],
                    None,
                    None,
                ),
            )
        })
        .collect();
    assert!(refused(&txts, &[]).contains("32256 characters"));
    check(&txts[..126], &[]).unwrap();
}

#[test]
fn a_delete_repeats_the_exact_current_values_and_a_create_needs_a_free_key() {
    let current = [weighted("a", 1, 1)];
    check(&[change(Action::Delete, weighted("a", 1, 1))], &current).unwrap();
    assert!(refused(&[change(Action::Delete, weighted("a", 1, 2))], &current).contains("exactly"));
    assert!(
        refused(&[change(Action::Delete, weighted("b", 1, 1))], &current)
            .contains("does not exist")
    );
    assert!(
        refused(&[change(Action::Create, weighted("a", 1, 1))], &current)
            .contains("already exists")
    );
    assert!(refused(
        &[
            change(Action::Upsert, weighted("a", 1, 1)),
            change(Action::Delete, weighted("a", 1, 1))
        ],
        &current
    )
    .contains("twice"));
}

#[test]
fn values_names_and_groups_follow_dns() {
    let bad_a = set("www.acme.test.", "A", "", 1, &["2001:db8::1"], None, None);
    assert!(refused(&[change(Action::Create, bad_a)], &[]).contains("not a valid A value"));
    let two_cnames = set(
        "www.acme.test.",
        "CNAME",
        "",
        1,
        &["a.example.", "b.example."],
        None,
        None,
    );
    assert!(refused(&[change(Action::Create, two_cnames)], &[]).contains("exactly one"));
    let unqualified = set("www.acme.test", "A", "", 1, &["192.0.2.1"], None, None);
    assert!(refused(&[change(Action::Create, unqualified)], &[]).contains("not a valid DNS name"));
    let foreign_a = set("www.acme.test.", "A", "", 300, &["192.0.2.1"], None, None);
    assert!(refused(
        &[change(Action::Create, latency("us-east-1", "us-east-1"))],
        &[foreign_a]
    )
    .contains("CNAME cannot share"));
    let simple = set(
        "r._flotilla.www.acme.test.",
        "A",
        "",
        1,
        &["192.0.2.9"],
        None,
        None,
    );
    assert!(
        refused(&[change(Action::Create, weighted("a", 1, 1))], &[simple])
            .contains("cannot be mixed")
    );
    let empty = set("www.acme.test.", "A", "", 1, &[], None, None);
    assert!(refused(&[change(Action::Create, empty)], &[]).contains("at least one value"));
}
