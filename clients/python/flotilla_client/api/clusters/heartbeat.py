from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.heartbeat import Heartbeat
from ...models.heartbeat_ack import HeartbeatAck
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    account: str,
    cluster: str,
    *,
    body: Heartbeat,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/accounts/{account}/clusters/{cluster}/heartbeat".format(
            account=quote(str(account), safe=""),
            cluster=quote(str(cluster), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> HeartbeatAck | Problem | None:
    if response.status_code == 200:
        response_200 = HeartbeatAck.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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
) -> Response[HeartbeatAck | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    account: str,
    cluster: str,
    *,
    client: AuthenticatedClient,
    body: Heartbeat,
) -> Response[HeartbeatAck | Problem]:
    """Records a heartbeat of the agent's own cluster.

    Args:
        account (str):
        cluster (str):
        body (Heartbeat): A heartbeat.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HeartbeatAck | Problem]
    """

    kwargs = _get_kwargs(
        account=account,
        cluster=cluster,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account: str,
    cluster: str,
    *,
    client: AuthenticatedClient,
    body: Heartbeat,
) -> HeartbeatAck | Problem | None:
    """Records a heartbeat of the agent's own cluster.

    Args:
        account (str):
        cluster (str):
        body (Heartbeat): A heartbeat.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HeartbeatAck | Problem
    """

    return sync_detailed(
        account=account,
        cluster=cluster,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    account: str,
    cluster: str,
    *,
    client: AuthenticatedClient,
    body: Heartbeat,
) -> Response[HeartbeatAck | Problem]:
    """Records a heartbeat of the agent's own cluster.

    Args:
        account (str):
        cluster (str):
        body (Heartbeat): A heartbeat.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HeartbeatAck | Problem]
    """

    kwargs = _get_kwargs(
        account=account,
        cluster=cluster,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account: str,
    cluster: str,
    *,
    client: AuthenticatedClient,
    body: Heartbeat,
) -> HeartbeatAck | Problem | None:
    """Records a heartbeat of the agent's own cluster.

    Args:
        account (str):
        cluster (str):
        body (Heartbeat): A heartbeat.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HeartbeatAck | Problem
    """

    return (
        await asyncio_detailed(
            account=account,
            cluster=cluster,
            client=client,
            body=body,
        )
    ).parsed
