//! The constructor calls Python's `repr` prints for types with no literal
//! syntax (`set()`, `frozenset(..)`, `datetime.*(..)`, `Decimal(..)`,
//! `float(..)`), and the names `None`, `True`, `False`, `inf`, `nan`: the
//! call syntax and how arguments bind to parameters.

use spread::Value;
use spread::jelly::{DateTime, Decimal};

use super::convert::{date, decimal, float_from_str, int_to_float, time, timedelta};
use super::{Parser, Result};
use crate::call::equality::exact_float;

/// One argument of a constructor call, with where it started.
struct Arg {
    keyword: Option<String>,
    value: Value,
    pos: usize,
}

impl Parser<'_> {
    /// A name: `None`, `True`, `False`, `inf`, `nan`, or a constructor call.
    pub(super) fn name(&mut self) -> Result<Value> {
        let start = self.pos;
        let mut name = String::new();
        loop {
            while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
                name.push(c);
                self.bump();
            }
            if self.peek() == Some('.')
                && self
                    .peek_at(1)
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
            {
                name.push('.');
                self.bump();
            } else {
                break;
            }
        }
        match name.as_str() {
            "None" => return Ok(Value::None),
            "True" => return Ok(Value::Bool(true)),
            "False" => return Ok(Value::Bool(false)),
            "inf" => return Ok(Value::Float(f64::INFINITY)),
            "nan" => return Ok(Value::Float(f64::NAN)),
            _ => {}
        }
        self.skip_ws();
        if !self.eat('(') {
            return Err(self.err_at(start, unknown_name(&name)));
        }
        let args = self.call_args()?;
        match name.as_str() {
            "set" => Ok(Value::Set(self.iterable_arg(&name, args, start)?)),
            "frozenset" => Ok(Value::FrozenSet(self.iterable_arg(&name, args, start)?)),
            "datetime.datetime" | "datetime" => {
                let [y, mo, d, h, mi, s, us] = self.int_args(
                    &name,
                    &[
                        "year",
                        "month",
                        "day",
                        "hour",
                        "minute",
                        "second",
                        "microsecond",
                    ],
                    3,
                    args,
                    start,
                )?;
                let date = date(y, mo, d).map_err(|m| self.err_at(start, m))?;
                let time = time(h, mi, s, us).map_err(|m| self.err_at(start, m))?;
                Ok(Value::DateTime(DateTime::new(date, time)))
            }
            "datetime.date" | "date" => {
                let [y, mo, d] = self.int_args(&name, &["year", "month", "day"], 3, args, start)?;
                Ok(Value::Date(
                    date(y, mo, d).map_err(|m| self.err_at(start, m))?,
                ))
            }
            "datetime.time" | "time" => {
                let [h, mi, s, us] = self.int_args(
                    &name,
                    &["hour", "minute", "second", "microsecond"],
                    0,
                    args,
                    start,
                )?;
                Ok(Value::Time(
                    time(h, mi, s, us).map_err(|m| self.err_at(start, m))?,
                ))
            }
            "datetime.timedelta" | "timedelta" => {
                let [days, s, us, ms, mi, h, w] = self.int_args(
                    &name,
                    &[
                        "days",
                        "seconds",
                        "microseconds",
                        "milliseconds",
                        "minutes",
                        "hours",
                        "weeks",
                    ],
                    0,
                    args,
                    start,
                )?;
                timedelta(
                    i128::from(days) + 7 * i128::from(w),
                    i128::from(s) + 60 * i128::from(mi) + 3600 * i128::from(h),
                    i128::from(us) + 1000 * i128::from(ms),
                )
                .map(Value::TimeDelta)
                .map_err(|m| self.err_at(start, m))
            }
            "Decimal" | "decimal.Decimal" => {
                let [arg] = self.positional::<1>(&name, args, start)?;
                match arg {
                    None => Ok(Value::Decimal(Decimal::new(0, 0))),
                    Some((Value::Str(s), pos)) => {
                        decimal(&s).map(Value::Decimal).map_err(|m| self.err_at(pos, m))
                    }
                    Some((Value::Int(n), _)) => Ok(Value::Decimal(Decimal::new(n, 0))),
                    Some((Value::BigInt(n), _)) => Ok(Value::Decimal(Decimal::new(n, 0))),
                    Some((Value::Float(x), pos)) if x == 0.0 && x.is_sign_negative() => Err(
                        self.err_at(pos, "Decimal(-0.0) cannot be sent: Jelly's decimal form keeps no sign of zero"),
                    ),
                    Some((Value::Float(x), pos)) => exact_float(x)
                        .map(|(coefficient, exponent)| Value::Decimal(Decimal { coefficient, exponent }))
                        .ok_or_else(|| self.err_at(pos, "only finite decimals have a Jelly form")),
                    Some((other, pos)) => Err(self.err_at(
                        pos,
                        format!("Decimal() takes a str or a number, not {}", other.type_name()),
                    )),
                }
            }
            "float" => {
                let [arg] = self.positional::<1>(&name, args, start)?;
                match arg {
                    None => Ok(Value::Float(0.0)),
                    Some((Value::Float(x), _)) => Ok(Value::Float(x)),
                    Some((Value::Str(s), pos)) => float_from_str(&s)
                        .map(Value::Float)
                        .map_err(|m| self.err_at(pos, m)),
                    Some((n @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_)), pos)) => {
                        int_to_float(&n)
                            .map(Value::Float)
                            .map_err(|m| self.err_at(pos, m))
                    }
                    Some((other, pos)) => Err(self.err_at(
                        pos,
                        format!("float() takes a str or a number, not {}", other.type_name()),
                    )),
                }
            }
            _ => Err(self.err_at(start, unknown_name(&name))),
        }
    }

    /// The arguments of a call, the cursor after its `(`.
    fn call_args(&mut self) -> Result<Vec<Arg>> {
        let mut args: Vec<Arg> = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(')') {
                return Ok(args);
            }
            let pos = self.pos;
            let keyword = self.keyword();
            if keyword.is_none() && args.iter().any(|a| a.keyword.is_some()) {
                return Err(self.err("positional argument follows keyword argument"));
            }
            let value = self.value()?;
            args.push(Arg {
                keyword,
                value,
                pos,
            });
            self.skip_ws();
            if self.eat(')') {
                return Ok(args);
            }
            self.expect(',', "between arguments")?;
        }
    }

    /// `name=` at the cursor (consumed), if there is one.
    fn keyword(&mut self) -> Option<String> {
        let start = self.pos;
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.bump();
        }
        self.skip_ws();
        if !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && self.peek() == Some('=')
            && self.peek_at(1) != Some('=')
        {
            self.bump();
            return Some(name);
        }
        self.pos = start;
        None
    }

    /// Up to `N` positional arguments and no keywords.
    fn positional<const N: usize>(
        &self,
        name: &str,
        args: Vec<Arg>,
        start: usize,
    ) -> Result<[Option<(Value, usize)>; N]> {
        if let Some(arg) = args.iter().find(|a| a.keyword.is_some()) {
            return Err(self.err_at(arg.pos, format!("{name}() takes no keyword arguments")));
        }
        if args.len() > N {
            return Err(self.err_at(
                start,
                format!(
                    "{name}() takes at most {N} argument(s), {} given",
                    args.len()
                ),
            ));
        }
        let mut out = [const { None }; N];
        for (slot, arg) in out.iter_mut().zip(args) {
            *slot = Some((arg.value, arg.pos));
        }
        Ok(out)
    }

    /// `set(..)` and `frozenset(..)`: no argument, or one iterable.
    fn iterable_arg(&self, name: &str, args: Vec<Arg>, start: usize) -> Result<Vec<Value>> {
        let [arg] = self.positional::<1>(name, args, start)?;
        let Some((arg, pos)) = arg else {
            return Ok(Vec::new());
        };
        let items = match arg {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => v,
            Value::Dict(d) => d.into_iter().map(|(k, _)| k).collect(),
            Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
            Value::Bytes(b) => b.iter().map(|&b| Value::Int(b.into())).collect(),
            other => {
                return Err(self.err_at(
                    pos,
                    format!("'{}' object is not iterable", other.type_name()),
                ));
            }
        };
        let mut elements = Vec::new();
        for item in items {
            self.set_insert(&mut elements, item, pos)?;
        }
        Ok(elements)
    }

    /// Binds integer arguments to `params` as Python binds them (by
    /// position, then by keyword); missing optional ones are 0.
    fn int_args<const N: usize>(
        &self,
        name: &str,
        params: &[&str; N],
        required: usize,
        args: Vec<Arg>,
        start: usize,
    ) -> Result<[i64; N]> {
        let mut bound: [Option<i64>; N] = [None; N];
        for (index, arg) in args.into_iter().enumerate() {
            let slot = match &arg.keyword {
                None if index < N => index,
                None => {
                    return Err(
                        self.err_at(arg.pos, format!("{name}() takes at most {N} arguments"))
                    );
                }
                Some(keyword) => params.iter().position(|p| p == keyword).ok_or_else(|| {
                    self.err_at(
                        arg.pos,
                        format!("{name}() got an unexpected keyword argument '{keyword}'"),
                    )
                })?,
            };
            if bound[slot].is_some() {
                return Err(self.err_at(
                    arg.pos,
                    format!(
                        "{name}() got multiple values for argument '{}'",
                        params[slot]
                    ),
                ));
            }
            let n = match arg.value {
                Value::Int(n) => n,
                Value::Bool(b) => i64::from(b),
                Value::BigInt(_) => {
                    return Err(self.err_at(arg.pos, format!("{} is out of range", params[slot])));
                }
                other => {
                    return Err(self.err_at(
                        arg.pos,
                        format!(
                            "{} must be an integer here, not {}",
                            params[slot],
                            other.type_name()
                        ),
                    ));
                }
            };
            bound[slot] = Some(n);
        }
        if let Some(missing) = (0..required).find(|&i| bound[i].is_none()) {
            return Err(self.err_at(
                start,
                format!("{name}() missing required argument '{}'", params[missing]),
            ));
        }
        Ok(bound.map(|n| n.unwrap_or(0)))
    }
}

fn unknown_name(name: &str) -> String {
    format!(
        "unknown name {name:?}: an argument is a Python literal (None, True, 1, 1.5, inf, 'text', \
         b'bytes', [..], (..), {{..}}, set(), frozenset(..), datetime.datetime(..), \
         datetime.date(..), datetime.time(..), datetime.timedelta(..), Decimal('..'))"
    )
}
