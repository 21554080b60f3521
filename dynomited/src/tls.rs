//! Encrypted peer links: TLS 1.3 (rustls), mutually authenticated, keyed by the cluster's
//! shared secret.
//!
//! Dynomite's configuration names one file, `pem_key_file`, that every node of a cluster
//! holds (its own scheme is RSA + AES-CBC with IV = key, which we do not reproduce). Here that
//! file *is* the cluster's identity: every node derives the same Ed25519 key from its bytes
//! (SHA-256 of a domain label and the file), and from that key the same self-signed
//! certificate, byte for byte (fixed serial, names and dates; Ed25519 signatures are
//! deterministic). A node accepts a peer, in either direction, only if the peer presents that
//! very certificate and proves it holds the key in the handshake: a node with another file
//! cannot connect, and nobody without the file can read or forge the traffic. Any key size
//! or type in the file works, Dynomite's shipped 1024-bit RSA key included.
//!
//! Which links are encrypted follows Dynomite (SPEC §5.4): `datacenter` between DCs, `rack`
//! between racks (or DCs), `all` always; the receiving side tells a TLS connection from a
//! plain one by its first byte.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::conf::SecureOption;

/// The name peers use for each other in TLS (the certificate's only name).
pub const PEER_NAME: &str = "dynomite-peer";

/// The TLS configurations of one node: to dial peers and to accept them.
#[derive(Clone)]
pub struct PeerTls {
    pub client: Arc<rustls::ClientConfig>,
    pub server: Arc<rustls::ServerConfig>,
    /// The cluster certificate (what every peer must present).
    pub cert: CertificateDer<'static>,
}

impl std::fmt::Debug for PeerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerTls")
    }
}

/// Whether a link from a node at (`dc`, `rack`) to a peer at (`peer_dc`, `peer_rack`) is
/// encrypted under `opt` (decided by the sender, as in Dynomite).
pub fn link_encrypted(
    opt: SecureOption,
    dc: &str,
    rack: &str,
    peer_dc: &str,
    peer_rack: &str,
) -> bool {
    match opt {
        SecureOption::None => false,
        SecureOption::Datacenter => dc != peer_dc,
        SecureOption::Rack => dc != peer_dc || rack != peer_rack,
        SecureOption::All => true,
    }
}

/// The first byte of a TLS connection (a handshake record).
pub const TLS_HANDSHAKE_BYTE: u8 = 0x16;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The cluster key's PKCS#8 (v2) document, derived from the shared file's bytes.
fn derive_key(secret: &[u8]) -> Result<Vec<u8>, String> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"dynomite-rs peer identity v1\0");
    ctx.update(secret);
    let seed = ctx.finish();
    let kp = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
        .map_err(|_| "cannot derive the cluster key".to_string())?;
    use ring::signature::KeyPair;
    let public = kp.public_key().as_ref();
    // OneAsymmetricKey (RFC 5958) for Ed25519: version 1, the algorithm, the seed, the
    // public key; the same layout ring writes.
    let mut der = vec![
        0x30, 0x53, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed.as_ref());
    der.extend_from_slice(&[0xa1, 0x23, 0x03, 0x21, 0x00]);
    der.extend_from_slice(public);
    Ok(der)
}

/// The cluster certificate for the key: the same bytes on every node.
fn make_cert(pkcs8: &[u8]) -> Result<CertificateDer<'static>, String> {
    let key = PrivatePkcs8KeyDer::from(pkcs8.to_vec());
    let kp = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&key, &rcgen::PKCS_ED25519)
        .map_err(|e| format!("cluster key: {e}"))?;
    let mut params = rcgen::CertificateParams::new(vec![PEER_NAME.to_string()])
        .map_err(|e| format!("cluster certificate: {e}"))?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, PEER_NAME);
    params.distinguished_name = dn;
    params.serial_number = Some(rcgen::SerialNumber::from(1u64));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2200, 1, 1);
    let cert = params
        .self_signed(&kp)
        .map_err(|e| format!("cluster certificate: {e}"))?;
    Ok(cert.der().clone())
}

impl PeerTls {
    /// Load the shared file and build both configurations. The error names the file.
    pub fn load(path: &std::path::Path) -> Result<PeerTls, String> {
        let secret =
            std::fs::read(path).map_err(|e| format!("pem_key_file {}: {e}", path.display()))?;
        if secret.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(format!(
                "pem_key_file {}: the file is empty",
                path.display()
            ));
        }
        PeerTls::from_secret(&secret)
    }

    /// Both configurations from the shared secret's bytes.
    pub fn from_secret(secret: &[u8]) -> Result<PeerTls, String> {
        let pkcs8 = derive_key(secret)?;
        let cert = make_cert(&pkcs8)?;
        let key = || PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8.clone()));
        let verifier = Arc::new(SameCert {
            cert: cert.clone(),
            provider: provider(),
        });
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| format!("TLS client: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_client_auth_cert(vec![cert.clone()], key())
            .map_err(|e| format!("TLS client: {e}"))?;
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| format!("TLS server: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![cert.clone()], key())
            .map_err(|e| format!("TLS server: {e}"))?;
        Ok(PeerTls {
            client: Arc::new(client),
            server: Arc::new(server),
            cert,
        })
    }

    /// A client session to a peer.
    pub fn connect(&self) -> Result<rustls::Connection, String> {
        let name = ServerName::try_from(PEER_NAME).map_err(|e| e.to_string())?;
        let mut c = rustls::ClientConnection::new(self.client.clone(), name)
            .map_err(|e| format!("TLS: {e}"))?;
        c.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
        Ok(rustls::Connection::Client(c))
    }

    /// A server session for a peer that connected to us.
    pub fn accept(&self) -> Result<rustls::Connection, String> {
        let mut c =
            rustls::ServerConnection::new(self.server.clone()).map_err(|e| format!("TLS: {e}"))?;
        c.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
        Ok(rustls::Connection::Server(c))
    }
}

/// Plaintext a session buffers before the peer's socket takes it: a copy waits in the
/// proxy's queues beyond that, where its back-pressure applies.
const TLS_BUFFER_LIMIT: usize = 1 << 20;

/// Accepts exactly the cluster certificate, in both directions; the handshake signature
/// proves the peer holds its key.
#[derive(Debug)]
struct SameCert {
    cert: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl SameCert {
    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if presented.as_ref() == self.cert.as_ref() {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn sig13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

/// Only TLS 1.3 is offered, so a TLS 1.2 signature never has to be checked.
fn tls12_refused() -> Result<HandshakeSignatureValid, rustls::Error> {
    Err(rustls::Error::PeerIncompatible(
        rustls::PeerIncompatible::Tls12NotOffered,
    ))
}

impl ServerCertVerifier for SameCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|_| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_refused()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.sig13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for SameCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|_| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_refused()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.sig13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Run a handshake and one message each way between two in-memory sessions.
    fn pump(a: &mut rustls::Connection, b: &mut rustls::Connection) -> Result<(), rustls::Error> {
        for _ in 0..20 {
            let mut buf = Vec::new();
            while a.wants_write() {
                a.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() {
                b.read_tls(&mut &buf[..]).unwrap();
                b.process_new_packets()?;
            }
            let mut buf = Vec::new();
            while b.wants_write() {
                b.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() {
                a.read_tls(&mut &buf[..]).unwrap();
                a.process_new_packets()?;
            }
        }
        Ok(())
    }

    #[test]
    fn every_node_derives_the_same_certificate() {
        let a = PeerTls::from_secret(b"-----BEGIN RSA PRIVATE KEY-----\nabc\n").unwrap();
        let b = PeerTls::from_secret(b"-----BEGIN RSA PRIVATE KEY-----\nabc\n").unwrap();
        let c = PeerTls::from_secret(b"-----BEGIN RSA PRIVATE KEY-----\nabd\n").unwrap();
        assert_eq!(a.cert, b.cert);
        assert_ne!(a.cert, c.cert);
    }

    #[test]
    fn same_secret_talks_other_secret_is_refused() {
        let a = PeerTls::from_secret(b"cluster secret").unwrap();
        let b = PeerTls::from_secret(b"cluster secret").unwrap();
        let mut cli = a.connect().unwrap();
        let mut srv = b.accept().unwrap();
        cli.writer().write_all(b"hello").unwrap();
        pump(&mut cli, &mut srv).unwrap();
        assert!(!cli.is_handshaking() && !srv.is_handshaking());
        let mut got = [0u8; 5];
        srv.reader().read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");

        let evil = PeerTls::from_secret(b"another secret").unwrap();
        let mut cli = evil.connect().unwrap();
        let mut srv = b.accept().unwrap();
        assert!(
            pump(&mut cli, &mut srv).is_err(),
            "a foreign certificate is refused"
        );
        let mut cli = a.connect().unwrap();
        let mut srv = evil.accept().unwrap();
        assert!(
            pump(&mut cli, &mut srv).is_err(),
            "a foreign server is refused"
        );
    }

    #[test]
    fn which_links_are_encrypted() {
        use SecureOption::*;
        assert!(!link_encrypted(None, "d1", "r1", "d2", "r2"));
        assert!(link_encrypted(Datacenter, "d1", "r1", "d2", "r1"));
        assert!(!link_encrypted(Datacenter, "d1", "r1", "d1", "r2"));
        assert!(link_encrypted(Rack, "d1", "r1", "d1", "r2"));
        assert!(!link_encrypted(Rack, "d1", "r1", "d1", "r1"));
        assert!(link_encrypted(All, "d1", "r1", "d1", "r1"));
    }
}
