//! The pure decisions of `trust`: what a TrustedIdentityProvider's status says, and what the
//! namespace's ConfigMap holds.

use super::*;
use crate::directory::resources::AdmiraltyReference;
use crate::directory::ClusterTrust;
use crate::identity::ca::IdentityCa;
use flotilla_client::directory::BundleMap;

fn ca_der(name: &str) -> Vec<u8> {
    let generated = IdentityCa::generate(name).expect("a CA");
    certificates_of(&STANDARD.encode(generated.ca.certificate_pem()))
        .expect("its PEM")
        .remove(0)
}

fn provider(
    name: &str,
    cluster: &str,
    prefix: &str,
    account: Option<&str>,
) -> Object<ProviderSpec> {
    Object {
        namespace: "default".into(),
        name: name.into(),
        uid: None,
        generation: Some(1),
        spec: Ok(ProviderSpec {
            prefix: Some(prefix.into()),
            certificate_authority_data: None,
            admiralty_reference: Some(AdmiraltyReference {
                cluster_name: Some(cluster.into()),
                account_name: account.map(str::to_owned),
            }),
        }),
        status: Value::Null,
    }
}

fn trust(clusters: &[(&str, Vec<Vec<u8>>)]) -> Trust {
    Trust {
        clusters: clusters
            .iter()
            .map(|(c, cas)| {
                (
                    c.to_string(),
                    ClusterTrust {
                        sequence: 7,
                        cas: cas.clone(),
                    },
                )
            })
            .collect(),
        map: BundleMap::default(),
    }
}

#[test]
fn a_reference_resolves_into_every_ca_the_cluster_trusts_and_the_namespace_map() {
    let (old, new) = (ca_der("management-old"), ca_der("management-new"));
    let t = trust(&[("management", vec![new.clone(), old.clone()])]);
    let (plans, maps) = plan(
        "acme",
        &[provider(
            "management",
            "management",
            "spiffe://management/",
            None,
        )],
        Some(&t),
        None,
    );
    let v = &plans[0].verdict;
    assert!(v.resolved, "{v:?}");
    assert_eq!(v.fields["certificates"].as_array().map(Vec::len), Some(2));
    assert_eq!(v.fields["spiffeSequence"], 7);
    let pem = String::from_utf8(
        STANDARD
            .decode(
                v.fields["certificateAuthorityData"]
                    .as_str()
                    .unwrap_or_default(),
            )
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2);
    let data = &maps["default"];
    assert_eq!(data["management.pem"], pem);
    assert_eq!(data[BUNDLE_KEY].matches("BEGIN CERTIFICATE").count(), 2);
    let prefixes: Value = serde_json::from_str(&data[PREFIXES_KEY]).unwrap_or_default();
    assert_eq!(prefixes["spiffe://management/"], "management.pem");
}

#[test]
fn refusals_say_why_and_trust_nothing() {
    let t = trust(&[("management", vec![ca_der("m")])]);
    let cases = [
        (
            provider("a", "management", "spiffe://other/", None),
            "PrefixMismatch",
        ),
        (
            provider("b", "management", "spiffe://management/", Some("other")),
            "OtherAccount",
        ),
        (
            provider("c", "gone", "spiffe://gone/", None),
            "NoSuchCluster",
        ),
    ];
    for (p, reason) in cases {
        let (plans, maps) = plan("acme", &[p], Some(&t), None);
        assert_eq!(plans[0].verdict.reason, reason);
        assert!(!plans[0].verdict.resolved);
        assert_eq!(maps["default"][BUNDLE_KEY], "", "{reason}: nothing trusted");
    }
    let (plans, _) = plan(
        "acme",
        &[provider("d", "management", "spiffe://management/", None)],
        None,
        Some("connection refused"),
    );
    assert_eq!(plans[0].verdict.reason, "FlotillaUnreachable");
    assert!(plans[0].verdict.message.contains("connection refused"));
}
