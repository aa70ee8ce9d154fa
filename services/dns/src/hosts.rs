//! Host names and endpoint targets as agents report them, parsed once at the edge. A host is
//! a name inside the account's domain `<account>.<base>` made of letter-digit-hyphen labels,
//! so it can never collide with the names Flotilla derives from it, which all carry a label
//! starting with `_` (`_flotilla.<host>`, `<region>._flotilla.<host>`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use flotilla_core::names::is_dns_label;

/// The longest host accepted: the derived regional name
/// (`<region>._flotilla.<host>.`, regions up to 25 characters) must stay within DNS's 253.
pub const MAX_HOST_LEN: usize = 200;
/// Most targets one endpoint may report.
pub const MAX_TARGETS: usize = 32;
/// The label under a host that holds Flotilla's derived names.
pub const DERIVED_LABEL: &str = "_flotilla";

/// A host of an account: fully qualified, lower case, without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Host(String);

impl Host {
    /// Parses `input` as a name inside `<account>.<base>`, saying what is wrong if it is not.
    pub fn parse(input: &str, account: &str, base: &str) -> Result<Host, String> {
        let domain = format!("{account}.{base}");
        let name = input.strip_suffix('.').unwrap_or(input);
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.len() > MAX_HOST_LEN {
            return Err(format!(
                "must be at most {MAX_HOST_LEN} characters (got {})",
                name.len()
            ));
        }
        let name = name.to_ascii_lowercase();
        if name != domain && !name.ends_with(&format!(".{domain}")) {
            return Err(format!("must be {domain} or a name under it"));
        }
        if let Some(label) = name.split('.').find(|l| !is_dns_label(l)) {
            return Err(format!(
                "label {label:?} is not a DNS label (1-63 of a-z, 0-9 and -, not starting or \
                 ending with -)"
            ));
        }
        Ok(Host(name))
    }

    /// A host known to be valid (read back from the database).
    pub fn trusted(name: String) -> Host {
        Host(name)
    }

    /// The name, without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host's own name, qualified.
    pub fn fqdn(&self) -> String {
        format!("{}.", self.0)
    }

    /// Where Flotilla marks the host as its own (a TXT record).
    pub fn marker_name(&self) -> String {
        format!("{DERIVED_LABEL}.{}.", self.0)
    }

    /// The regional name the host's latency record for `region` leads to.
    pub fn regional_name(&self, region: &str) -> String {
        format!("{region}.{DERIVED_LABEL}.{}.", self.0)
    }
}

/// The host a qualified name of Flotilla's belongs to: `H.`, `_flotilla.H.` and
/// `<region>._flotilla.H.` all belong to `H` (returned without the trailing dot).
pub fn host_of(name: &str) -> &str {
    let name = name.strip_suffix('.').unwrap_or(name);
    let derived = format!(".{DERIVED_LABEL}.");
    match name.find(&derived) {
        Some(i) => &name[i + derived.len()..],
        None => name.strip_prefix(&derived[1..]).unwrap_or(name),
    }
}

/// What an endpoint serves: addresses, or one hostname (such as a load balancer's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// IPv4 and IPv6 addresses, distinct and sorted.
    Addresses(Vec<IpAddr>),
    /// One hostname, lower case, without a trailing dot.
    Hostname(String),
}

impl Targets {
    /// Parses reported targets; `host` is the endpoint's own host (a hostname target cannot
    /// be the host itself).
    pub fn parse(targets: &[String], host: &Host) -> Result<Targets, String> {
        if targets.is_empty() {
            return Err("must list at least one address or one hostname".into());
        }
        if targets.len() > MAX_TARGETS {
            return Err(format!(
                "must list at most {MAX_TARGETS} targets (got {})",
                targets.len()
            ));
        }
        let addresses: Vec<Option<IpAddr>> =
            targets.iter().map(|t| t.trim().parse().ok()).collect();
        if addresses.iter().all(Option::is_some) {
            let mut set = BTreeSet::new();
            for address in addresses.into_iter().flatten() {
                check_address(address)?;
                set.insert(address);
            }
            return Ok(Targets::Addresses(set.into_iter().collect()));
        }
        if targets.len() > 1 {
            return Err(if addresses.iter().any(Option::is_some) {
                "mixes addresses and hostnames; report either addresses or one hostname".into()
            } else {
                "lists several hostnames; a hostname target (a CNAME) can only be one".into()
            });
        }
        let name = targets[0].trim();
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        // A numeric last label is a mistyped address, never a top-level domain.
        let numeric_tld = name
            .rsplit('.')
            .next()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
        if name.len() > 253
            || !name.contains('.')
            || numeric_tld
            || !name.split('.').all(is_hostname_label)
        {
            return Err(format!(
                "{:?} is neither an IP address nor a fully qualified hostname",
                targets[0]
            ));
        }
        if name == host.as_str() {
            return Err("a hostname target cannot be the host itself".into());
        }
        Ok(Targets::Hostname(name))
    }

    /// The targets as stored: addresses in canonical text, or the hostname.
    pub fn to_strings(&self) -> Vec<String> {
        match self {
            Targets::Addresses(list) => list.iter().map(IpAddr::to_string).collect(),
            Targets::Hostname(name) => vec![name.clone()],
        }
    }

    /// Reads stored targets back.
    pub fn from_stored(targets: &[String]) -> Targets {
        let addresses: Option<Vec<IpAddr>> = targets.iter().map(|t| t.parse().ok()).collect();
        match addresses {
            Some(list) if !list.is_empty() => Targets::Addresses(list),
            _ => Targets::Hostname(targets.first().cloned().unwrap_or_default()),
        }
    }
}

/// Refuses addresses that no client could reach through a public answer.
fn check_address(address: IpAddr) -> Result<(), String> {
    let unusable = match address {
        IpAddr::V4(a) => a.is_unspecified() || a.is_broadcast() || a.is_multicast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    if unusable {
        Err(format!(
            "{address} is an unspecified, broadcast or multicast address"
        ))
    } else {
        Ok(())
    }
}

/// A label of a hostname target: like a DNS label, but upper case is folded and `_` allowed
/// (load balancers' names are not ours to police beyond syntax).
fn is_hostname_label(label: &str) -> bool {
    is_dns_label(&label.replace('_', "a"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Result<Host, String> {
        Host::parse(s, "acme", "flotilla.test")
    }

    fn targets(list: &[&str]) -> Result<Targets, String> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        Targets::parse(&list, &host("www.acme.flotilla.test").unwrap())
    }

    #[test]
    fn hosts_must_lie_in_the_account_domain() {
        assert_eq!(
            host("Hello.acme.flotilla.test.").unwrap().as_str(),
            "hello.acme.flotilla.test"
        );
        assert!(host("acme.flotilla.test").is_ok());
        assert!(host("a.b.acme.flotilla.test").is_ok());
        assert!(host("hello.other.flotilla.test")
            .unwrap_err()
            .contains("acme.flotilla.test"));
        assert!(host("xacme.flotilla.test")
            .unwrap_err()
            .contains("under it"));
        assert!(host("hello.flotilla.test").is_err());
        assert!(host("_flotilla.acme.flotilla.test")
            .unwrap_err()
            .contains("_flotilla"));
        assert!(host("*.acme.flotilla.test")
            .unwrap_err()
            .contains("not a DNS label"));
        assert!(host("a..acme.flotilla.test").is_err());
        assert!(host(&format!("{}.acme.flotilla.test", "a.".repeat(100)))
            .unwrap_err()
            .contains("at most 200"));
        assert!(host("").is_err());
    }

    #[test]
    fn derived_names_cannot_be_hosts() {
        let h = host("www.acme.flotilla.test").unwrap();
        assert_eq!(h.marker_name(), "_flotilla.www.acme.flotilla.test.");
        assert_eq!(
            h.regional_name("eu-west-1"),
            "eu-west-1._flotilla.www.acme.flotilla.test."
        );
        assert!(host(h.regional_name("eu-west-1").trim_end_matches('.')).is_err());
    }

    #[test]
    fn derived_names_lead_back_to_their_host() {
        let h = host("www.acme.flotilla.test").unwrap();
        assert_eq!(host_of(&h.fqdn()), "www.acme.flotilla.test");
        assert_eq!(host_of(&h.marker_name()), "www.acme.flotilla.test");
        assert_eq!(
            host_of(&h.regional_name("eu-west-1")),
            "www.acme.flotilla.test"
        );
    }

    #[test]
    fn targets_are_addresses_or_one_hostname() {
        assert_eq!(
            targets(&["2001:DB8::1", "192.0.2.7", "192.0.2.7", "192.0.2.1"])
                .unwrap()
                .to_strings(),
            ["192.0.2.1", "192.0.2.7", "2001:db8::1"]
        );
        assert_eq!(
            targets(&["LB-1.eu-west-1.ELB.amazonaws.com."]).unwrap(),
            Targets::Hostname("lb-1.eu-west-1.elb.amazonaws.com".into())
        );
        assert!(targets(&[]).unwrap_err().contains("at least one"));
        assert!(targets(&["192.0.2.1", "lb.example.com"])
            .unwrap_err()
            .contains("mixes"));
        assert!(targets(&["a.example.com", "b.example.com"])
            .unwrap_err()
            .contains("several hostnames"));
        assert!(targets(&["300.1.1.1"])
            .unwrap_err()
            .contains("neither an IP address"));
        assert!(targets(&["localhost"])
            .unwrap_err()
            .contains("fully qualified"));
        assert!(targets(&["0.0.0.0"]).unwrap_err().contains("unspecified"));
        assert!(targets(&["ff02::1"]).unwrap_err().contains("multicast"));
        assert!(targets(&["www.acme.flotilla.test"])
            .unwrap_err()
            .contains("host itself"));
        let many: Vec<String> = (0..33).map(|i| format!("192.0.2.{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(targets(&many).unwrap_err().contains("at most 32"));
    }
}
