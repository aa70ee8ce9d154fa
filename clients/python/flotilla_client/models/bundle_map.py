from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.bundle_map_trust_domains import BundleMapTrustDomains


T = TypeVar("T", bound="BundleMap")


@_attrs_define
class BundleMap:
    """A SPIFFE bundle map: every trust domain of the account (one per cluster, named as the
    cluster) with its bundle, as gRPC and Envoy read it.

        Attributes:
            trust_domains (BundleMapTrustDomains): Bundles by trust domain name.
    """

    trust_domains: BundleMapTrustDomains
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        trust_domains = self.trust_domains.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "trust_domains": trust_domains,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bundle_map_trust_domains import BundleMapTrustDomains  # noqa: PLC0415

        d = dict(src_dict)
        trust_domains = BundleMapTrustDomains.from_dict(d.pop("trust_domains"))

        bundle_map = cls(
            trust_domains=trust_domains,
        )

        bundle_map.additional_properties = d
        return bundle_map

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
