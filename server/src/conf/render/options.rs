//! A stack's options checked against its definition's options schema:
//! every problem at once, each naming the option, and the defaults filled.
//!
//! voc implements the subset of JSON Schema that stack forms need, itself
//! rather than through a general validator, so that each message is a
//! sentence about the option (`replicas must be at most 20`) and the
//! supported keywords are exactly the ones listed here:
//!
//! - top level: `type: "object"`, `properties`, `required`,
//!   `additionalProperties` (only `false`: unknown options are always
//!   rejected), and the annotations below;
//! - per option (and recursively for `items` and nested `properties`):
//!   `type` (`string`, `integer`, `number`, `boolean`, `array`, `object`,
//!   or a list of them), `enum`, `const`, `minimum`, `maximum`,
//!   `exclusiveMinimum`, `exclusiveMaximum` (numbers), `minLength`,
//!   `maxLength` (counted in characters), `pattern` (a Rust `regex`,
//!   matched anywhere in the value as JSON Schema says: anchor it with `^`
//!   and `$`), `format: "hostname"` (RFC 1123), `items`, `minItems`,
//!   `maxItems`, `uniqueItems`, `properties`, `required`,
//!   `additionalProperties: false`;
//! - annotations, accepted and not checked: `title`, `description`,
//!   `default`, `examples`, `readOnly`, `deprecated`, `$comment`,
//!   `$schema`, `$id`; and `writeOnly` (secrets, see below).
//!
//! Any other keyword (`oneOf`, `if`, `$ref`, another `format`, ...) makes
//! the definition unusable ([`check_schema_support`]) rather than being
//! silently ignored: an author who writes a rule must get it enforced.
//!
//! Rules voc adds: a `null` option counts as not given (forms send empty
//! fields as `null`); strings must not contain NUL (no Docker value can,
//! and the renderer uses it to mark secrets); integers given as `2.0`
//! become `2`. Defaults are filled for top-level options only.
//!
//! `writeOnly` options are secrets: they must be strings. Their value
//! leaves [`validate_options`] in [`ValidatedOptions::secrets`], never in
//! [`ValidatedOptions::options`], which holds the placeholder
//! `{"$secret": "VOC_SECRET_<NAME>"}` instead. The same placeholder given
//! as the option's value means "keep the secret already stored for this
//! stack" (an update or upgrade that does not change the password).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Number, Value};

use crate::conf::suggest::did_you_mean;

/// The key of the placeholder object that stands for a secret option's
/// value in `stack-<stack>.json`.
pub const SECRET_PLACEHOLDER_KEY: &str = "$secret";

/// The prefix of the interpolation variable that carries a secret option's
/// value at deploy time.
pub const SECRET_VARIABLE_PREFIX: &str = "VOC_SECRET_";

/// One option that does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionProblem {
    /// The option, as a path for nested values (`ports[1].published`).
    pub option: String,
    /// The whole sentence, naming the option (`replicas must be at most
    /// 20`).
    pub message: String,
}

impl std::fmt::Display for OptionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The plain value of a `writeOnly` option, for the caller to encrypt.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue {
    /// The interpolation variable the rendered Compose file reads it from
    /// (`VOC_SECRET_DB_PASSWORD`).
    pub variable: String,
    /// The value as the user gave it.
    pub value: String,
}

impl std::fmt::Debug for SecretValue {
    // Secrets never reach logs, not even through `{:?}` of a result.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretValue")
            .field("variable", &self.variable)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// Options that fit the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedOptions {
    /// Every given or defaulted option, secrets replaced by placeholders:
    /// what `stack-<stack>.json` stores.
    pub options: Map<String, Value>,
    /// The secrets given now, by option name.
    pub secrets: BTreeMap<String, SecretValue>,
    /// The secret options given as a placeholder: their stored value is
    /// kept.
    pub kept_secrets: BTreeSet<String>,
}

/// The schema keywords voc checks or accepts as annotations, on an option.
const OPTION_KEYWORDS: [&str; 31] = [
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "title",
    "description",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "$comment",
    "$schema",
    "$id",
    "$anchor",
    "x-order",
    "x-ui",
];

/// The formats voc checks.
const FORMATS: [&str; 1] = ["hostname"];

/// The name of the variable that carries option `option`'s secret:
/// `VOC_SECRET_` and the name in upper snake case (`dbPassword` ->
/// `VOC_SECRET_DB_PASSWORD`, `api-key` -> `VOC_SECRET_API_KEY`).
pub fn secret_variable(option: &str) -> String {
    let mut name = String::from(SECRET_VARIABLE_PREFIX);
    let mut previous: Option<char> = None;
    for c in option.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase()) {
            name.push('_');
        }
        name.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
        previous = Some(c);
    }
    name
}

/// The placeholder that stands for a secret option's value.
pub fn secret_placeholder(option: &str) -> Value {
    let mut map = Map::new();
    map.insert(
        SECRET_PLACEHOLDER_KEY.to_owned(),
        Value::String(secret_variable(option)),
    );
    Value::Object(map)
}

/// True if `value` is a secret placeholder (`{"$secret": ...}`).
pub fn is_secret_placeholder(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.len() == 1 && map.contains_key(SECRET_PLACEHOLDER_KEY))
}

/// What in `schema` (a definition's `options`) voc cannot enforce or
/// cannot render: unsupported keywords and formats, patterns that do not
/// compile, secrets that are not strings, two secrets with one variable.
/// Empty when the definition is usable.
pub fn check_schema_support(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(top) = schema.as_object() else {
        problems.push("the options schema must be an object".to_owned());
        return problems;
    };
    for keyword in top.keys() {
        let known = matches!(
            keyword.as_str(),
            "type"
                | "properties"
                | "required"
                | "additionalProperties"
                | "title"
                | "description"
                | "$schema"
                | "$id"
                | "$comment"
        );
        if !known {
            problems.push(format!(
                "the options schema uses \"{keyword}\", which voc does not support"
            ));
        }
    }
    if let Some(extra) = top.get("additionalProperties")
        && extra != &Value::Bool(false)
    {
        problems.push(
            "\"additionalProperties\" of the options schema can only be false: voc always rejects unknown options".to_owned(),
        );
    }
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    for (name, property) in properties(top) {
        check_property_support(name, property, &mut problems);
        if property.get("writeOnly") == Some(&Value::Bool(true)) {
            if property.get("type") != Some(&Value::String("string".to_owned())) {
                problems.push(format!(
                    "option \"{name}\" is writeOnly (a secret) and must have \"type\": \"string\""
                ));
            }
            let variable = secret_variable(name);
            if let Some(other) = variables.insert(variable.clone(), name.clone()) {
                problems.push(format!(
                    "options \"{other}\" and \"{name}\" are both secrets carried by the variable {variable}: rename one"
                ));
            }
        }
    }
    problems
}

/// [`check_schema_support`] for one option (`path`) and what it nests.
fn check_property_support(path: &str, property: &Value, problems: &mut Vec<String>) {
    let Some(property) = property.as_object() else {
        problems.push(format!("option \"{path}\" must be a schema object"));
        return;
    };
    for (keyword, value) in property {
        if !OPTION_KEYWORDS.contains(&keyword.as_str()) {
            problems.push(format!(
                "option \"{path}\" uses \"{keyword}\", which voc does not support"
            ));
            continue;
        }
        match keyword.as_str() {
            "format" => match value.as_str() {
                Some(format) if FORMATS.contains(&format) => {}
                _ => problems.push(format!(
                    "option \"{path}\" has the format {value}, which voc does not check (it checks \"hostname\"; use a \"pattern\" instead)"
                )),
            },
            "pattern" => match value.as_str().map(regex::Regex::new) {
                Some(Ok(_)) => {}
                Some(Err(error)) => problems.push(format!(
                    "the pattern of option \"{path}\" is not a valid regular expression: {}",
                    error.to_string().lines().last().unwrap_or_default().trim()
                )),
                None => problems.push(format!("the pattern of option \"{path}\" must be a string")),
            },
            "additionalProperties" if value != &Value::Bool(false) => problems.push(format!(
                "\"additionalProperties\" of option \"{path}\" can only be false"
            )),
            "items" => check_property_support(&format!("{path}[]"), value, problems),
            "properties" => match value.as_object() {
                Some(nested) => {
                    for (name, schema) in nested {
                        check_property_support(&format!("{path}.{name}"), schema, problems);
                    }
                }
                None => problems.push(format!(
                    "\"properties\" of option \"{path}\" must be an object"
                )),
            },
            _ => {}
        }
    }
}

/// The `properties` of an object schema, in their order.
fn properties(schema: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// The `required` names of an object schema.
fn required(schema: &Map<String, Value>) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The defaults of the options schema `schema`, in schema order (for a
/// form's initial values). Secret options' defaults are left out: a form
/// should not show them.
pub fn schema_defaults(schema: &Value) -> Map<String, Value> {
    let mut defaults = Map::new();
    if let Some(schema) = schema.as_object() {
        for (name, property) in properties(schema) {
            if property.get("writeOnly") == Some(&Value::Bool(true)) {
                continue;
            }
            if let Some(default) = property.get("default") {
                defaults.insert(name.clone(), default.clone());
            }
        }
    }
    defaults
}

/// Checks `given` against the options schema `schema`: the validated
/// options, or every problem found. `schema` is assumed to have passed
/// [`check_schema_support`].
pub fn validate_options(
    schema: &Value,
    given: &Map<String, Value>,
) -> Result<ValidatedOptions, Vec<OptionProblem>> {
    let empty = Map::new();
    let schema = schema.as_object().unwrap_or(&empty);
    let mut problems = Vec::new();
    let declared: Vec<&str> = properties(schema).map(|(name, _)| name.as_str()).collect();
    for name in given.keys() {
        if !declared.contains(&name.as_str()) {
            let hint = did_you_mean(name, declared.iter().copied())
                .map(|hint| format!(" ({hint})"))
                .unwrap_or_default();
            problems.push(problem(name, format!("{name}: unknown option{hint}")));
        }
    }
    let required = required(schema);
    let mut validated = ValidatedOptions {
        options: Map::new(),
        secrets: BTreeMap::new(),
        kept_secrets: BTreeSet::new(),
    };
    for (name, property) in properties(schema) {
        let Some(property) = property.as_object() else {
            continue;
        };
        let is_secret = property.get("writeOnly") == Some(&Value::Bool(true));
        let value = match given.get(name) {
            Some(Value::Null) | None => property.get("default"),
            Some(value) => Some(value),
        };
        let Some(value) = value else {
            if required.contains(&name.as_str()) {
                problems.push(problem(name, format!("{name} is required")));
            }
            continue;
        };
        if is_secret_placeholder(value) {
            if is_secret {
                validated.kept_secrets.insert(name.clone());
                validated
                    .options
                    .insert(name.clone(), secret_placeholder(name));
            } else {
                problems.push(problem(
                    name,
                    format!("{name} is not a secret option: give its value, not {{\"{SECRET_PLACEHOLDER_KEY}\": ...}}"),
                ));
            }
            continue;
        }
        let before = problems.len();
        let value = check_value(property, value, name, &mut problems);
        if problems.len() > before {
            continue;
        }
        if is_secret {
            let plain = value.as_str().unwrap_or_default().to_owned();
            validated.secrets.insert(
                name.clone(),
                SecretValue {
                    variable: secret_variable(name),
                    value: plain,
                },
            );
            validated
                .options
                .insert(name.clone(), secret_placeholder(name));
        } else {
            validated.options.insert(name.clone(), value);
        }
    }
    if problems.is_empty() {
        Ok(validated)
    } else {
        Err(problems)
    }
}

/// An [`OptionProblem`] about `option`.
fn problem(option: &str, message: String) -> OptionProblem {
    OptionProblem {
        option: option.to_owned(),
        message,
    }
}

/// Checks `value` (at `path`) against `schema`, pushing what is wrong;
/// returns the value normalised (integers as integers).
fn check_value(
    schema: &Map<String, Value>,
    value: &Value,
    path: &str,
    problems: &mut Vec<OptionProblem>,
) -> Value {
    let mut report = |message: String| problems.push(problem(path, format!("{path} {message}")));
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|kind| has_type(value, kind)) {
        let expected: Vec<String> = types.iter().map(|kind| with_article(kind)).collect();
        report(format!(
            "must be {}, not {}",
            expected.join(" or "),
            describe(value)
        ));
        return value.clone();
    }
    let value = match value {
        Value::Number(n) if types == ["integer"] && !n.is_i64() && !n.is_u64() => n
            .as_f64()
            .and_then(|f| {
                // `2.0` is an integer for JSON Schema; Compose wants `2`.
                (f.abs() < 9.0e15).then(|| Value::Number(Number::from(f as i64)))
            })
            .unwrap_or_else(|| value.clone()),
        _ => value.clone(),
    };
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.iter().any(|a| json_equal(a, &value))
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        report(format!("must be one of {}, not {value}", list.join(", ")));
    }
    if let Some(constant) = schema.get("const")
        && !json_equal(constant, &value)
    {
        report(format!("must be {constant}"));
    }
    match &value {
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or(f64::NAN), &mut report),
        Value::String(s) => check_string(schema, s, &mut report),
        Value::Array(items) => {
            let count = items.len();
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (count as u64) < min
            {
                report(format!("must have at least {min} {}", plural(min, "item")));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && (count as u64) > max
            {
                report(format!("must have at most {max} {}", plural(max, "item")));
            }
            if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
                let duplicate = items
                    .iter()
                    .enumerate()
                    .find(|(i, item)| items[..*i].iter().any(|earlier| json_equal(earlier, item)));
                if let Some((i, item)) = duplicate {
                    report(format!("must not repeat {item} (item {i})"));
                }
            }
            if let Some(Value::Object(item_schema)) = schema.get("items") {
                let checked = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        check_value(item_schema, item, &format!("{path}[{i}]"), problems)
                    })
                    .collect();
                return Value::Array(checked);
            }
        }
        Value::Object(map) => return check_object(schema, map, path, problems),
        Value::Bool(_) | Value::Null => {}
    }
    value
}

/// The number rules.
fn check_number(schema: &Map<String, Value>, n: f64, report: &mut impl FnMut(String)) {
    let bound = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_f64)
            .map(|b| (b, &schema[key]))
    };
    if let Some((min, shown)) = bound("minimum")
        && n < min
    {
        report(format!("must be at least {shown}"));
    }
    if let Some((max, shown)) = bound("maximum")
        && n > max
    {
        report(format!("must be at most {shown}"));
    }
    if let Some((min, shown)) = bound("exclusiveMinimum")
        && n <= min
    {
        report(format!("must be greater than {shown}"));
    }
    if let Some((max, shown)) = bound("exclusiveMaximum")
        && n >= max
    {
        report(format!("must be less than {shown}"));
    }
}

/// The string rules.
fn check_string(schema: &Map<String, Value>, s: &str, report: &mut impl FnMut(String)) {
    if s.contains('\0') {
        report("must not contain a NUL character".to_owned());
    }
    let length = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        report(format!(
            "must be at least {min} {} long",
            plural(min, "character")
        ));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        report(format!(
            "must be at most {max} {} long",
            plural(max, "character")
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // check_schema_support has compiled it already; a pattern that
        // does not compile here cannot be satisfied either.
        let matches = regex::Regex::new(pattern).is_ok_and(|re| re.is_match(s));
        if !matches {
            report(format!("must match the pattern {pattern}"));
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("hostname") && !is_hostname(s) {
        report(
            "must be a host name (dot-separated labels of letters, digits and hyphens, each at most 63 characters)"
                .to_owned(),
        );
    }
}

/// The rules of a nested object.
fn check_object(
    schema: &Map<String, Value>,
    map: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<OptionProblem>,
) -> Value {
    let declared: Vec<&str> = properties(schema).map(|(name, _)| name.as_str()).collect();
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        for key in map.keys() {
            if !declared.contains(&key.as_str()) {
                let hint = did_you_mean(key, declared.iter().copied())
                    .map(|hint| format!(" ({hint})"))
                    .unwrap_or_default();
                problems.push(problem(
                    &format!("{path}.{key}"),
                    format!("{path}.{key}: unknown field{hint}"),
                ));
            }
        }
    }
    for name in required(schema) {
        if map.get(name).is_none_or(Value::is_null) {
            let at = format!("{path}.{name}");
            problems.push(problem(&at, format!("{at} is required")));
        }
    }
    let mut checked = Map::new();
    for (key, value) in map {
        let nested = properties(schema)
            .find(|(name, _)| *name == key)
            .and_then(|(_, s)| s.as_object());
        let value = match nested {
            Some(nested) if !value.is_null() => {
                check_value(nested, value, &format!("{path}.{key}"), problems)
            }
            _ => value.clone(),
        };
        checked.insert(key.clone(), value);
    }
    Value::Object(checked)
}

/// True if `s` is a host name as RFC 1123 has it.
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// True if `value` is of the JSON Schema type `kind` (`1.0` is an integer).
fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// JSON Schema equality: numbers by value (`2` equals `2.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A value for messages: `the string "1"`, `the integer 2`, `an array`.
fn describe(value: &Value) -> String {
    match value {
        Value::String(_) => format!("the string {value}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("the integer {value}"),
        Value::Number(_) => format!("the number {value}"),
        Value::Bool(_) => format!("the boolean {value}"),
        Value::Null => "null".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// `a string`, `an integer`.
fn with_article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// `item` or `items`.
fn plural(count: u64, word: &str) -> String {
    if count == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": { "type": "string", "pattern": "^[a-z0-9./:_-]+$" },
                "domain": { "type": "string", "format": "hostname" },
                "replicas": { "type": "integer", "minimum": 1, "maximum": 20, "default": 1 },
                "ratio": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1 },
                "tier": { "type": "string", "enum": ["small", "large"], "default": "small" },
                "name": { "type": "string", "minLength": 3, "maxLength": 5 },
                "debug": { "type": "boolean", "default": false },
                "tags": { "type": "array", "items": { "type": "string", "maxLength": 3 }, "minItems": 1, "maxItems": 2, "uniqueItems": true },
                "limits": { "type": "object", "additionalProperties": false, "required": ["cpu"],
                            "properties": { "cpu": { "type": "number" }, "memory": { "type": "string" } } },
                "dbPassword": { "type": "string", "writeOnly": true, "minLength": 8 }
            }
        })
    }

    fn given(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn problems_of(options: Value) -> Vec<String> {
        match validate_options(&schema(), &given(options)) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn every_rule_is_one_sentence_naming_the_option() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({"image": "nginx"}), vec![]),
            (json!({}), vec!["image is required"]),
            (json!({"image": null}), vec!["image is required"]),
            (
                json!({"image": "nginx", "domian": "x", "other": 1}),
                vec![
                    "domian: unknown option (did you mean \"domain\"?)",
                    "other: unknown option",
                ],
            ),
            (
                json!({"image": "Nginx!"}),
                vec!["image must match the pattern ^[a-z0-9./:_-]+$"],
            ),
            (
                json!({"image": 3}),
                vec!["image must be a string, not the integer 3"],
            ),
            (
                json!({"image": "a", "replicas": 21}),
                vec!["replicas must be at most 20"],
            ),
            (
                json!({"image": "a", "replicas": 0}),
                vec!["replicas must be at least 1"],
            ),
            (
                json!({"image": "a", "replicas": 1.5}),
                vec!["replicas must be an integer, not the number 1.5"],
            ),
            (
                json!({"image": "a", "replicas": "2"}),
                vec!["replicas must be an integer, not the string \"2\""],
            ),
            (
                json!({"image": "a", "ratio": 1}),
                vec!["ratio must be less than 1"],
            ),
            (
                json!({"image": "a", "ratio": 0}),
                vec!["ratio must be greater than 0"],
            ),
            (
                json!({"image": "a", "tier": "medium"}),
                vec!["tier must be one of \"small\", \"large\", not \"medium\""],
            ),
            (
                json!({"image": "a", "name": "ab"}),
                vec!["name must be at least 3 characters long"],
            ),
            (
                json!({"image": "a", "name": "abcdef"}),
                vec!["name must be at most 5 characters long"],
            ),
            // Characters, not bytes.
            (json!({"image": "a", "name": "ééééé"}), vec![]),
            (
                json!({"image": "a", "name": "a\u{0}b"}),
                vec!["name must not contain a NUL character"],
            ),
            (
                json!({"image": "a", "debug": "yes"}),
                vec!["debug must be a boolean, not the string \"yes\""],
            ),
            (json!({"image": "a", "domain": "shop.example.org"}), vec![]),
            (
                json!({"image": "a", "domain": "-bad.example"}),
                vec![
                    "domain must be a host name (dot-separated labels of letters, digits and hyphens, each at most 63 characters)",
                ],
            ),
            (
                json!({"image": "a", "domain": "a b"}),
                vec![
                    "domain must be a host name (dot-separated labels of letters, digits and hyphens, each at most 63 characters)",
                ],
            ),
            (
                json!({"image": "a", "tags": []}),
                vec!["tags must have at least 1 item"],
            ),
            (
                json!({"image": "a", "tags": ["a", "b", "c"]}),
                vec!["tags must have at most 2 items"],
            ),
            (
                json!({"image": "a", "tags": ["a", "a"]}),
                vec!["tags must not repeat \"a\" (item 1)"],
            ),
            (
                json!({"image": "a", "tags": ["long", 2]}),
                vec![
                    "tags[0] must be at most 3 characters long",
                    "tags[1] must be a string, not the integer 2",
                ],
            ),
            (
                json!({"image": "a", "limits": {"memory": 1, "gpu": 2}}),
                vec![
                    "limits.gpu: unknown field (did you mean \"cpu\"?)",
                    "limits.cpu is required",
                    "limits.memory must be a string, not the integer 1",
                ],
            ),
            (
                json!({"image": "a", "dbPassword": "short"}),
                vec!["dbPassword must be at least 8 characters long"],
            ),
            (
                json!({"image": "a", "replicas": {"$secret": "X"}}),
                vec!["replicas is not a secret option: give its value, not {\"$secret\": ...}"],
            ),
            // Every problem at once, unknown options first.
            (
                json!({"x": 1, "replicas": 99, "tier": "huge"}),
                vec![
                    "x: unknown option",
                    "image is required",
                    "replicas must be at most 20",
                    "tier must be one of \"small\", \"large\", not \"huge\"",
                ],
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(problems_of(options.clone()), expected, "{options}");
        }
    }

    #[test]
    fn problems_carry_the_option_path() {
        let problems =
            validate_options(&schema(), &given(json!({"tags": ["abcd"], "x": 1}))).unwrap_err();
        let options: Vec<&str> = problems.iter().map(|p| p.option.as_str()).collect();
        assert_eq!(options, ["x", "image", "tags[0]"]);
    }

    #[test]
    fn defaults_are_filled_and_integers_normalised() {
        let validated = validate_options(
            &schema(),
            &given(json!({"image": "nginx", "replicas": 3.0})),
        )
        .unwrap();
        assert_eq!(
            Value::Object(validated.options),
            json!({"image": "nginx", "replicas": 3, "tier": "small", "debug": false})
        );
        assert!(validated.secrets.is_empty());
    }

    #[test]
    fn secrets_leave_as_secret_values_and_placeholders() {
        let validated = validate_options(
            &schema(),
            &given(json!({"image": "nginx", "dbPassword": "correct horse"})),
        )
        .unwrap();
        assert_eq!(
            validated.options["dbPassword"],
            json!({"$secret": "VOC_SECRET_DB_PASSWORD"})
        );
        let secret = &validated.secrets["dbPassword"];
        assert_eq!(secret.variable, "VOC_SECRET_DB_PASSWORD");
        assert_eq!(secret.value, "correct horse");
        assert!(!format!("{validated:?}").contains("correct horse"));

        // The placeholder keeps the stored secret.
        let kept = validate_options(
            &schema(),
            &given(json!({"image": "nginx", "dbPassword": {"$secret": "VOC_SECRET_DB_PASSWORD"}})),
        )
        .unwrap();
        assert!(kept.secrets.is_empty());
        assert_eq!(kept.kept_secrets.iter().collect::<Vec<_>>(), ["dbPassword"]);
        assert_eq!(
            kept.options["dbPassword"],
            json!({"$secret": "VOC_SECRET_DB_PASSWORD"})
        );
    }

    #[test]
    fn secret_variables_are_upper_snake_case() {
        let cases = [
            ("password", "VOC_SECRET_PASSWORD"),
            ("dbPassword", "VOC_SECRET_DB_PASSWORD"),
            ("api-key", "VOC_SECRET_API_KEY"),
            ("DB_URL", "VOC_SECRET_DB_URL"),
            ("tokenV2", "VOC_SECRET_TOKEN_V2"),
        ];
        for (option, variable) in cases {
            assert_eq!(secret_variable(option), variable);
        }
    }

    #[test]
    fn unsupported_schemas_are_named() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (schema(), vec![]),
            (
                json!({"type": "object", "oneOf": [], "additionalProperties": true}),
                vec![
                    "the options schema uses \"oneOf\", which voc does not support",
                    "\"additionalProperties\" of the options schema can only be false: voc always rejects unknown options",
                ],
            ),
            (
                json!({"type": "object", "properties": {
                    "a": {"type": "string", "format": "email"},
                    "b": {"type": "string", "pattern": "("},
                    "c": {"type": "integer", "writeOnly": true},
                    "d": {"type": "array", "items": {"type": "string", "$ref": "#/x"}},
                    "e_f": {"type": "string", "writeOnly": true},
                    "eF": {"type": "string", "writeOnly": true}
                }}),
                vec![
                    "option \"a\" has the format \"email\", which voc does not check (it checks \"hostname\"; use a \"pattern\" instead)",
                    "the pattern of option \"b\" is not a valid regular expression: error: unclosed group",
                    "option \"c\" is writeOnly (a secret) and must have \"type\": \"string\"",
                    "option \"d[]\" uses \"$ref\", which voc does not support",
                    "options \"e_f\" and \"eF\" are both secrets carried by the variable VOC_SECRET_E_F: rename one",
                ],
            ),
        ];
        for (schema, expected) in cases {
            assert_eq!(check_schema_support(&schema), expected, "{schema}");
        }
    }

    #[test]
    fn form_defaults_leave_secrets_out() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "integer", "default": 1},
            "b": {"type": "string"},
            "p": {"type": "string", "writeOnly": true, "default": "x"}
        }});
        assert_eq!(Value::Object(schema_defaults(&schema)), json!({"a": 1}));
    }
}
