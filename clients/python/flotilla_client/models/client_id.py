from enum import StrEnum


class ClientId(StrEnum):
    FLOTILLA_CLI = "flotilla-cli"

    def __str__(self) -> str:
        return str(self.value)
