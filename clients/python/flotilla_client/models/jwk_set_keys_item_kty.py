from enum import StrEnum


class JwkSetKeysItemKty(StrEnum):
    EC = "EC"
    RSA = "RSA"

    def __str__(self) -> str:
        return str(self.value)
