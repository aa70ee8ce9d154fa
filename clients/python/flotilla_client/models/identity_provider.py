from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="IdentityProvider")


@_attrs_define
class IdentityProvider:
    """Whom to trust for workloads of a cluster: what Admiralty's `TrustedIdentityProvider`
    resolves its `admiraltyReference` into.

        Attributes:
            certificate_authority_data (str): Every identity CA the cluster currently trusts (the current one and those a
                rotation
                replaced, until removed), PEM, concatenated, base64-encoded.
            cluster (str): The cluster.
            prefix (str): SPIFFE ID prefix of its workloads. Example: spiffe://eu-1/.
            spiffe_sequence (int): The cluster's bundle sequence number: it rises whenever this set changes.
    """

    certificate_authority_data: str
    cluster: str
    prefix: str
    spiffe_sequence: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        certificate_authority_data = self.certificate_authority_data

        cluster = self.cluster

        prefix = self.prefix

        spiffe_sequence = self.spiffe_sequence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "certificate_authority_data": certificate_authority_data,
                "cluster": cluster,
                "prefix": prefix,
                "spiffe_sequence": spiffe_sequence,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        certificate_authority_data = d.pop("certificate_authority_data")

        cluster = d.pop("cluster")

        prefix = d.pop("prefix")

        spiffe_sequence = d.pop("spiffe_sequence")

        identity_provider = cls(
            certificate_authority_data=certificate_authority_data,
            cluster=cluster,
            prefix=prefix,
            spiffe_sequence=spiffe_sequence,
        )

        identity_provider.additional_properties = d
        return identity_provider

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
