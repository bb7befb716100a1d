//! The typed JSON form of s-expressions and values (see
//! `tests/vectors/README.md`), read into [`Sexp`] and [`Value`].

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use num_bigint::BigInt;
use serde_json::Value as Json;
use spread_banana::Sexp;
use spread_jelly::{Date, DateTime, Decimal, Dict, Instance, Shared, Time, TimeDelta, Value};

/// The one key of a `{"kind": payload}` object, or of an object that also has `"id"`.
fn tagged(json: &Json) -> Result<(&str, &Json)> {
    let obj = json
        .as_object()
        .with_context(|| format!("expected an object, got {json}"))?;
    let mut keys = obj.iter().filter(|(k, _)| *k != "id" && *k != "state");
    let (k, v) = keys
        .next()
        .with_context(|| format!("empty object {json}"))?;
    if keys.next().is_some() {
        bail!("more than one key in {json}");
    }
    Ok((k.as_str(), v))
}

fn bytes_of(kind: &str, payload: &Json) -> Result<Option<Bytes>> {
    let text = || {
        payload
            .as_str()
            .with_context(|| format!("{kind} wants a string"))
    };
    Ok(match kind {
        "bytes" => Some(Bytes::copy_from_slice(text()?.as_bytes())),
        "hex" => Some(Bytes::from(hex(text()?)?)),
        _ => None,
    })
}

fn int_of(payload: &Json) -> Result<BigInt> {
    let text = payload.as_str().context("int wants a decimal string")?;
    text.parse().with_context(|| format!("bad int {text}"))
}

fn float_of(payload: &Json) -> Result<f64> {
    let text = payload.as_str().context("float wants 16 hex digits")?;
    Ok(f64::from_bits(u64::from_str_radix(text, 16)?))
}

/// Decodes a hex string.
pub fn hex(text: &str) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd-length hex {text}");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).with_context(|| format!("bad hex {text}")))
        .collect()
}

/// Encodes bytes as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a typed s-expression. `native_str` (a Python `str`, which Banana
/// cannot carry) is an error: such vectors are checked for being unsendable.
pub fn sexp(json: &Json) -> Result<Sexp> {
    if let Some(items) = json.as_array() {
        return Ok(Sexp::List(items.iter().map(sexp).collect::<Result<_>>()?));
    }
    let (kind, payload) = tagged(json)?;
    if let Some(b) = bytes_of(kind, payload)? {
        return Ok(Sexp::Bytes(b));
    }
    Ok(match kind {
        "int" => Sexp::from(int_of(payload)?),
        "float" => Sexp::Float(float_of(payload)?),
        _ => bail!("no s-expression for {json}"),
    })
}

/// Reads a typed value, rebuilding shared and cyclic structure from the
/// `"id"`/`"ref"` marks exactly as unjelly builds it: a reference met while
/// its object is still being built is a back reference.
pub fn value(json: &Json) -> Result<Value> {
    Reader::default().value(json)
}

#[derive(Default)]
struct Reader {
    ids: HashMap<u64, Shared>,
}

fn ints<const N: usize>(payload: &Json) -> Result<[i64; N]> {
    let items = payload
        .as_array()
        .context("expected an array of integers")?;
    let v: Vec<i64> = items
        .iter()
        .map(|i| i.as_i64().context("expected an integer"))
        .collect::<Result<_>>()?;
    v.try_into()
        .map_err(|v: Vec<i64>| anyhow::anyhow!("expected {N} integers, got {}", v.len()))
}

impl Reader {
    fn value(&mut self, json: &Json) -> Result<Value> {
        match json {
            Json::Null => return Ok(Value::None),
            Json::Bool(b) => return Ok(Value::Bool(*b)),
            _ => {}
        }
        if let Some(id) = json.get("id") {
            let id = id.as_u64().context("id wants an integer")?;
            let mut failure = None;
            let owner = Shared::cyclic(|me| {
                self.ids.insert(id, me);
                self.plain(json).unwrap_or_else(|e| {
                    failure = Some(e);
                    Value::None
                })
            });
            if let Some(e) = failure {
                return Err(e);
            }
            // Later references see the finished object and share it.
            self.ids.insert(id, owner.clone());
            return Ok(Value::Shared(owner));
        }
        self.plain(json)
    }

    fn seq(&mut self, payload: &Json) -> Result<Vec<Value>> {
        payload
            .as_array()
            .context("expected an array")?
            .iter()
            .map(|v| self.value(v))
            .collect()
    }

    fn plain(&mut self, json: &Json) -> Result<Value> {
        let (kind, payload) = tagged(json)?;
        if let Some(b) = bytes_of(kind, payload)? {
            return Ok(Value::Bytes(b));
        }
        Ok(match kind {
            "ref" => {
                let id = payload.as_u64().context("ref wants an integer")?;
                self.ids
                    .get(&id)
                    .with_context(|| format!("ref to unknown id {id}"))?
                    .clone()
                    .into()
            }
            "int" => Value::from(int_of(payload)?),
            "float" => Value::Float(float_of(payload)?),
            "str" => Value::Str(payload.as_str().context("str wants a string")?.to_owned()),
            "list" => Value::List(self.seq(payload)?),
            "tuple" => Value::Tuple(self.seq(payload)?),
            "set" => Value::Set(self.seq(payload)?),
            "frozenset" => Value::FrozenSet(self.seq(payload)?),
            "dict" => {
                let mut d = Dict::new();
                for entry in payload.as_array().context("dict wants an array")? {
                    let pair = entry
                        .as_array()
                        .filter(|p| p.len() == 2)
                        .context("dict entry")?;
                    let k = self.value(&pair[0])?;
                    let v = self.value(&pair[1])?;
                    d.push(k, v);
                }
                Value::Dict(d)
            }
            "datetime" => {
                let [y, mo, d, h, mi, s, us] = ints::<7>(payload)?;
                Value::DateTime(DateTime::new(date(y, mo, d)?, time(h, mi, s, us)?))
            }
            "date" => {
                let [y, mo, d] = ints::<3>(payload)?;
                Value::Date(date(y, mo, d)?)
            }
            "time" => {
                let [h, mi, s, us] = ints::<4>(payload)?;
                Value::Time(time(h, mi, s, us)?)
            }
            "timedelta" => {
                let [d, s, us] = ints::<3>(payload)?;
                Value::TimeDelta(TimeDelta::normalized(d, s, us)?)
            }
            "decimal" => {
                let pair = payload
                    .as_array()
                    .filter(|p| p.len() == 2)
                    .context("decimal")?;
                let exponent = pair[1].as_i64().context("decimal exponent")?;
                Value::Decimal(Decimal::new(int_of(&pair[0])?, exponent))
            }
            "instance" => {
                let class = payload.as_str().context("instance wants a class name")?;
                let state = json.get("state").context("instance without state")?;
                Value::from(Instance::new(class, self.value(state)?))
            }
            "unpersistable" => {
                Value::Unpersistable(payload.as_str().context("unpersistable reason")?.to_owned())
            }
            _ => bail!("no value for {json}"),
        })
    }
}

fn date(y: i64, mo: i64, d: i64) -> Result<Date> {
    Ok(Date::new(y.try_into()?, mo.try_into()?, d.try_into()?)?)
}

fn time(h: i64, mi: i64, s: i64, us: i64) -> Result<Time> {
    Ok(Time::new(
        h.try_into()?,
        mi.try_into()?,
        s.try_into()?,
        us.try_into()?,
    )?)
}
