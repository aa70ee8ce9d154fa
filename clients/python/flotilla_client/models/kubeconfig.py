from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Kubeconfig")


@_attrs_define
class Kubeconfig:
    """Where a cluster's API server is, and the CA to verify it with: what Admiralty's
    `Kubeconfig` resolves its `admiraltyReference` into.

        Attributes:
            certificate_authority_data (str): The server CA certificate, PEM, base64-encoded (kubeconfig's
                `certificate-authority-data`).
            cluster (str): The cluster.
            server (str): URL of its Kubernetes API server. Example: https://203.0.113.10:6443.
    """

    certificate_authority_data: str
    cluster: str
    server: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        certificate_authority_data = self.certificate_authority_data

        cluster = self.cluster

        server = self.server

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "certificate_authority_data": certificate_authority_data,
                "cluster": cluster,
                "server": server,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        certificate_authority_data = d.pop("certificate_authority_data")

        cluster = d.pop("cluster")

        server = d.pop("server")

        kubeconfig = cls(
            certificate_authority_data=certificate_authority_data,
            cluster=cluster,
            server=server,
        )

        kubeconfig.additional_properties = d
        return kubeconfig

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
