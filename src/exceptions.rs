//! The exception classes the extension throws, so PHP code can catch them by kind.

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ce;

/// Thrown when the config array has a wrong type or an impossible value; the message names
/// the key (`apps.apps.0.max_message_size must be an integer`).
#[php_class]
#[php(name = "ReverbRs\\ConfigException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct ConfigException;

/// Thrown when the server cannot do what was asked: bind failures with the OS reason, calls
/// before `start()`, unknown app ids, use from a forked child.
#[php_class]
#[php(name = "ReverbRs\\ServerException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct ServerException;

/// A `ServerException` with `message`.
pub fn server_error(message: impl Into<String>) -> PhpException {
    PhpException::from_class::<ServerException>(message.into())
}

/// A `ConfigException` with `message`.
pub fn config_error(message: impl Into<String>) -> PhpException {
    PhpException::from_class::<ConfigException>(message.into())
}

/// Thrown when a `ReverbRs\Client` request fails; `getCode()` is the HTTP status (0 when no
/// response arrived) and the message carries the server's body.
#[php_class]
#[php(name = "ReverbRs\\ApiException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct ApiException;

/// An `ApiException` with the HTTP status as its code.
pub fn api_error(message: impl Into<String>, status: Option<u16>) -> PhpException {
    PhpException::new(
        message.into(),
        i32::from(status.unwrap_or(0)),
        <ApiException as ext_php_rs::class::RegisteredClass>::get_metadata().ce(),
    )
}
