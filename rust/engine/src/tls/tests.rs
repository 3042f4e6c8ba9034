//! The certificate checks, the dates and the TLS failures in words, without a network.

use super::*;
use rustls::{
    CertRevocationListError, ContentType, EncryptedClientHelloError, HandshakeType, InvalidMessage,
    PeerIncompatible, PeerMisbehaved,
};

#[test]
fn dates_are_formatted_in_utc() {
    assert_eq!(utc_date(0), "1970-01-01");
    assert_eq!(utc_date(1_577_836_800), "2020-01-01");
    assert_eq!(utc_date(951_782_400), "2000-02-29");
}

#[test]
fn common_names_match_as_mbedtls_compares_them() {
    assert!(common_name_matches("localhost", "LocalHost"));
    assert!(common_name_matches("*.example.com", "game.example.com"));
    assert!(!common_name_matches("*.example.com", "a.game.example.com"));
    assert!(!common_name_matches("*.example.com", "example.com"));
    assert!(!common_name_matches("localhost", "127.0.0.1"));
}

/// Camel-case words that are words, not type names.
const REAL_WORDS: [&str; 3] = ["OpenSSL", "subjectAltName", "serverAuth"];

/// What Debug formatting leaves in a text: `Other(`, `::`, braces, CamelCase type names.
fn debug_text_in(sentence: &str) -> Option<String> {
    if sentence.contains("::") || sentence.contains('{') || sentence.contains('}') {
        return Some(sentence.to_owned());
    }
    sentence
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|word| !REAL_WORDS.contains(word))
        .find(|word| {
            let letters: Vec<char> = word.chars().collect();
            letters
                .windows(2)
                .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
        })
        .map(str::to_owned)
}

fn certificate_errors() -> Vec<CertificateError> {
    let webpki_errors = [
        webpki::Error::BadDer,
        webpki::Error::CaUsedAsEndEntity,
        webpki::Error::CertDistrusted,
        webpki::Error::EmptyEkuExtension,
        webpki::Error::EndEntityUsedAsCa,
        webpki::Error::ExtensionValueInvalid,
        webpki::Error::InvalidSerialNumber,
        webpki::Error::MalformedDnsIdentifier,
        webpki::Error::MalformedExtensions,
        webpki::Error::MalformedNameConstraint,
        webpki::Error::MaximumNameConstraintComparisonsExceeded,
        webpki::Error::MaximumPathBuildCallsExceeded,
        webpki::Error::MaximumPathDepthExceeded,
        webpki::Error::MaximumSignatureChecksExceeded,
        webpki::Error::NameConstraintViolation,
        webpki::Error::PathLenConstraintViolated,
        webpki::Error::SignatureAlgorithmMismatch,
        webpki::Error::UnsupportedCertVersion,
        webpki::Error::UnsupportedCriticalExtension,
        webpki::Error::UnsupportedNameType,
    ];
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_600_000_000));
    let mut errors: Vec<CertificateError> = webpki_errors
        .into_iter()
        .map(|error| CertificateError::Other(OtherError(Arc::new(error))))
        .collect();
    #[allow(deprecated)]
    errors.extend([
        CertificateError::Other(OtherError(Arc::new(SelfSigned))),
        CertificateError::Other(OtherError(Arc::new(std::io::Error::other("new kind")))),
        CertificateError::BadEncoding,
        CertificateError::Expired,
        CertificateError::ExpiredContext {
            time,
            not_after: time,
        },
        CertificateError::NotValidYet,
        CertificateError::NotValidYetContext {
            time,
            not_before: time,
        },
        CertificateError::Revoked,
        CertificateError::UnhandledCriticalExtension,
        CertificateError::UnknownIssuer,
        CertificateError::UnknownRevocationStatus,
        CertificateError::ExpiredRevocationList,
        CertificateError::ExpiredRevocationListContext {
            time,
            next_update: time,
        },
        CertificateError::BadSignature,
        CertificateError::UnsupportedSignatureAlgorithm,
        CertificateError::UnsupportedSignatureAlgorithmContext {
            signature_algorithm_id: vec![1, 2],
            supported_algorithms: Vec::new(),
        },
        CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
            signature_algorithm_id: vec![1, 2],
            public_key_algorithm_id: vec![3],
        },
        CertificateError::NotValidForName,
        CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("game.example").unwrap(),
            presented: vec![
                "DnsName(\"example.com\")".into(),
                "IpAddress(127.0.0.1)".into(),
                "DirectoryName".into(),
            ],
        },
        CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("game.example").unwrap(),
            presented: Vec::new(),
        },
        CertificateError::InvalidPurpose,
        CertificateError::InvalidOcspResponse,
        CertificateError::ApplicationVerificationFailure,
    ]);
    errors
}

fn rustls_errors() -> Vec<rustls::Error> {
    let mut errors: Vec<rustls::Error> = certificate_errors()
        .into_iter()
        .map(rustls::Error::InvalidCertificate)
        .collect();
    errors.extend((0..=255u8).map(|n| rustls::Error::AlertReceived(n.into())));
    errors.extend([
        rustls::Error::InappropriateMessage {
            expect_types: vec![ContentType::Handshake],
            got_type: ContentType::Alert,
        },
        rustls::Error::InappropriateHandshakeMessage {
            expect_types: vec![HandshakeType::ServerHello],
            got_type: HandshakeType::Finished,
        },
        rustls::Error::InvalidEncryptedClientHello(EncryptedClientHelloError::SniRequired),
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType),
        rustls::Error::NoCertificatesPresented,
        rustls::Error::UnsupportedNameType,
        rustls::Error::DecryptError,
        rustls::Error::EncryptError,
        rustls::Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon),
        rustls::Error::PeerMisbehaved(PeerMisbehaved::IllegalMiddleboxChangeCipherSpec),
        rustls::Error::InvalidCertRevocationList(CertRevocationListError::BadSignature),
        rustls::Error::General("something new".into()),
        rustls::Error::FailedToGetCurrentTime,
        rustls::Error::FailedToGetRandomBytes,
        rustls::Error::HandshakeNotComplete,
        rustls::Error::PeerSentOversizedRecord,
        rustls::Error::NoApplicationProtocol,
        rustls::Error::BadMaxFragmentSize,
        rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch),
        rustls::Error::Other(OtherError(Arc::new(std::io::Error::other("new kind")))),
    ]);
    errors
}

#[test]
fn every_tls_error_reads_as_a_sentence_without_debug_text() {
    let (certificate, key) = certificate_and_key();
    let identity = ClientCertificate::from_pem(&certificate, &key).unwrap();
    let settings = [
        TlsConfig::default(),
        TlsConfig::default()
            .with_trusted_certificates(parse_pem_certificates(&certificate).unwrap()),
        TlsConfig::default().with_client_certificate(Some(identity)),
    ];
    let errors = rustls_errors();
    assert!(errors.len() > 300, "{} errors walked", errors.len());
    for tls in &settings {
        for error in &errors {
            let sentence = describe_tls_error(error, "game.example", tls);
            assert!(
                debug_text_in(&sentence).is_none(),
                "{error:?} reads \"{sentence}\", with debug text {:?}",
                debug_text_in(&sentence)
            );
            assert!(sentence.len() > 30, "{error:?} reads only \"{sentence}\"");
        }
    }
}

#[test]
fn certificate_errors_name_the_host() {
    for error in certificate_errors() {
        let sentence = describe_certificate_error(&error, "game.example", &TlsConfig::default());
        assert!(
            sentence.contains("game.example"),
            "{error:?} reads \"{sentence}\""
        );
    }
}

#[test]
fn the_same_client_certificate_read_twice_is_equal_and_another_is_not() {
    let (certificate, key) = certificate_and_key();
    let (other_certificate, other_key) = certificate_and_key();
    let read = || ClientCertificate::from_pem(&certificate, &key).unwrap();
    assert!(read() == read());
    assert!(read() != ClientCertificate::from_pem(&other_certificate, &other_key).unwrap());
}

#[test]
fn a_client_key_of_another_certificate_is_refused_in_words() {
    let (certificate, _) = certificate_and_key();
    let (_, other_key) = certificate_and_key();
    assert_eq!(
        ClientCertificate::from_pem(&certificate, &other_key).unwrap_err(),
        "tls_client_key is not the private key of tls_client_certificate: set the key the \
         certificate was made with"
    );
    assert_eq!(
        ClientCertificate::from_pem(&certificate, "not a key").unwrap_err(),
        "tls_client_key holds no private key in PEM (PKCS#8, RSA or EC)"
    );
}

/// A self-signed certificate and its key, in PEM.
fn certificate_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}
