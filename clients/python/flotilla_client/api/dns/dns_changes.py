from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.change_list import ChangeList
from ...models.dns_changes_status import DnsChangesStatus
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account: str,
    *,
    before: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    status: DnsChangesStatus | Unset = UNSET,
    host: str | Unset = UNSET,
) -> dict[str, Any]:
    params: dict[str, Any] = {}

    params["before"] = before

    params["limit"] = limit

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["host"] = host

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/accounts/{account}/dns/changes".format(
            account=quote(str(account), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ChangeList | Problem | None:
    if response.status_code == 200:
        response_200 = ChangeList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ChangeList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    account: str,
    *,
    client: AuthenticatedClient,
    before: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    status: DnsChangesStatus | Unset = UNSET,
    host: str | Unset = UNSET,
) -> Response[ChangeList | Problem]:
    """The history of the changes sent (or queued) for the account's hosts, newest first.

    Args:
        account (str):
        before (int | Unset):
        limit (int | Unset):
        status (DnsChangesStatus | Unset): The statuses a change may have (read as text, so that
            another one is refused with a
            message naming them).
        host (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangeList | Problem]
    """

    kwargs = _get_kwargs(
        account=account,
        before=before,
        limit=limit,
        status=status,
        host=host,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account: str,
    *,
    client: AuthenticatedClient,
    before: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    status: DnsChangesStatus | Unset = UNSET,
    host: str | Unset = UNSET,
) -> ChangeList | Problem | None:
    """The history of the changes sent (or queued) for the account's hosts, newest first.

    Args:
        account (str):
        before (int | Unset):
        limit (int | Unset):
        status (DnsChangesStatus | Unset): The statuses a change may have (read as text, so that
            another one is refused with a
            message naming them).
        host (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangeList | Problem
    """

    return sync_detailed(
        account=account,
        client=client,
        before=before,
        limit=limit,
        status=status,
        host=host,
    ).parsed


async def asyncio_detailed(
    account: str,
    *,
    client: AuthenticatedClient,
    before: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    status: DnsChangesStatus | Unset = UNSET,
    host: str | Unset = UNSET,
) -> Response[ChangeList | Problem]:
    """The history of the changes sent (or queued) for the account's hosts, newest first.

    Args:
        account (str):
        before (int | Unset):
        limit (int | Unset):
        status (DnsChangesStatus | Unset): The statuses a change may have (read as text, so that
            another one is refused with a
            message naming them).
        host (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangeList | Problem]
    """

    kwargs = _get_kwargs(
        account=account,
        before=before,
        limit=limit,
        status=status,
        host=host,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account: str,
    *,
    client: AuthenticatedClient,
    before: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    status: DnsChangesStatus | Unset = UNSET,
    host: str | Unset = UNSET,
) -> ChangeList | Problem | None:
    """The history of the changes sent (or queued) for the account's hosts, newest first.

    Args:
        account (str):
        before (int | Unset):
        limit (int | Unset):
        status (DnsChangesStatus | Unset): The statuses a change may have (read as text, so that
            another one is refused with a
            message naming them).
        host (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangeList | Problem
    """

    return (
        await asyncio_detailed(
            account=account,
            client=client,
            before=before,
            limit=limit,
            status=status,
            host=host,
        )
    ).parsed
