from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.client_id import ClientId
from ..models.grant_type import GrantType
from ..types import UNSET, Unset

T = TypeVar("T", bound="TokenRequest")


@_attrs_define
class TokenRequest:
    """A token request (form-encoded).

    Attributes:
        client_id (ClientId): The clients Flotilla's authorization server knows (read as text, so that another one is
            answered with OAuth's `invalid_client`).
        grant_type (GrantType): The grants the token endpoint knows (read as text, so that another one is answered with
            OAuth's `unsupported_grant_type`).
        audience (None | str | Unset): For token exchange: the cluster's audience,
            `<issuer>/clusters/<account>/<cluster>`.
        code (None | str | Unset): For `authorization_code`: the code.
        code_verifier (None | str | Unset): For `authorization_code`: the PKCE verifier.
        device_code (None | str | Unset): For the device grant: the device code.
        redirect_uri (None | str | Unset): For `authorization_code`: the same redirect URI as in the authorization
            request.
        refresh_token (None | str | Unset): For `refresh_token`: the refresh token.
        requested_token_type (None | str | Unset): For token exchange: optional, `urn:ietf:params:oauth:token-type:jwt`.
        subject_token (None | str | Unset): For token exchange: the person's access token.
        subject_token_type (None | str | Unset): For token exchange: `urn:ietf:params:oauth:token-type:access_token`.
    """

    client_id: ClientId
    grant_type: GrantType
    audience: None | str | Unset = UNSET
    code: None | str | Unset = UNSET
    code_verifier: None | str | Unset = UNSET
    device_code: None | str | Unset = UNSET
    redirect_uri: None | str | Unset = UNSET
    refresh_token: None | str | Unset = UNSET
    requested_token_type: None | str | Unset = UNSET
    subject_token: None | str | Unset = UNSET
    subject_token_type: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id.value

        grant_type = self.grant_type.value

        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        code: None | str | Unset
        if isinstance(self.code, Unset):
            code = UNSET
        else:
            code = self.code

        code_verifier: None | str | Unset
        if isinstance(self.code_verifier, Unset):
            code_verifier = UNSET
        else:
            code_verifier = self.code_verifier

        device_code: None | str | Unset
        if isinstance(self.device_code, Unset):
            device_code = UNSET
        else:
            device_code = self.device_code

        redirect_uri: None | str | Unset
        if isinstance(self.redirect_uri, Unset):
            redirect_uri = UNSET
        else:
            redirect_uri = self.redirect_uri

        refresh_token: None | str | Unset
        if isinstance(self.refresh_token, Unset):
            refresh_token = UNSET
        else:
            refresh_token = self.refresh_token

        requested_token_type: None | str | Unset
        if isinstance(self.requested_token_type, Unset):
            requested_token_type = UNSET
        else:
            requested_token_type = self.requested_token_type

        subject_token: None | str | Unset
        if isinstance(self.subject_token, Unset):
            subject_token = UNSET
        else:
            subject_token = self.subject_token

        subject_token_type: None | str | Unset
        if isinstance(self.subject_token_type, Unset):
            subject_token_type = UNSET
        else:
            subject_token_type = self.subject_token_type

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "grant_type": grant_type,
            }
        )
        if audience is not UNSET:
            field_dict["audience"] = audience
        if code is not UNSET:
            field_dict["code"] = code
        if code_verifier is not UNSET:
            field_dict["code_verifier"] = code_verifier
        if device_code is not UNSET:
            field_dict["device_code"] = device_code
        if redirect_uri is not UNSET:
            field_dict["redirect_uri"] = redirect_uri
        if refresh_token is not UNSET:
            field_dict["refresh_token"] = refresh_token
        if requested_token_type is not UNSET:
            field_dict["requested_token_type"] = requested_token_type
        if subject_token is not UNSET:
            field_dict["subject_token"] = subject_token
        if subject_token_type is not UNSET:
            field_dict["subject_token_type"] = subject_token_type

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = ClientId(d.pop("client_id"))

        grant_type = GrantType(d.pop("grant_type"))

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        def _parse_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        code = _parse_code(d.pop("code", UNSET))

        def _parse_code_verifier(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        code_verifier = _parse_code_verifier(d.pop("code_verifier", UNSET))

        def _parse_device_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_code = _parse_device_code(d.pop("device_code", UNSET))

        def _parse_redirect_uri(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        redirect_uri = _parse_redirect_uri(d.pop("redirect_uri", UNSET))

        def _parse_refresh_token(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        refresh_token = _parse_refresh_token(d.pop("refresh_token", UNSET))

        def _parse_requested_token_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        requested_token_type = _parse_requested_token_type(d.pop("requested_token_type", UNSET))

        def _parse_subject_token(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subject_token = _parse_subject_token(d.pop("subject_token", UNSET))

        def _parse_subject_token_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subject_token_type = _parse_subject_token_type(d.pop("subject_token_type", UNSET))

        token_request = cls(
            client_id=client_id,
            grant_type=grant_type,
            audience=audience,
            code=code,
            code_verifier=code_verifier,
            device_code=device_code,
            redirect_uri=redirect_uri,
            refresh_token=refresh_token,
            requested_token_type=requested_token_type,
            subject_token=subject_token,
            subject_token_type=subject_token_type,
        )

        token_request.additional_properties = d
        return token_request

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
