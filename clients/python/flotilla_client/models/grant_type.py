from enum import StrEnum


class GrantType(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    URNIETFPARAMSOAUTHGRANT_TYPEDEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
    URNIETFPARAMSOAUTHGRANT_TYPETOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"

    def __str__(self) -> str:
        return str(self.value)
