//! SNMP GETs through `async-snmp` (pinned in Cargo.toml), behind a trait of our own so the
//! probe does not depend on the library's types and a test can substitute it.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_snmp::transport::UdpTransport;
use async_snmp::v3::{AuthProtocol, PrivProtocol};
use async_snmp::{Auth, Client, Oid, Retry, Value};

use crate::transport::Classified;
use crate::wire::snmp::SnmpError;

/// Credentials for the GET. Debug output never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum SnmpCredentials {
    V1 {
        community: String,
    },
    V2c {
        community: String,
    },
    V3 {
        user: String,
        auth: Option<(SnmpAuth, String)>,
        privacy: Option<(SnmpPriv, String)>,
    },
}

impl fmt::Debug for SnmpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnmpCredentials::V1 { .. } => f.write_str("V1 { community: <redacted> }"),
            SnmpCredentials::V2c { .. } => f.write_str("V2c { community: <redacted> }"),
            SnmpCredentials::V3 {
                user,
                auth,
                privacy,
            } => write!(
                f,
                "V3 {{ user: {user:?}, auth: {:?}, privacy: {:?} }}",
                auth.as_ref().map(|(p, _)| p),
                privacy.as_ref().map(|(p, _)| p)
            ),
        }
    }
}

impl SnmpCredentials {
    pub fn version(&self) -> &'static str {
        match self {
            SnmpCredentials::V1 { .. } => "v1",
            SnmpCredentials::V2c { .. } => "v2c",
            SnmpCredentials::V3 { .. } => "v3",
        }
    }

    /// The USM security level, for evidence.
    pub fn level(&self) -> &'static str {
        match self {
            SnmpCredentials::V3 { auth: None, .. } => "noAuthNoPriv",
            SnmpCredentials::V3 { privacy: None, .. } => "authNoPriv",
            SnmpCredentials::V3 { .. } => "authPriv",
            _ => "community",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnmpAuth {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnmpPriv {
    Des,
    Aes128,
    Aes192,
    Aes256,
}

/// An SNMPv3 protocol name we do not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SNMPv3 {kind} protocol '{name}' ({known})")]
pub struct UnknownProtocol {
    pub kind: &'static str,
    pub name: String,
    pub known: &'static str,
}

impl std::str::FromStr for SnmpAuth {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Self, UnknownProtocol> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Ok(SnmpAuth::Md5),
            "sha" | "sha1" => Ok(SnmpAuth::Sha1),
            "sha224" => Ok(SnmpAuth::Sha224),
            "sha256" => Ok(SnmpAuth::Sha256),
            "sha384" => Ok(SnmpAuth::Sha384),
            "sha512" => Ok(SnmpAuth::Sha512),
            _ => Err(UnknownProtocol {
                kind: "auth",
                name: s.to_string(),
                known: "md5, sha, sha224, sha256, sha384, sha512",
            }),
        }
    }
}

/// Protocols are read from a profile by the names the flags take.
impl<'de> serde::Deserialize<'de> for SnmpAuth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for SnmpPriv {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for SnmpPriv {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Self, UnknownProtocol> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "des" => Ok(SnmpPriv::Des),
            "aes" | "aes128" => Ok(SnmpPriv::Aes128),
            "aes192" => Ok(SnmpPriv::Aes192),
            "aes256" => Ok(SnmpPriv::Aes256),
            _ => Err(UnknownProtocol {
                kind: "privacy",
                name: s.to_string(),
                known: "des, aes, aes192, aes256",
            }),
        }
    }
}

/// sysDescr.0, sysObjectID.0 and sysName.0, as far as the agent gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemInfo {
    pub sys_descr: Option<String>,
    pub sys_object_id: Option<String>,
    pub sys_name: Option<String>,
}

/// Why a GET gave nothing.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SnmpGetError {
    #[error("no answer to the GET")]
    Timeout,
    /// A v1/v2c agent answered with an error status (a wrong community gets silence).
    #[error("the agent refused the request (error-status {0})")]
    ErrorStatus(i64),
    /// A v3 agent refused the user or keys (an authentication failure or a report).
    #[error("the agent refused the credentials ({0})")]
    Refused(Arc<async_snmp::Error>),
    /// The GET met an ICMP error or a local failure on the way.
    #[error("{}", .0.summary)]
    Unreachable(Box<Classified>),
    #[error("could not open a UDP socket: {0}")]
    Socket(Arc<std::io::Error>),
    #[error("not an SNMP response: {0}")]
    NotSnmp(#[from] SnmpError),
    #[error("the response answers another request")]
    OtherRequest,
    /// The v3 keys cannot be derived (a key too short for its protocol).
    #[error("SNMPv3 settings: {0}")]
    Settings(Arc<async_snmp::v3::CryptoError>),
    /// The v3 client failed in another way (socket, decoding).
    #[error("SNMPv3: {0}")]
    Client(Arc<async_snmp::Error>),
}

impl SnmpGetError {
    /// Whether the failure may have been an ICMP error, and so spent the host's budget; a
    /// reply (refused credentials are a reply) or silence leaves it whole.
    pub fn may_be_icmp(&self) -> bool {
        matches!(
            self,
            SnmpGetError::Unreachable(_) | SnmpGetError::Socket(_) | SnmpGetError::Client(_)
        )
    }
}

/// Reads the system group of an agent.
pub trait SnmpGetter: Send + Sync {
    fn get_system(
        &self,
        peer: SocketAddr,
        credentials: &SnmpCredentials,
        timeout: Duration,
        retries: u32,
    ) -> impl Future<Output = Result<SystemInfo, SnmpGetError>> + Send;
}

/// The `async-snmp` implementation. Every GET of a run goes through one shared UDP socket per
/// address family (the crate matches replies to requests by id and source), as MVE itself
/// does: a client of its own per GET would hold a socket and a 64 KiB receive buffer each,
/// which at fleet scale is most of the memory of a run.
#[derive(Default)]
pub struct AsyncSnmp {
    v4: tokio::sync::OnceCell<UdpTransport>,
    v6: tokio::sync::OnceCell<UdpTransport>,
}

impl fmt::Debug for AsyncSnmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSnmp")
            .field("v4", &self.v4.initialized())
            .field("v6", &self.v6.initialized())
            .finish()
    }
}

impl AsyncSnmp {
    async fn transport(&self, peer: SocketAddr) -> Result<&UdpTransport, SnmpGetError> {
        let (cell, any) = if peer.is_ipv4() {
            (&self.v4, "0.0.0.0:0")
        } else {
            (&self.v6, "[::]:0")
        };
        cell.get_or_try_init(|| UdpTransport::bind(any))
            .await
            .map_err(|e| SnmpGetError::Client(Arc::from(e)))
    }
}

use crate::wire::snmp::{SYS_DESCR, SYS_NAME, SYS_OBJECT_ID};

fn auth_of(credentials: &SnmpCredentials) -> Result<Auth, SnmpGetError> {
    Ok(match credentials {
        SnmpCredentials::V1 { community } => Auth::v1(community.as_str()),
        SnmpCredentials::V2c { community } => Auth::v2c(community.as_str()),
        SnmpCredentials::V3 {
            user,
            auth,
            privacy,
        } => {
            let config = async_snmp::UsmConfig::new(bytes_of(user));
            let config = match (auth, privacy) {
                (None, _) => Ok(config),
                (Some((a, key)), None) => config.auth(auth_protocol(*a), key),
                (Some((a, akey)), Some((p, pkey))) => {
                    config.auth_priv(auth_protocol(*a), akey, priv_protocol(*p), pkey)
                }
            }
            .map_err(|e| SnmpGetError::Settings(Arc::new(e)))?;
            Auth::Usm(config)
        }
    })
}

fn bytes_of(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn auth_protocol(auth: SnmpAuth) -> AuthProtocol {
    match auth {
        SnmpAuth::Md5 => AuthProtocol::Md5,
        SnmpAuth::Sha1 => AuthProtocol::Sha1,
        SnmpAuth::Sha224 => AuthProtocol::Sha224,
        SnmpAuth::Sha256 => AuthProtocol::Sha256,
        SnmpAuth::Sha384 => AuthProtocol::Sha384,
        SnmpAuth::Sha512 => AuthProtocol::Sha512,
    }
}

fn priv_protocol(privacy: SnmpPriv) -> PrivProtocol {
    match privacy {
        SnmpPriv::Des => PrivProtocol::Des,
        SnmpPriv::Aes128 => PrivProtocol::Aes128,
        SnmpPriv::Aes192 => PrivProtocol::Aes192Blumenthal,
        SnmpPriv::Aes256 => PrivProtocol::Aes256Blumenthal,
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::OctetString(_) | Value::ObjectIdentifier(_) => {
            Some(value.to_string().chars().take(256).collect())
        }
        _ => None,
    }
}

impl SnmpGetter for AsyncSnmp {
    async fn get_system(
        &self,
        peer: SocketAddr,
        credentials: &SnmpCredentials,
        timeout: Duration,
        retries: u32,
    ) -> Result<SystemInfo, SnmpGetError> {
        let auth = auth_of(credentials)?;
        let retry = Retry::fixed(retries, Duration::ZERO).unwrap_or_else(|_| Retry::none());
        let transport = self.transport(peer).await?;
        let client = Client::builder(peer.to_string(), auth)
            .request_timeout(timeout)
            .retry(retry)
            .build_with(transport)
            .await
            .map_err(|e| SnmpGetError::Client(Arc::from(e)))?;
        let oids = [
            Oid::from_slice(&SYS_DESCR),
            Oid::from_slice(&SYS_OBJECT_ID),
            Oid::from_slice(&SYS_NAME),
        ];
        let response = client.get_many(&oids).await.map_err(|e| match e.kind() {
            async_snmp::ErrorKind::Timeout => SnmpGetError::Timeout,
            async_snmp::ErrorKind::Auth | async_snmp::ErrorKind::Report => {
                SnmpGetError::Refused(Arc::from(e))
            }
            _ => SnmpGetError::Client(Arc::from(e)),
        })?;
        let mut info = SystemInfo::default();
        for varbind in &response.varbinds {
            let arcs = varbind.oid.arcs();
            let value = text_of(&varbind.value);
            if arcs == SYS_DESCR {
                info.sys_descr = value;
            } else if arcs == SYS_OBJECT_ID {
                info.sys_object_id = value;
            } else if arcs == SYS_NAME {
                info.sys_name = value;
            }
        }
        Ok(info)
    }
}
