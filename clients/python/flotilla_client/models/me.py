from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.account_role import AccountRole
    from ..models.person_summary import PersonSummary


T = TypeVar("T", bound="Me")


@_attrs_define
class Me:
    """Who is calling, and their accounts and roles.

    Attributes:
        accounts (list[AccountRole]): The caller's accounts and roles, by name.
        api_token (None | Unset | UUID): The API token's id, when the caller is one.
        person (None | PersonSummary | Unset):
    """

    accounts: list[AccountRole]
    api_token: None | Unset | UUID = UNSET
    person: None | PersonSummary | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.person_summary import PersonSummary  # noqa: PLC0415

        accounts = []
        for accounts_item_data in self.accounts:
            accounts_item = accounts_item_data.to_dict()
            accounts.append(accounts_item)

        api_token: None | str | Unset
        if isinstance(self.api_token, Unset):
            api_token = UNSET
        elif isinstance(self.api_token, UUID):
            api_token = str(self.api_token)
        else:
            api_token = self.api_token

        person: dict[str, Any] | None | Unset
        if isinstance(self.person, Unset):
            person = UNSET
        elif isinstance(self.person, PersonSummary):
            person = self.person.to_dict()
        else:
            person = self.person

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accounts": accounts,
            }
        )
        if api_token is not UNSET:
            field_dict["api_token"] = api_token
        if person is not UNSET:
            field_dict["person"] = person

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_role import AccountRole  # noqa: PLC0415
        from ..models.person_summary import PersonSummary  # noqa: PLC0415

        d = dict(src_dict)
        accounts = []
        _accounts = d.pop("accounts")
        for accounts_item_data in _accounts:
            accounts_item = AccountRole.from_dict(accounts_item_data)

            accounts.append(accounts_item)

        def _parse_api_token(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                api_token_type_0 = UUID(data)

                return api_token_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        api_token = _parse_api_token(d.pop("api_token", UNSET))

        def _parse_person(data: object) -> None | PersonSummary | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                person_type_1 = PersonSummary.from_dict(data)

                return person_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PersonSummary | Unset, data)

        person = _parse_person(d.pop("person", UNSET))

        me = cls(
            accounts=accounts,
            api_token=api_token,
            person=person,
        )

        me.additional_properties = d
        return me

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
