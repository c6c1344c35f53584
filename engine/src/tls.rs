//! TLS for the listener: `wss://` and `https://` with rustls, from PEM files named in
//! `servers.reverb.options.tls` (`local_cert`, and `local_pk` unless the certificate file
//! holds the key too), as Reverb's PHP stream-context options name them.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The certificate and key files the listener serves TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file with the certificate chain (and the key, when `key` is `None`).
    pub cert: String,
    /// PEM file with the private key.
    pub key: Option<String>,
}

/// Why TLS could not be set up; the message names the file and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

/// Reads the certificate and key and builds the acceptor the listener wraps sockets with.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| TlsError(format!("cannot read the certificate {}: {e}", files.cert)))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{} holds no PEM certificate (servers.reverb.options.tls.local_cert)",
            files.cert
        )));
    }
    let key_file = files.key.as_deref().unwrap_or(&files.cert);
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
        TlsError(format!(
            "cannot read a private key from {key_file}: {e} (servers.reverb.options.tls.local_pk; \
             encrypted keys are not supported)"
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError(format!("the certificate and key do not fit together: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
