//! Conversions between PHP values and JSON values, the only shape data takes across the
//! boundary: config arrays come in as JSON, engine events and stats go out as PHP arrays.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::{Map, Number, Value};

/// Converts a PHP array: a list (keys 0..n-1 in order) becomes a JSON array, anything else
/// an object with string keys.
pub fn array_to_json(array: &ZendHashTable) -> Value {
    if array.has_sequential_keys() {
        return Value::Array(array.values().map(zval_to_json).collect());
    }
    let object: Map<String, Value> = array
        .iter()
        .map(|(key, value)| (key.to_string(), zval_to_json(value)))
        .collect();
    Value::Object(object)
}

/// Converts one PHP value. Objects and resources have no JSON form and become `null`, so
/// config validation reports them as the wrong type for their key.
pub fn zval_to_json(value: &Zval) -> Value {
    let value = value.dereference();
    if let Some(n) = value.long() {
        Value::Number(n.into())
    } else if let Some(b) = value.bool() {
        Value::Bool(b)
    } else if let Some(f) = value.double() {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    } else if let Some(s) = value.zend_str() {
        Value::String(String::from_utf8_lossy(s.as_bytes()).into_owned())
    } else if let Some(array) = value.array() {
        array_to_json(array)
    } else {
        Value::Null
    }
}

/// Converts a JSON value into a PHP value: objects become associative arrays.
pub fn json_to_zval(value: &Value) -> Zval {
    let mut zval = Zval::new();
    match value {
        Value::Null => zval.set_null(),
        Value::Bool(b) => zval.set_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => zval.set_long(i),
            None => zval.set_double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => {
            // Only fails for strings with a NUL byte in persistent memory; ours are not.
            let _ = zval.set_string(s, false);
        }
        Value::Array(_) | Value::Object(_) => zval.set_hashtable(json_to_array(value)),
    }
    zval
}

/// Converts a JSON array or object into a PHP array (anything else becomes `[]`), for
/// methods whose PHP return type is `array`.
pub fn json_to_array(value: &Value) -> ZBox<ZendHashTable> {
    match value {
        Value::Array(items) => {
            let mut array = ZendHashTable::with_capacity(items.len() as u32);
            for item in items {
                let _ = array.push(json_to_zval(item));
            }
            array
        }
        Value::Object(map) => object_to_array(map),
        _ => ZendHashTable::new(),
    }
}

fn object_to_array(map: &Map<String, Value>) -> ZBox<ZendHashTable> {
    let mut array = ZendHashTable::with_capacity(map.len() as u32);
    for (key, value) in map {
        let _ = array.insert(key.as_str(), json_to_zval(value));
    }
    array
}
