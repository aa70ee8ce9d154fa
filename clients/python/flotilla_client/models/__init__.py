"""Contains all the data models used in inputs/outputs"""

from .account import Account
from .account_role import AccountRole
from .account_settings import AccountSettings
from .action import Action
from .action_view import ActionView
from .agent_identity import AgentIdentity
from .api_token import ApiToken
from .audit_event import AuditEvent
from .audit_event_details import AuditEventDetails
from .audit_page import AuditPage
from .authorization_server_response_200 import AuthorizationServerResponse200
from .bundle_map import BundleMap
from .bundle_map_trust_domains import BundleMapTrustDomains
from .certificate_info import CertificateInfo
from .change_list import ChangeList
from .change_view import ChangeView
from .client_id import ClientId
from .cluster import Cluster
from .cluster_endpoints import ClusterEndpoints
from .cluster_event import ClusterEvent
from .cluster_events import ClusterEvents
from .cluster_figures_type_0 import ClusterFiguresType0
from .cluster_labels_type_0 import ClusterLabelsType0
from .cluster_registration import ClusterRegistration
from .cluster_registration_labels_type_0 import ClusterRegistrationLabelsType0
from .created_api_token import CreatedApiToken
from .created_registration_token import CreatedRegistrationToken
from .device_authorization import DeviceAuthorization
from .device_request import DeviceRequest
from .dns_changes_status import DnsChangesStatus
from .endpoint_changes import EndpointChanges
from .endpoint_list import EndpointList
from .endpoint_report import EndpointReport
from .endpoint_set_report import EndpointSetReport
from .endpoint_view import EndpointView
from .exchange_response import ExchangeResponse
from .field_error import FieldError
from .grant_type import GrantType
from .health import Health
from .heartbeat import Heartbeat
from .heartbeat_ack import HeartbeatAck
from .heartbeat_figures_type_0 import HeartbeatFiguresType0
from .host_endpoint_report import HostEndpointReport
from .identity_ca import IdentityCa
from .identity_provider import IdentityProvider
from .jwk_set import JwkSet
from .jwk_set_keys_item import JwkSetKeysItem
from .jwk_set_keys_item_kty import JwkSetKeysItemKty
from .jwks_response_200 import JwksResponse200
from .jwt_authorities import JwtAuthorities
from .jwt_authorities_keys_item import JwtAuthoritiesKeysItem
from .kubeconfig import Kubeconfig
from .kubeconfig_format import KubeconfigFormat
from .me import Me
from .member import Member
from .name_check import NameCheck
from .name_check_request import NameCheckRequest
from .name_kind import NameKind
from .new_account import NewAccount
from .new_api_token import NewApiToken
from .new_member import NewMember
from .new_registration_token import NewRegistrationToken
from .new_registration_token_labels import NewRegistrationTokenLabels
from .o_auth_error import OAuthError
from .openid_configuration_response_200 import OpenidConfigurationResponse200
from .outcome import Outcome
from .person_summary import PersonSummary
from .problem import Problem
from .record_data import RecordData
from .record_list import RecordList
from .record_view import RecordView
from .registered import Registered
from .registration_token import RegistrationToken
from .registration_token_labels_type_0 import RegistrationTokenLabelsType0
from .revoke_request import RevokeRequest
from .role import Role
from .spiffe_bundle import SpiffeBundle
from .spiffe_bundle_keys_item import SpiffeBundleKeysItem
from .status import Status
from .token_request import TokenRequest
from .token_response import TokenResponse

__all__ = (
    "Account",
    "AccountRole",
    "AccountSettings",
    "Action",
    "ActionView",
    "AgentIdentity",
    "ApiToken",
    "AuditEvent",
    "AuditEventDetails",
    "AuditPage",
    "AuthorizationServerResponse200",
    "BundleMap",
    "BundleMapTrustDomains",
    "CertificateInfo",
    "ChangeList",
    "ChangeView",
    "ClientId",
    "Cluster",
    "ClusterEndpoints",
    "ClusterEvent",
    "ClusterEvents",
    "ClusterFiguresType0",
    "ClusterLabelsType0",
    "ClusterRegistration",
    "ClusterRegistrationLabelsType0",
    "CreatedApiToken",
    "CreatedRegistrationToken",
    "DeviceAuthorization",
    "DeviceRequest",
    "DnsChangesStatus",
    "EndpointChanges",
    "EndpointList",
    "EndpointReport",
    "EndpointSetReport",
    "EndpointView",
    "ExchangeResponse",
    "FieldError",
    "GrantType",
    "Health",
    "Heartbeat",
    "HeartbeatAck",
    "HeartbeatFiguresType0",
    "HostEndpointReport",
    "IdentityCa",
    "IdentityProvider",
    "JwkSet",
    "JwkSetKeysItem",
    "JwkSetKeysItemKty",
    "JwksResponse200",
    "JwtAuthorities",
    "JwtAuthoritiesKeysItem",
    "Kubeconfig",
    "KubeconfigFormat",
    "Me",
    "Member",
    "NameCheck",
    "NameCheckRequest",
    "NameKind",
    "NewAccount",
    "NewApiToken",
    "NewMember",
    "NewRegistrationToken",
    "NewRegistrationTokenLabels",
    "OAuthError",
    "OpenidConfigurationResponse200",
    "Outcome",
    "PersonSummary",
    "Problem",
    "RecordData",
    "RecordList",
    "RecordView",
    "Registered",
    "RegistrationToken",
    "RegistrationTokenLabelsType0",
    "RevokeRequest",
    "Role",
    "SpiffeBundle",
    "SpiffeBundleKeysItem",
    "Status",
    "TokenRequest",
    "TokenResponse",
)
