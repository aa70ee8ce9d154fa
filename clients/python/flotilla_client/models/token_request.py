from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TokenRequest")


@_attrs_define
class TokenRequest:
    """A token request (form-encoded).

    Attributes:
        audience (None | str | Unset): For token exchange: the cluster's audience,
            `<issuer>/clusters/<account>/<cluster>`.
        client_id (None | str | Unset): The client: `flotilla-cli`.
        code (None | str | Unset): For `authorization_code`: the code.
        code_verifier (None | str | Unset): For `authorization_code`: the PKCE verifier.
        device_code (None | str | Unset): For the device grant: the device code.
        grant_type (None | str | Unset): `authorization_code`, `refresh_token`, `urn:ietf:params:oauth:grant-
            type:device_code`
            or `urn:ietf:params:oauth:grant-type:token-exchange`.
        redirect_uri (None | str | Unset): For `authorization_code`: the same redirect URI as in the authorization
            request.
        refresh_token (None | str | Unset): For `refresh_token`: the refresh token.
        requested_token_type (None | str | Unset): For token exchange: optional, `urn:ietf:params:oauth:token-type:jwt`.
        subject_token (None | str | Unset): For token exchange: the person's access token.
        subject_token_type (None | str | Unset): For token exchange: `urn:ietf:params:oauth:token-type:access_token`.
    """

    audience: None | str | Unset = UNSET
    client_id: None | str | Unset = UNSET
    code: None | str | Unset = UNSET
    code_verifier: None | str | Unset = UNSET
    device_code: None | str | Unset = UNSET
    grant_type: None | str | Unset = UNSET
    redirect_uri: None | str | Unset = UNSET
    refresh_token: None | str | Unset = UNSET
    requested_token_type: None | str | Unset = UNSET
    subject_token: None | str | Unset = UNSET
    subject_token_type: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        client_id: None | str | Unset
        if isinstance(self.client_id, Unset):
            client_id = UNSET
        else:
            client_id = self.client_id

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

        grant_type: None | str | Unset
        if isinstance(self.grant_type, Unset):
            grant_type = UNSET
        else:
            grant_type = self.grant_type

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
        field_dict.update({})
        if audience is not UNSET:
            field_dict["audience"] = audience
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if code is not UNSET:
            field_dict["code"] = code
        if code_verifier is not UNSET:
            field_dict["code_verifier"] = code_verifier
        if device_code is not UNSET:
            field_dict["device_code"] = device_code
        if grant_type is not UNSET:
            field_dict["grant_type"] = grant_type
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

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        def _parse_client_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_id = _parse_client_id(d.pop("client_id", UNSET))

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

        def _parse_grant_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        grant_type = _parse_grant_type(d.pop("grant_type", UNSET))

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
            audience=audience,
            client_id=client_id,
            code=code,
            code_verifier=code_verifier,
            device_code=device_code,
            grant_type=grant_type,
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
