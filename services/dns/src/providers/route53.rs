//! The Route53 provider: `aws-sdk-route53` over one rustls (ring) client, configured from the
//! environment like the AWS CLI (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_ROUTE_53`).
//! The SDK's own retries are off: the reconciler paces requests (five a second) and backs off
//! itself, and needs to see each failure to decide what it means.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_route53 as r53;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use r53::config::http::HttpResponse;
use r53::config::retry::RetryConfig;
use r53::config::timeout::TimeoutConfig;
use r53::config::{BehaviorVersion, Region, StalledStreamProtectionConfig};
use r53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use r53::types::{
    ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, ResourceRecordSetRegion, RrType,
};

use super::{no_answer, Ack, Failure, Listing};
use crate::reconciler::pacing::Pacer;
use crate::records::{canonical_values, fqdn, Action, Change, RecordData, RecordKey, RecordSet};
use crate::settings::DnsSettings;

/// Record sets per listing page (Route53's largest).
const PAGE: i32 = 300;

/// A Route53 hosted zone.
pub struct Route53 {
    client: r53::Client,
    zone_id: String,
    timeout: Duration,
}

impl Route53 {
    /// The provider for `--route53-hosted-zone-id`, with the AWS settings of the environment.
    pub async fn from_settings(settings: &DnsSettings) -> anyhow::Result<Route53> {
        let zone_id = settings
            .route53_hosted_zone_id
            .clone()
            .ok_or_else(|| anyhow::anyhow!("FLOTILLA_ROUTE53_HOSTED_ZONE_ID is not set"))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        // Reads AWS_ENDPOINT_URL_ROUTE_53 (or AWS_ENDPOINT_URL), credentials and region as the
        // AWS CLI does.
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .load()
            .await;
        let mut builder = r53::config::Builder::from(&sdk);
        if sdk.region().is_none() {
            // Route53 is a global service, signed for us-east-1.
            builder.set_region(Some(Region::from_static("us-east-1")));
        }
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_timeout(settings.dns_provider_timeout.0)
            .build();
        let conf = builder
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        Ok(Route53 {
            client: r53::Client::from_conf(conf),
            zone_id,
            timeout: settings.dns_provider_timeout.0,
        })
    }

    /// Every record set of the zone, a page (300 sets) per request.
    pub async fn list(&self, pace: &mut Pacer) -> Result<Listing, Failure> {
        let mut listing = Listing::default();
        let mut seen: BTreeSet<RecordKey> = BTreeSet::new();
        let mut next: Option<(String, RrType, Option<String>)> = None;
        loop {
            pace.ready().await;
            let mut request = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(&self.zone_id)
                .max_items(PAGE);
            if let Some((name, rtype, id)) = next.take() {
                request = request
                    .start_record_name(name)
                    .start_record_type(rtype)
                    .set_start_record_identifier(id);
            }
            let page = request
                .send()
                .await
                .map_err(|e| failure(&e, self.timeout))?;
            listing.requests += 1;
            let mut new = 0;
            for set in page.resource_record_sets() {
                if let Some(set) = from_sdk(set) {
                    if seen.insert(set.key.clone()) {
                        listing.sets.push(set);
                        new += 1;
                    }
                }
            }
            if !page.is_truncated() {
                return Ok(listing);
            }
            // A page that brings nothing new would repeat forever (moto omits the identifier
            // of the next set).
            if new == 0 {
                return Err(Failure::Unknown("the zone listing does not advance".into()));
            }
            let (Some(name), Some(rtype)) = (page.next_record_name(), page.next_record_type())
            else {
                return Err(Failure::Unknown(
                    "a truncated listing without a next record".into(),
                ));
            };
            next = Some((
                name.to_owned(),
                rtype.clone(),
                page.next_record_identifier().map(str::to_owned),
            ));
        }
    }

    /// Applies `changes` as one ChangeResourceRecordSets request.
    pub async fn apply(&self, changes: &[Change]) -> Result<Ack, Failure> {
        let changes = changes
            .iter()
            .map(to_sdk)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Failure::Rejected(format!("cannot build the request: {e}")))?;
        let batch = ChangeBatch::builder()
            .comment("flotilla")
            .set_changes(Some(changes))
            .build()
            .map_err(|e| Failure::Rejected(format!("cannot build the request: {e}")))?;
        let output = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| failure(&e, self.timeout))?;
        Ok(Ack {
            change_id: output.change_info().map(|i| i.id().to_owned()),
        })
    }
}

/// A listed set in Flotilla's shape; alias sets (which have no values) are kept as foreign
/// sets with their target as the value.
fn from_sdk(set: &ResourceRecordSet) -> Option<RecordSet> {
    let rtype = set.r#type().as_str().to_owned();
    let mut values: Vec<String> = set
        .resource_records()
        .iter()
        .map(|r| r.value().to_owned())
        .collect();
    if let Some(alias) = set.alias_target() {
        values.push(format!("ALIAS {}", alias.dns_name()));
    }
    let name = fqdn(&unescape(set.name()));
    Some(RecordSet {
        key: RecordKey {
            name,
            rtype: rtype.clone(),
            set_id: set.set_identifier().unwrap_or_default().to_owned(),
        },
        data: RecordData {
            ttl: set.ttl().unwrap_or(0),
            values: canonical_values(&rtype, values),
            region: set.region().map(|r| r.as_str().to_owned()),
            weight: set.weight(),
        },
    })
}

/// Route53 writes some characters of names as octal escapes (`\052` for `*`).
fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn to_sdk(change: &Change) -> Result<r53::types::Change, r53::error::BuildError> {
    let (key, data) = (&change.set.key, &change.set.data);
    let records = data
        .values
        .iter()
        .map(|v| ResourceRecord::builder().value(v).build())
        .collect::<Result<Vec<_>, _>>()?;
    let mut set = ResourceRecordSet::builder()
        .name(&key.name)
        .r#type(RrType::from(key.rtype.as_str()))
        .ttl(data.ttl)
        .set_resource_records(Some(records));
    if !key.set_id.is_empty() {
        set = set.set_identifier(&key.set_id);
    }
    if let Some(region) = &data.region {
        set = set.region(ResourceRecordSetRegion::from(region.as_str()));
    }
    if let Some(weight) = data.weight {
        set = set.weight(weight);
    }
    let action = match change.action {
        Action::Create => ChangeAction::Create,
        Action::Upsert => ChangeAction::Upsert,
        Action::Delete => ChangeAction::Delete,
    };
    r53::types::Change::builder()
        .action(action)
        .resource_record_set(set.build()?)
        .build()
}

/// What an SDK error means for the reconciler.
fn failure<E>(err: &SdkError<E, HttpResponse>, timeout: Duration) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let e = service.err();
            let message = format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or_default()
            );
            match e.code() {
                Some("Throttling" | "ThrottlingException" | "PriorRequestNotComplete") => {
                    Failure::Throttled(message)
                }
                Some("InvalidChangeBatch" | "InvalidInput") => Failure::Rejected(message),
                // Sent, and answered by a failure: whether it was applied, only a re-read of the
                // zone can tell.
                _ if status >= 500 => {
                    Failure::Unknown(format!("Route53 answered {status}: {message}"))
                }
                // Not an AWS error document: a proxy's page, or a body cut short.
                None => Failure::Unknown(format!("Route53's answer ({status}) cannot be read")),
                // Credentials, a missing zone, access denied: nothing was applied, and an
                // operator must act; retried with backoff meanwhile.
                Some(_) => Failure::Unavailable(message),
            }
        }
        SdkError::TimeoutError(_) => no_answer(timeout),
        SdkError::DispatchFailure(d) if d.is_timeout() => Failure::Unknown(detail),
        SdkError::DispatchFailure(_) => Failure::Unavailable(detail),
        SdkError::ResponseError(_) => Failure::Unknown(detail),
        _ => Failure::Unavailable(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_in_names_are_read() {
        assert_eq!(unescape("\\052.acme.example."), "*.acme.example.");
        assert_eq!(unescape("plain.example."), "plain.example.");
        assert_eq!(unescape("odd\\x.example."), "odd\\x.example.");
    }
}
