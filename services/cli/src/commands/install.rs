//! The commands `registration-tokens create` and `register-cluster` print, ready to paste into
//! a shell: the `register-cluster` that uses a registration token, and how the in-cluster
//! agent is installed, whose kubectl points at the cluster, from a clone of Flotilla (the
//! agent's kustomization is `deploy/agent`, configured by one file, `deploy/agent/agent.env`).
//! Every value from outside goes in as one shell word.

use std::path::Path;

/// The agent's namespace: its Secrets live there, so it must exist before them (the
/// kustomization declares it too, so applying it afterwards is fine).
const NAMESPACE: &str = "kubectl create namespace admiralty";

/// Installs the agent once its Secrets and `agent.env` are in place.
const APPLY: &str = "kubectl apply -k deploy/agent";

/// Where the identity CA that a registered cluster's agent needs comes from.
pub enum CaSource<'a> {
    /// The Secret manifest `register-cluster --generate-identity-ca` wrote.
    Manifest(&'a Path),
    /// The certificate given with `--identity-ca`; its key is the person's to supply.
    Certificate(&'a Path),
}

/// The command that registers the current kubeconfig context's cluster with `token`, a
/// generated identity CA, and a name to fill in.
pub fn register_with_token(server: &str, account: &str, token: &str) -> String {
    format!(
        "flotilla register-cluster --server {} --account {} --registration-token {} --name <cluster> --generate-identity-ca",
        shell_word(server),
        shell_word(account),
        shell_word(token)
    )
}

/// The commands that install the agent in a cluster not registered yet, which registers it
/// with `token` (the agent waits for the token's Secret, and reads it when it appears).
pub fn with_registration_token(server: &str, account: &str, token: &str) -> String {
    [
        NAMESPACE.to_owned(),
        format!(
            "kubectl -n admiralty create secret generic flotilla-registration-token --from-literal=token={}",
            shell_word(token)
        ),
        agent_env(server, account, "<cluster>"),
        APPLY.to_owned(),
    ]
    .join("\n")
}

/// The commands that install the agent of `cluster`, already registered: its identity CA's
/// Secret, and the agent (no token: Flotilla knows the cluster, and the CA is the proof).
pub fn for_registered(server: &str, account: &str, cluster: &str, ca: CaSource<'_>) -> String {
    let secret = match ca {
        CaSource::Manifest(file) => {
            format!("kubectl apply -f {}", shell_word(&file.display().to_string()))
        }
        CaSource::Certificate(file) => format!(
            "kubectl -n admiralty create secret tls flotilla-identity-ca --cert={} --key=<identity-ca-key-file>",
            shell_word(&file.display().to_string())
        ),
    };
    [
        NAMESPACE.to_owned(),
        secret,
        agent_env(server, account, cluster),
        APPLY.to_owned(),
    ]
    .join("\n")
}

/// Writes `deploy/agent/agent.env`: who the agent speaks for, and to which Flotilla. The
/// quoted delimiter keeps the shell from expanding anything in it; none of the values can hold
/// a line break (a parsed URL, and names that passed as path segments).
fn agent_env(server: &str, account: &str, cluster: &str) -> String {
    format!(
        "cat > deploy/agent/agent.env <<'EOF'\nFLOTILLA_URL={server}\nFLOTILLA_ACCOUNT={account}\nFLOTILLA_CLUSTER={cluster}\nEOF"
    )
}

/// `word` as one shell word: as it is when it holds nothing the shell would act on, else in
/// single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_token_goes_in_its_secret_and_the_cluster_name_is_left_to_fill() {
        assert_eq!(
            with_registration_token("https://flotilla.example.com", "acme", "flreg_abc"),
            "kubectl create namespace admiralty\n\
             kubectl -n admiralty create secret generic flotilla-registration-token --from-literal=token=flreg_abc\n\
             cat > deploy/agent/agent.env <<'EOF'\n\
             FLOTILLA_URL=https://flotilla.example.com\n\
             FLOTILLA_ACCOUNT=acme\n\
             FLOTILLA_CLUSTER=<cluster>\n\
             EOF\n\
             kubectl apply -k deploy/agent"
        );
    }

    #[test]
    fn a_registered_cluster_gets_its_identity_ca_secret() {
        let generated = for_registered(
            "http://localhost:8080",
            "acme",
            "eu-1",
            CaSource::Manifest(Path::new("./eu-1-identity-ca-secret.yaml")),
        );
        assert!(
            generated.contains("\nkubectl apply -f ./eu-1-identity-ca-secret.yaml\n")
                && generated.contains("\nFLOTILLA_CLUSTER=eu-1\n"),
            "{generated}"
        );
        let given = for_registered(
            "http://localhost:8080",
            "acme",
            "eu-1",
            CaSource::Certificate(Path::new("my CAs/ca.crt")),
        );
        assert!(
            given.contains("create secret tls flotilla-identity-ca --cert='my CAs/ca.crt' --key="),
            "{given}"
        );
    }

    #[test]
    fn the_register_command_takes_each_value_as_one_word() {
        assert_eq!(
            register_with_token("https://flotilla.example.com", "acme", "flreg_abc-_1"),
            "flotilla register-cluster --server https://flotilla.example.com --account acme \
             --registration-token flreg_abc-_1 --name <cluster> --generate-identity-ca"
        );
        assert!(
            register_with_token("https://flotilla.example.com", "acme", "$(id) x")
                .contains(" --registration-token '$(id) x' --name"),
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("./a-b_c.yaml"), "./a-b_c.yaml");
        assert_eq!(shell_word("it's here"), r"'it'\''s here'");
        assert_eq!(shell_word(""), "''");
    }
}
