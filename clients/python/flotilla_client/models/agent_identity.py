from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AgentIdentity")


@_attrs_define
class AgentIdentity:
    """The agent as Flotilla sees it.

    Attributes:
        account (str): The account.
        cluster (str): The cluster the assertion speaks for.
        expires_at (datetime.datetime): When the assertion expires.
        subject (str): The assertion's subject. Example: spiffe://eu-1/ns/admiralty/id/agent.
    """

    account: str
    cluster: str
    expires_at: datetime.datetime
    subject: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account = self.account

        cluster = self.cluster

        expires_at = self.expires_at.isoformat()

        subject = self.subject

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account": account,
                "cluster": cluster,
                "expires_at": expires_at,
                "subject": subject,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account = d.pop("account")

        cluster = d.pop("cluster")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        subject = d.pop("subject")

        agent_identity = cls(
            account=account,
            cluster=cluster,
            expires_at=expires_at,
            subject=subject,
        )

        agent_identity.additional_properties = d
        return agent_identity

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
