//! Unit tests of the literal parser and the printer: fixed strings for the
//! tricky cases (checked against Python 3.11 by hand), and the round trip
//! `parse(repr(v)) == v` for many values.

use spread::jelly::{Date, DateTime, Decimal, Instance, Shared, Time, TimeDelta};
use spread::{BigInt, Dict, Value};

use crate::call::literal::parse;
use crate::call::repr::repr;
use crate::python::float_repr;

fn parsed(text: &str) -> Value {
    match parse(text) {
        Ok(v) => v,
        Err(e) => panic!("{text:?} does not parse: {e}"),
    }
}

fn parse_error(text: &str) -> String {
    match parse(text) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn dict(entries: Vec<(Value, Value)>) -> Value {
    Value::Dict(Dict::from_iter(entries))
}

#[test]
fn floats_print_as_python() {
    let cases = [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (100.0, "100.0"),
        (0.1, "0.1"),
        (1e100, "1e+100"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1.5e16, "1.5e+16"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (std::f64::consts::PI, "3.141592653589793"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
        (-f64::NAN, "nan"),
        // 996219154410990.25 exactly: two 16-digit strings read back as it;
        // Python takes the nearer one, ties to even.
        (f64::from_bits(0x430c_5072_c689_6f72), "996219154410990.2"),
    ];
    for (x, want) in cases {
        assert_eq!(float_repr(x), want, "repr of {x:e}");
    }
}

#[test]
fn strings_print_as_python() {
    let cases = [
        ("hello", "'hello'"),
        ("", "''"),
        ("it's", "\"it's\""),
        ("say \"hi\"", "'say \"hi\"'"),
        ("it's \"x\"", "'it\\'s \"x\"'"),
        ("back\\slash", "'back\\\\slash'"),
        ("\t\n\r\x00\x1f\x7f", "'\\t\\n\\r\\x00\\x1f\\x7f'"),
        // Latin-1: C1 controls, the no-break space and the soft hyphen are
        // escaped, the rest printed.
        (
            "\u{80}\u{9f}\u{a0}\u{a1}\u{ad}é\u{ff}",
            "'\\x80\\x9f\\xa0¡\\xadéÿ'",
        ),
        ("héllo wörld ☃ 🐸", "'héllo wörld ☃ 🐸'"),
        // Format, line separator, private use, noncharacter, tag.
        (
            "\u{200b}\u{2028}\u{3000}\u{e000}\u{fffe}\u{e0001}",
            "'\\u200b\\u2028\\u3000\\ue000\\ufffe\\U000e0001'",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(repr(&s(text)), want, "repr of {text:?}");
    }
}

#[test]
fn bytes_print_as_python() {
    let cases: [(&[u8], &str); 5] = [
        (b"hello", "b'hello'"),
        (b"", "b''"),
        (b"\x00%Jo\x94\xb9\xde", "b'\\x00%Jo\\x94\\xb9\\xde'"),
        (b"it's", "b\"it's\""),
        (b"'\"\\\t\n\r\x7f", "b'\\'\"\\\\\\t\\n\\r\\x7f'"),
    ];
    for (bytes, want) in cases {
        assert_eq!(repr(&Value::from(bytes)), want);
    }
}

#[test]
fn containers_print_as_python() {
    let one = Value::Int(1);
    let cases = [
        (Value::Tuple(vec![]), "()"),
        (Value::Tuple(vec![one.clone()]), "(1,)"),
        (Value::Tuple(vec![one.clone(), s("a")]), "(1, 'a')"),
        (Value::List(vec![]), "[]"),
        (Value::Set(vec![]), "set()"),
        (Value::Set(vec![one.clone()]), "{1}"),
        (Value::FrozenSet(vec![]), "frozenset()"),
        (
            Value::FrozenSet(vec![Value::from(&b"a"[..])]),
            "frozenset({b'a'})",
        ),
        (dict(vec![]), "{}"),
        (
            dict(vec![(
                Value::Tuple(vec![one.clone(), Value::Int(2)]),
                s("pair"),
            )]),
            "{(1, 2): 'pair'}",
        ),
        (
            Value::List(vec![Value::None, Value::Bool(true), Value::Bool(false)]),
            "[None, True, False]",
        ),
        (Value::from(BigInt::from(2).pow(64)), "18446744073709551616"),
    ];
    for (value, want) in cases {
        assert_eq!(repr(&value), want);
    }
}

#[test]
fn dates_and_decimals_print_as_python() {
    let date = |y, m, d| Date::new(y, m, d).unwrap();
    let time = |h, m, s, us| Time::new(h, m, s, us).unwrap();
    let delta = |d, s, us| Value::TimeDelta(TimeDelta::normalized(d, s, us).unwrap());
    let decimal = |c: i64, e| Value::Decimal(Decimal::new(c, e));
    let cases = [
        (
            Value::Date(date(1999, 12, 31)),
            "datetime.date(1999, 12, 31)",
        ),
        (
            Value::DateTime(DateTime::new(date(2020, 7, 11), time(1, 16, 5, 344))),
            "datetime.datetime(2020, 7, 11, 1, 16, 5, 344)",
        ),
        (
            Value::DateTime(DateTime::new(date(2020, 7, 11), time(1, 16, 5, 0))),
            "datetime.datetime(2020, 7, 11, 1, 16, 5)",
        ),
        (
            Value::DateTime(DateTime::new(date(2020, 1, 1), time(0, 0, 0, 0))),
            "datetime.datetime(2020, 1, 1, 0, 0)",
        ),
        (
            Value::DateTime(DateTime::new(date(2020, 1, 1), time(0, 0, 0, 7))),
            "datetime.datetime(2020, 1, 1, 0, 0, 0, 7)",
        ),
        (Value::Time(time(0, 0, 0, 0)), "datetime.time(0, 0)"),
        (
            Value::Time(time(1, 16, 5, 344)),
            "datetime.time(1, 16, 5, 344)",
        ),
        (Value::Time(time(23, 59, 1, 0)), "datetime.time(23, 59, 1)"),
        (delta(0, 0, 0), "datetime.timedelta(0)"),
        (
            delta(8, 4565, 344),
            "datetime.timedelta(days=8, seconds=4565, microseconds=344)",
        ),
        (
            delta(0, -1, 0),
            "datetime.timedelta(days=-1, seconds=86399)",
        ),
        (delta(0, 0, 5), "datetime.timedelta(microseconds=5)"),
        (decimal(995, -2), "Decimal('9.95')"),
        (decimal(-78901, -3), "Decimal('-78.901')"),
        (decimal(0, 0), "Decimal('0')"),
        (decimal(100, -2), "Decimal('1.00')"),
        (decimal(1, 2), "Decimal('1E+2')"),
        (decimal(0, -2), "Decimal('0.00')"),
        (decimal(0, -7), "Decimal('0E-7')"),
        (decimal(1, -6), "Decimal('0.000001')"),
        (decimal(1, -7), "Decimal('1E-7')"),
        (decimal(100, -9), "Decimal('1.00E-7')"),
        (decimal(15, 2), "Decimal('1.5E+3')"),
        (decimal(-12345, 0), "Decimal('-12345')"),
    ];
    for (value, want) in cases {
        assert_eq!(repr(&value), want);
    }
}

#[test]
fn cycles_print_as_python() {
    // l = []; l.append(l)
    let l = Shared::cyclic(|me| Value::List(vec![Value::Shared(me)]));
    assert_eq!(repr(&Value::Shared(l)), "[[...]]");
    // l = [1]; l.append(l); l.append(2)
    let l = Shared::cyclic(|me| Value::List(vec![Value::Int(1), Value::Shared(me), Value::Int(2)]));
    assert_eq!(repr(&Value::Shared(l)), "[1, [...], 2]");
    // d = {}; d['a'] = d
    let d = Shared::cyclic(|me| dict(vec![(s("a"), Value::Shared(me))]));
    assert_eq!(repr(&Value::Shared(d)), "{'a': {...}}");
    // a = []; t = (a,); a.append(t)
    let t = Shared::cyclic(|t| {
        let a = Value::Shared(Shared::new(Value::List(vec![Value::Shared(t)])));
        Value::Tuple(vec![a])
    });
    assert_eq!(repr(&Value::Shared(t)), "([(...)],)");
    // s = [1, 2]; [s, s]: shared, not cyclic, printed twice.
    let shared = Shared::new(Value::List(vec![Value::Int(1), Value::Int(2)]));
    let twice = Value::List(vec![Value::Shared(shared.clone()), Value::Shared(shared)]);
    assert_eq!(repr(&twice), "[[1, 2], [1, 2]]");
}

#[test]
fn values_without_a_python_form() {
    let instance = Value::from(Instance::new(
        "copy_sender.CopyPond",
        dict(vec![(s("numFrogs"), Value::Int(7))]),
    ));
    assert_eq!(
        repr(&instance),
        "<copy_sender.CopyPond instance: {'numFrogs': 7}>"
    );
    assert_eq!(
        repr(&Value::Unpersistable("Unpersistable data: x".into())),
        "Unpersistable('Unpersistable data: x')"
    );
}

#[test]
fn numbers_parse_as_python() {
    let big = |text: &str| Value::from(text.parse::<BigInt>().unwrap());
    let cases = [
        ("0", Value::Int(0)),
        ("00", Value::Int(0)),
        ("-1", Value::Int(-1)),
        ("+7", Value::Int(7)),
        ("- 3", Value::Int(-3)),
        ("--3", Value::Int(3)),
        ("1_000_000", Value::Int(1_000_000)),
        ("0x_ff", Value::Int(255)),
        ("0o777", Value::Int(511)),
        ("0B101", Value::Int(5)),
        ("-9223372036854775808", Value::Int(i64::MIN)),
        ("9223372036854775808", big("9223372036854775808")),
        ("-True", Value::Int(-1)),
        ("1.5", Value::Float(1.5)),
        ("1.", Value::Float(1.0)),
        (".5", Value::Float(0.5)),
        ("1e5", Value::Float(1e5)),
        ("1.e-5", Value::Float(1e-5)),
        ("1_0.2_5E1_0", Value::Float(10.25e10)),
        ("1e400", Value::Float(f64::INFINITY)),
        ("-inf", Value::Float(f64::NEG_INFINITY)),
        ("float('-Infinity')", Value::Float(f64::NEG_INFINITY)),
        ("float(' 2.5 ')", Value::Float(2.5)),
        ("float(3)", Value::Float(3.0)),
    ];
    for (text, want) in cases {
        assert_eq!(parsed(text), want, "{text}");
    }
    assert!(parsed("-0.0") == Value::Float(-0.0));
    assert!(matches!(parsed("nan"), Value::Float(x) if x.is_nan()));
}

#[test]
fn strings_parse_as_python() {
    let cases = [
        ("'a'", s("a")),
        ("\"a\"", s("a")),
        ("'''a'b''c'''", s("a'b''c")),
        ("'a' \"b\" '''c'''", s("abc")),
        ("u'x'", s("x")),
        (
            r#"'\x41\101\u0041\U00000041\0\a\b\f\n\r\t\v\\\'\"'"#,
            s("AAAA\0\x07\x08\x0c\n\r\t\x0b\\'\""),
        ),
        // Python keeps an unknown escape with its backslash.
        (r"'\q\d'", s("\\q\\d")),
        (r"'\777'", s("\u{1ff}")),
        ("'a\\\nb'", s("ab")),
        (r"r'\n\''", s("\\n\\'")),
        (r"R'\x'", s("\\x")),
        ("'héllo ☃ 🐸'", s("héllo ☃ 🐸")),
        ("b'a\\x00\\xff'", Value::from(&b"a\x00\xff"[..])),
        (r"b'\u0041'", Value::from(&b"\\u0041"[..])),
        (r"b'\777'", Value::from(&b"\xff"[..])),
        (r"rb'\x00'", Value::from(&b"\\x00"[..])),
        (r"Br'\x00' b'!'", Value::from(&b"\\x00!"[..])),
    ];
    for (text, want) in cases {
        assert_eq!(parsed(text), want, "{text}");
    }
}

#[test]
fn containers_and_constructors_parse_as_python() {
    let one = Value::Int(1);
    let date = |y, m, d| Date::new(y, m, d).unwrap();
    let cases = [
        ("()", Value::Tuple(vec![])),
        ("(1)", one.clone()),
        ("(1,)", Value::Tuple(vec![one.clone()])),
        (
            "( 1 , 2 , )",
            Value::Tuple(vec![one.clone(), Value::Int(2)]),
        ),
        ("[\n1,\n]", Value::List(vec![one.clone()])),
        ("{}", dict(vec![])),
        ("set()", Value::Set(vec![])),
        ("{1, 2, 2}", Value::Set(vec![one.clone(), Value::Int(2)])),
        // Python's == across bool, int, float and Decimal: the first stays.
        (
            "{1, 1.0, True, Decimal('1.00')}",
            Value::Set(vec![one.clone()]),
        ),
        ("{True, 1}", Value::Set(vec![Value::Bool(true)])),
        // An equal key keeps its place and first spelling, takes the last value.
        (
            "{1: 'a', 2: 'b', 1.0: 'c'}",
            dict(vec![(one.clone(), s("c")), (Value::Int(2), s("b"))]),
        ),
        (
            "{(1, 2): 0, (1, 2.0): 1}",
            dict(vec![(
                Value::Tuple(vec![one.clone(), Value::Int(2)]),
                one.clone(),
            )]),
        ),
        (
            "{'a', b'a'}",
            Value::Set(vec![s("a"), Value::from(&b"a"[..])]),
        ),
        ("set([1, 1])", Value::Set(vec![one.clone()])),
        ("set('aba')", Value::Set(vec![s("a"), s("b")])),
        ("frozenset()", Value::FrozenSet(vec![])),
        ("frozenset({1})", Value::FrozenSet(vec![one.clone()])),
        (
            "{frozenset({1, 2}), frozenset({2, 1})}",
            Value::Set(vec![Value::FrozenSet(vec![one.clone(), Value::Int(2)])]),
        ),
        (
            "datetime.date(1999, 12, 31)",
            Value::Date(date(1999, 12, 31)),
        ),
        (
            "date(year=1999, day=31, month=12)",
            Value::Date(date(1999, 12, 31)),
        ),
        (
            "datetime.datetime(2020, 7, 11, 1, 16)",
            Value::DateTime(DateTime::new(
                date(2020, 7, 11),
                Time::new(1, 16, 0, 0).unwrap(),
            )),
        ),
        (
            "datetime.time()",
            Value::Time(Time::new(0, 0, 0, 0).unwrap()),
        ),
        (
            "datetime.time(1, microsecond=5)",
            Value::Time(Time::new(1, 0, 0, 5).unwrap()),
        ),
        (
            "datetime.timedelta(weeks=1, hours=-1, milliseconds=2)",
            Value::TimeDelta(TimeDelta::normalized(7, -3600, 2000).unwrap()),
        ),
        ("Decimal('9.95')", Value::Decimal(Decimal::new(995, -2))),
        (
            "decimal.Decimal(' -1_0.5e-3 ')",
            Value::Decimal(Decimal::new(-105, -4)),
        ),
        ("Decimal(\"1E+2\")", Value::Decimal(Decimal::new(1, 2))),
        ("Decimal(7)", Value::Decimal(Decimal::new(7, 0))),
        ("Decimal(0.5)", Value::Decimal(Decimal::new(5, -1))),
        ("-Decimal('1.5')", Value::Decimal(Decimal::new(-15, -1))),
    ];
    for (text, want) in cases {
        assert_eq!(parsed(text), want, "{text}");
    }
}

#[test]
fn bad_literals_say_what_is_wrong() {
    let cases = [
        ("", "expected a value, found the end (at character 1)"),
        ("[1,", "expected a value, found the end (at character 4)"),
        ("[1 2]", "expected ',' between items, found '2'"),
        ("1 2", "unexpected '2' after the value (at character 3)"),
        ("'abc", "unterminated string (at character 1)"),
        ("'a\nb'", "unterminated string (a newline"),
        ("01", "leading zeros in decimal integers are not allowed"),
        ("1__0", "invalid underscore"),
        ("1_", "invalid underscore"),
        ("1j", "complex numbers have no Jelly form"),
        ("0b102", "invalid number"),
        ("spam", "unknown name \"spam\""),
        ("os.system('x')", "unknown name \"os.system\""),
        ("f'{x}'", "f-strings are not literals"),
        (
            "'a' b'b'",
            "cannot mix bytes and str literals (at character 5)",
        ),
        ("b'é'", "bytes can only contain ASCII"),
        (r"'\x4'", "truncated \\xXX escape"),
        (r"'\ud800'", "lone surrogate"),
        (r"'\U00110000'", "is not a Unicode character"),
        (r"'\N{SNOWMAN}'", "\\N{...} escapes are not supported"),
        (
            "{[1]: 2}",
            "unhashable type: 'list' as a dict key (at character 2)",
        ),
        (
            "{1, {2}}",
            "unhashable type: 'set' in a set (at character 5)",
        ),
        ("{(1, [2])}", "unhashable type: 'list' in a set"),
        ("-'a'", "bad operand type for unary -: 'str'"),
        ("datetime.date(2021, 2, 29)", "day is out of range"),
        ("datetime.date(2021, 2)", "missing required argument 'day'"),
        ("datetime.date(2021, 2, 1, 1)", "takes at most 3 arguments"),
        (
            "datetime.date(2021, 2, day=1, day=2)",
            "multiple values for argument 'day'",
        ),
        (
            "datetime.date(2021, month=2, 1)",
            "positional argument follows keyword argument",
        ),
        (
            "datetime.time(tzinfo=None)",
            "unexpected keyword argument 'tzinfo'",
        ),
        (
            "datetime.time(1.5)",
            "hour must be an integer here, not float",
        ),
        ("datetime.timedelta(days=1000000000)", "timedelta"),
        (
            "datetime.timedelta(weeks=9223372036854775807)",
            "out of range",
        ),
        ("Decimal('NaN')", "has no Jelly form"),
        ("Decimal('-0')", "keeps no sign of zero"),
        ("Decimal('1.2.3')", "invalid Decimal literal"),
        ("Decimal('1e99999999999999999999')", "out of range"),
        ("float('0x10')", "could not convert string to float"),
        ("float(10 ** 400)", "found '*'"),
        ("set(1)", "'int' object is not iterable"),
        ("set(x=1)", "takes no keyword arguments"),
    ];
    for (text, want) in cases {
        let got = parse_error(text);
        assert!(
            got.contains(want),
            "{text:?}: {got:?} does not say {want:?}"
        );
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_error(&deep).contains("nested more than 200 levels deep"));
    let signs = format!("{}1", "-".repeat(100_000));
    assert!(parse_error(&signs).contains("nested more than 200 levels deep"));
    let ok = format!("{}{}", "[".repeat(150), "]".repeat(150));
    assert!(parse(&ok).is_ok());
}

/// A small deterministic generator (xorshift64*), so the round trip covers
/// many values without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }

    fn int(&mut self) -> i64 {
        match self.below(4) {
            0 => self.pick(&[0, 1, -1, i64::MAX, i64::MIN, 127, 128, -2_147_483_649]),
            1 => self.below(1000) as i64 - 500,
            _ => self.next() as i64,
        }
    }

    fn float(&mut self) -> f64 {
        let x = match self.below(3) {
            0 => self.pick(&[
                0.0,
                -0.0,
                1.5,
                1e16,
                1e-5,
                5e-324,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
            ]),
            1 => (self.below(2_000_000) as f64 - 1e6) / 1000.0,
            _ => f64::from_bits(self.next()),
        };
        // Only the canonical NaN survives a print, as in Python.
        if x.is_nan() { f64::NAN } else { x }
    }

    fn text(&mut self) -> String {
        let palette = [
            'a',
            'Z',
            ' ',
            '\'',
            '"',
            '\\',
            '\n',
            '\t',
            '\r',
            '\0',
            '\x7f',
            '\u{80}',
            '\u{a0}',
            '\u{ad}',
            'é',
            'ÿ',
            '\u{100}',
            '☃',
            '\u{200b}',
            '\u{2028}',
            '\u{e000}',
            '\u{fffe}',
            '🐸',
            '\u{e0001}',
            '\u{10ffff}',
            '{',
            '}',
            '#',
            '\u{378}',
        ];
        (0..self.below(8)).map(|_| self.pick(&palette)).collect()
    }

    fn scalar(&mut self) -> Value {
        match self.below(14) {
            0 => Value::None,
            1 => Value::Bool(self.below(2) == 1),
            2 => Value::Int(self.int()),
            3 => {
                let big = BigInt::from(self.int())
                    * BigInt::from(u64::MAX)
                    * BigInt::from(self.int() | 1);
                Value::from(big)
            }
            4 => Value::Float(self.float()),
            5 => Value::from(
                (0..self.below(8))
                    .map(|_| self.next() as u8)
                    .collect::<Vec<u8>>(),
            ),
            6 | 7 => Value::Str(self.text()),
            8 => Value::Date(self.date()),
            9 => Value::Time(self.time()),
            10 => Value::DateTime(DateTime::new(self.date(), self.time())),
            11 => {
                let days = self.below(1_999_999_999) as i64 - 999_999_999;
                let td = TimeDelta::normalized(
                    days,
                    self.below(86_400) as i64,
                    self.below(1_000_000) as i64,
                )
                .unwrap_or_else(|_| TimeDelta::normalized(0, 0, 0).unwrap());
                Value::TimeDelta(td)
            }
            _ => {
                let coefficient = BigInt::from(self.int() / (1 << self.below(60)));
                Value::Decimal(Decimal::new(coefficient, self.below(60) as i64 - 30))
            }
        }
    }

    fn date(&mut self) -> Date {
        let (y, m, d) = (1 + self.below(9999), 1 + self.below(12), 1 + self.below(28));
        Date::new(y as i32, m as u8, d as u8).unwrap()
    }

    fn time(&mut self) -> Time {
        let zero_tail = self.below(3);
        let s = if zero_tail == 0 {
            0
        } else {
            self.below(60) as u8
        };
        let us = if zero_tail < 2 {
            0
        } else {
            self.below(1_000_000) as u32
        };
        Time::new(self.below(24) as u8, self.below(60) as u8, s, us).unwrap()
    }

    /// A value Python could hash: a set element or dict key.
    fn hashable(&mut self, depth: u32) -> Value {
        match self.below(if depth == 0 { 1 } else { 6 }) {
            0..=3 => self.scalar(),
            4 => Value::Tuple(
                (0..self.below(3))
                    .map(|_| self.hashable(depth - 1))
                    .collect(),
            ),
            _ => Value::FrozenSet(self.distinct(depth - 1)),
        }
    }

    /// Hashable values, none equal to another by Python's `==`.
    fn distinct(&mut self, depth: u32) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for _ in 0..self.below(4) {
            let v = self.hashable(depth);
            if !out.iter().any(|o| crate::call::equality::py_eq(o, &v)) {
                out.push(v);
            }
        }
        out
    }

    fn value(&mut self, depth: u32) -> Value {
        let len = |rng: &mut Rng| rng.below(4);
        match self.below(if depth == 0 { 1 } else { 7 }) {
            0 | 1 => self.scalar(),
            2 => Value::List((0..len(self)).map(|_| self.value(depth - 1)).collect()),
            3 => Value::Tuple((0..len(self)).map(|_| self.value(depth - 1)).collect()),
            4 => Value::Set(self.distinct(depth - 1)),
            5 => Value::FrozenSet(self.distinct(depth - 1)),
            _ => {
                let keys = self.distinct(depth - 1);
                dict(
                    keys.into_iter()
                        .map(|k| (k, self.value(depth - 1)))
                        .collect(),
                )
            }
        }
    }
}

#[test]
fn every_printed_value_parses_back_to_itself() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..20_000 {
        let value = rng.value(4);
        let text = repr(&value);
        let back = match parse(&text) {
            Ok(back) => back,
            Err(e) => panic!("{text} does not parse: {e}"),
        };
        assert_eq!(back, value, "{text}");
        assert_eq!(repr(&back), text);
    }
}

#[test]
fn every_float_prints_and_parses_back() {
    let mut rng = Rng(42);
    for _ in 0..100_000 {
        let x = rng.float();
        let text = float_repr(x);
        assert_eq!(parsed(&text), Value::Float(x), "{text}");
    }
}
