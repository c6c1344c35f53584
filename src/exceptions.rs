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
