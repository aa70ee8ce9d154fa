from enum import StrEnum


class KubeconfigFormat(StrEnum):
    JSON = "json"
    KUBECONFIG = "kubeconfig"

    def __str__(self) -> str:
        return str(self.value)
