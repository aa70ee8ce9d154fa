from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.cluster_registration_labels_type_0 import ClusterRegistrationLabelsType0


T = TypeVar("T", bound="ClusterRegistration")


@_attrs_define
class ClusterRegistration:
    """A cluster's registration: its public material only.

    Attributes:
        identity_ca (str): The cluster's identity CA certificate (PEM, exactly one certificate): its agents'
            assertions chain to it, and other clusters trust workloads under `spiffe://<cluster>/`
            that it issued.
        server (str): URL of the cluster's Kubernetes API server (`https://`, with a host, no credentials). Example:
            https://203.0.113.10:6443.
        agent_version (None | str | Unset): The agent's version (1-64 printable characters without spaces); when absent,
            the last
            reported one stays.
        labels (ClusterRegistrationLabelsType0 | None | Unset):
        server_ca (None | str | Unset): The CA that verifies the API server (PEM); the identity CA when absent.
    """

    identity_ca: str
    server: str
    agent_version: None | str | Unset = UNSET
    labels: ClusterRegistrationLabelsType0 | None | Unset = UNSET
    server_ca: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.cluster_registration_labels_type_0 import ClusterRegistrationLabelsType0  # noqa: PLC0415

        identity_ca = self.identity_ca

        server = self.server

        agent_version: None | str | Unset
        if isinstance(self.agent_version, Unset):
            agent_version = UNSET
        else:
            agent_version = self.agent_version

        labels: dict[str, Any] | None | Unset
        if isinstance(self.labels, Unset):
            labels = UNSET
        elif isinstance(self.labels, ClusterRegistrationLabelsType0):
            labels = self.labels.to_dict()
        else:
            labels = self.labels

        server_ca: None | str | Unset
        if isinstance(self.server_ca, Unset):
            server_ca = UNSET
        else:
            server_ca = self.server_ca

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "identity_ca": identity_ca,
                "server": server,
            }
        )
        if agent_version is not UNSET:
            field_dict["agent_version"] = agent_version
        if labels is not UNSET:
            field_dict["labels"] = labels
        if server_ca is not UNSET:
            field_dict["server_ca"] = server_ca

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cluster_registration_labels_type_0 import ClusterRegistrationLabelsType0  # noqa: PLC0415

        d = dict(src_dict)
        identity_ca = d.pop("identity_ca")

        server = d.pop("server")

        def _parse_agent_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        agent_version = _parse_agent_version(d.pop("agent_version", UNSET))

        def _parse_labels(data: object) -> ClusterRegistrationLabelsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                labels_type_0 = ClusterRegistrationLabelsType0.from_dict(data)

                return labels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ClusterRegistrationLabelsType0 | None | Unset, data)

        labels = _parse_labels(d.pop("labels", UNSET))

        def _parse_server_ca(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        server_ca = _parse_server_ca(d.pop("server_ca", UNSET))

        cluster_registration = cls(
            identity_ca=identity_ca,
            server=server,
            agent_version=agent_version,
            labels=labels,
            server_ca=server_ca,
        )

        return cluster_registration
