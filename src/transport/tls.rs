//! TLS for the audit: rustls with the ring provider, accepting any certificate (an audit reports
//! what is wrong with a certificate instead of refusing it) while still checking the handshake
//! signatures, so a reply really comes from the key in the certificate shown.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::wire::x509::{CertFacts, parse_certificate};

/// What the handshake established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFacts {
    pub version: String,
    pub cipher: String,
    pub cert: Option<CertFacts>,
    /// Why the certificate's facts could not be read, when they could not.
    pub cert_error: Option<String>,
}

/// How a handshake ended.
#[derive(Debug)]
pub enum Handshake<S> {
    Done(Box<TlsStream<S>>, TlsFacts),
    /// The peer speaks TLS but not a version or cipher we share (old firmware: TLS 1.0 only,
    /// RSA key exchange), or refused us with an alert.
    Incompatible(Refusal),
    /// What came back is not TLS at all, or not a TLS server's (our own ClientHello echoed).
    NotTls(String),
    /// The connection broke or timed out.
    Failed(Failure),
}

/// Why a TLS peer refused us.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the server refused the handshake with alert {0:?}")]
    Alert(rustls::AlertDescription),
    #[error("no common TLS version or cipher ({0:?})")]
    NothingShared(rustls::PeerIncompatible),
    #[error("{0}")]
    Other(rustls::Error),
    #[error("the server closed the connection during the handshake")]
    Closed,
}

/// Why a handshake did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no TLS protocol version could be configured")]
    NoConfig,
    #[error("'{0}' cannot be sent as SNI")]
    ServerName(String),
    #[error("the TLS handshake did not finish in time")]
    Timeout,
    #[error("{0}")]
    Io(io::Error),
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connector() -> Option<TlsConnector> {
    static CONFIG: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .ok()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth();
            Some(Arc::new(config))
        })
        .clone()
        .map(TlsConnector::from)
}

/// Runs a TLS handshake over `stream` within `timeout`. `name` is sent as SNI when it is a
/// host name; an address is used as is.
pub async fn handshake<S>(stream: S, name: &str, timeout: Duration) -> Handshake<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(connector) = connector() else {
        return Handshake::Failed(Failure::NoConfig);
    };
    let server_name = match name.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => match ServerName::try_from(name.to_string()) {
            Ok(server_name) => server_name,
            Err(_) => return Handshake::Failed(Failure::ServerName(name.to_string())),
        },
    };
    let tls = match tokio::time::timeout(timeout, connector.connect(server_name, stream)).await {
        Err(_) => return Handshake::Failed(Failure::Timeout),
        Ok(Err(err)) => return classify(err),
        Ok(Ok(tls)) => tls,
    };
    let (_, connection) = tls.get_ref();
    let version = connection.protocol_version().map_or_else(
        || "unknown".into(),
        |v| format!("{v:?}").replace("TLSv1_", "TLS 1."),
    );
    let cipher = connection
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".into(), |c| format!("{:?}", c.suite()));
    let (cert, cert_error) = match connection.peer_certificates().and_then(|c| c.first()) {
        None => (None, Some("the server sent no certificate".to_string())),
        Some(der) => match parse_certificate(der) {
            Ok(facts) => (Some(facts), None),
            Err(err) => (None, Some(err.to_string())),
        },
    };
    let facts = TlsFacts {
        version,
        cipher,
        cert,
        cert_error,
    };
    Handshake::Done(Box::new(tls), facts)
}

fn classify<S>(err: io::Error) -> Handshake<S> {
    let tls_error = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match tls_error {
        Some(rustls::Error::AlertReceived(alert)) => Handshake::Incompatible(Refusal::Alert(alert)),
        Some(rustls::Error::PeerIncompatible(why)) => {
            Handshake::Incompatible(Refusal::NothingShared(why))
        }
        Some(rustls::Error::InvalidMessage(why)) => Handshake::NotTls(format!("{why:?}")),
        // Only a client sends a ClientHello: one coming back is our own, echoed by a service
        // that repeats what it reads, not a TLS server refusing us.
        Some(rustls::Error::InappropriateHandshakeMessage {
            got_type: rustls::HandshakeType::ClientHello,
            ..
        }) => Handshake::NotTls("a ClientHello came back: our own, echoed".into()),
        Some(other) => Handshake::Incompatible(Refusal::Other(other)),
        None if err.kind() == io::ErrorKind::UnexpectedEof => {
            Handshake::Incompatible(Refusal::Closed)
        }
        None => Handshake::Failed(Failure::Io(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A peer that writes back whatever it reads, as an echo service on 443 would.
    fn echo() -> tokio::io::DuplexStream {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = server.read(&mut buf).await {
                if n == 0 || server.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        client
    }

    #[tokio::test]
    async fn an_echo_is_not_tls_and_not_an_incompatible_server() {
        let outcome = handshake(echo(), "printer.lab.test", Duration::from_secs(5)).await;
        match outcome {
            Handshake::NotTls(why) => assert!(why.contains("echoed"), "{why}"),
            Handshake::Incompatible(why) => panic!("an echo read as incompatible TLS: {why}"),
            Handshake::Done(..) => panic!("an echo read as TLS"),
            Handshake::Failed(why) => panic!("an echo read as a failure: {why}"),
        }
    }

    #[tokio::test]
    async fn a_text_banner_is_not_tls() {
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let _ = server
                .write_all(b"220 ftp.lab.test FTP server ready\r\n")
                .await;
            let mut sink = vec![0u8; 4096];
            let _ = server.read(&mut sink).await;
        });
        let outcome = handshake(client, "printer.lab.test", Duration::from_secs(5)).await;
        assert!(matches!(outcome, Handshake::NotTls(_)));
    }
}
