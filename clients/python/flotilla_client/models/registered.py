from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.outcome import Outcome
from ..models.status import Status
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.certificate_info import CertificateInfo
    from ..models.cluster_figures_type_0 import ClusterFiguresType0
    from ..models.cluster_labels_type_0 import ClusterLabelsType0
    from ..models.identity_ca import IdentityCa


T = TypeVar("T", bound="Registered")


@_attrs_define
class Registered:
    """The answer to a registration.

    Attributes:
        account (str): The account.
        identity_cas (list[IdentityCa]): The identity CAs its agents may chain to, current first.
        labels (ClusterLabelsType0): Its labels (`region` places it for latency-based DNS).
        name (str): The cluster's name: a DNS label, unique in the account, and its SPIFFE trust domain.
        registered_at (datetime.datetime): When it was first registered.
        server (str): URL of its Kubernetes API server.
        server_ca (CertificateInfo): What Flotilla shows of a certificate it holds.
        spiffe_prefix (str): SPIFFE ID prefix of its workloads: `spiffe://<cluster>/`. Example: spiffe://eu-1/.
        status (Status): A cluster's status.
        status_changed_at (datetime.datetime): When the status last changed.
        updated_at (datetime.datetime): When its registration last changed.
        outcome (Outcome): What a registration did.
        agent_version (None | str | Unset): The agent's version, as last reported.
        figures (ClusterFiguresType0 | None | Unset): Figures the agent reported with its last heartbeat.
        last_heartbeat_at (datetime.datetime | None | Unset): When the last heartbeat came.
    """

    account: str
    identity_cas: list[IdentityCa]
    labels: ClusterLabelsType0
    name: str
    registered_at: datetime.datetime
    server: str
    server_ca: CertificateInfo
    spiffe_prefix: str
    status: Status
    status_changed_at: datetime.datetime
    updated_at: datetime.datetime
    outcome: Outcome
    agent_version: None | str | Unset = UNSET
    figures: ClusterFiguresType0 | None | Unset = UNSET
    last_heartbeat_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.cluster_figures_type_0 import ClusterFiguresType0  # noqa: PLC0415
        from ..models.cluster_labels_type_0 import ClusterLabelsType0  # noqa: PLC0415

        account = self.account

        identity_cas = []
        for identity_cas_item_data in self.identity_cas:
            identity_cas_item = identity_cas_item_data.to_dict()
            identity_cas.append(identity_cas_item)

        labels: dict[str, Any]
        if isinstance(self.labels, ClusterLabelsType0):
            labels = self.labels.to_dict()

        name = self.name

        registered_at = self.registered_at.isoformat()

        server = self.server

        server_ca = self.server_ca.to_dict()

        spiffe_prefix = self.spiffe_prefix

        status = self.status.value

        status_changed_at = self.status_changed_at.isoformat()

        updated_at = self.updated_at.isoformat()

        outcome = self.outcome.value

        agent_version: None | str | Unset
        if isinstance(self.agent_version, Unset):
            agent_version = UNSET
        else:
            agent_version = self.agent_version

        figures: dict[str, Any] | None | Unset
        if isinstance(self.figures, Unset):
            figures = UNSET
        elif isinstance(self.figures, ClusterFiguresType0):
            figures = self.figures.to_dict()
        else:
            figures = self.figures

        last_heartbeat_at: None | str | Unset
        if isinstance(self.last_heartbeat_at, Unset):
            last_heartbeat_at = UNSET
        elif isinstance(self.last_heartbeat_at, datetime.datetime):
            last_heartbeat_at = self.last_heartbeat_at.isoformat()
        else:
            last_heartbeat_at = self.last_heartbeat_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account": account,
                "identity_cas": identity_cas,
                "labels": labels,
                "name": name,
                "registered_at": registered_at,
                "server": server,
                "server_ca": server_ca,
                "spiffe_prefix": spiffe_prefix,
                "status": status,
                "status_changed_at": status_changed_at,
                "updated_at": updated_at,
                "outcome": outcome,
            }
        )
        if agent_version is not UNSET:
            field_dict["agent_version"] = agent_version
        if figures is not UNSET:
            field_dict["figures"] = figures
        if last_heartbeat_at is not UNSET:
            field_dict["last_heartbeat_at"] = last_heartbeat_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.certificate_info import CertificateInfo  # noqa: PLC0415
        from ..models.cluster_figures_type_0 import ClusterFiguresType0  # noqa: PLC0415
        from ..models.cluster_labels_type_0 import ClusterLabelsType0  # noqa: PLC0415
        from ..models.identity_ca import IdentityCa  # noqa: PLC0415

        d = dict(src_dict)
        account = d.pop("account")

        identity_cas = []
        _identity_cas = d.pop("identity_cas")
        for identity_cas_item_data in _identity_cas:
            identity_cas_item = IdentityCa.from_dict(identity_cas_item_data)

            identity_cas.append(identity_cas_item)

        def _parse_labels(data: object) -> ClusterLabelsType0:
            if not isinstance(data, dict):
                raise TypeError()
            labels_type_0 = ClusterLabelsType0.from_dict(data)

            return labels_type_0

        labels = _parse_labels(d.pop("labels"))

        name = d.pop("name")

        registered_at = datetime.datetime.fromisoformat(d.pop("registered_at"))

        server = d.pop("server")

        server_ca = CertificateInfo.from_dict(d.pop("server_ca"))

        spiffe_prefix = d.pop("spiffe_prefix")

        status = Status(d.pop("status"))

        status_changed_at = datetime.datetime.fromisoformat(d.pop("status_changed_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        outcome = Outcome(d.pop("outcome"))

        def _parse_agent_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        agent_version = _parse_agent_version(d.pop("agent_version", UNSET))

        def _parse_figures(data: object) -> ClusterFiguresType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                figures_type_0 = ClusterFiguresType0.from_dict(data)

                return figures_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ClusterFiguresType0 | None | Unset, data)

        figures = _parse_figures(d.pop("figures", UNSET))

        def _parse_last_heartbeat_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_heartbeat_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_heartbeat_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_heartbeat_at = _parse_last_heartbeat_at(d.pop("last_heartbeat_at", UNSET))

        registered = cls(
            account=account,
            identity_cas=identity_cas,
            labels=labels,
            name=name,
            registered_at=registered_at,
            server=server,
            server_ca=server_ca,
            spiffe_prefix=spiffe_prefix,
            status=status,
            status_changed_at=status_changed_at,
            updated_at=updated_at,
            outcome=outcome,
            agent_version=agent_version,
            figures=figures,
            last_heartbeat_at=last_heartbeat_at,
        )

        registered.additional_properties = d
        return registered

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
