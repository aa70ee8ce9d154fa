from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CertificateInfo")


@_attrs_define
class CertificateInfo:
    """What Flotilla shows of a certificate it holds.

    Attributes:
        key (str): The key: `EC P-256`, `EC P-384`, `RSA 2048-bit`, `Ed25519`.
        not_after (datetime.datetime): Valid until.
        not_before (datetime.datetime): Valid from.
        sha256 (str): SHA-256 fingerprint of the DER, lower-case hex. Example:
            9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.
        subject (str): The subject name.
    """

    key: str
    not_after: datetime.datetime
    not_before: datetime.datetime
    sha256: str
    subject: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key = self.key

        not_after = self.not_after.isoformat()

        not_before = self.not_before.isoformat()

        sha256 = self.sha256

        subject = self.subject

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key": key,
                "not_after": not_after,
                "not_before": not_before,
                "sha256": sha256,
                "subject": subject,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        not_after = datetime.datetime.fromisoformat(d.pop("not_after"))

        not_before = datetime.datetime.fromisoformat(d.pop("not_before"))

        sha256 = d.pop("sha256")

        subject = d.pop("subject")

        certificate_info = cls(
            key=key,
            not_after=not_after,
            not_before=not_before,
            sha256=sha256,
            subject=subject,
        )

        certificate_info.additional_properties = d
        return certificate_info

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
