//! Python's `datetime` and `decimal` values, checked as Python checks them.
//!
//! Jelly sends these as space-separated decimal fields (`"2020 7 11"`), which
//! the receiver splits and converts with `int`. The types here accept exactly
//! the values Python's constructors accept, so a value that unjellies here is
//! one Twisted could have sent, and one Twisted will accept back.

use std::fmt;

use num_bigint::BigInt;

/// A field that is out of the range Python allows, or a malformed wire string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} is out of range or malformed: {detail}")]
pub struct TimeError {
    what: &'static str,
    detail: String,
}

impl TimeError {
    fn new(what: &'static str, detail: impl fmt::Display) -> TimeError {
        TimeError {
            what,
            detail: detail.to_string(),
        }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Splits a wire string into exactly `N` decimal integers.
fn fields<const N: usize>(what: &'static str, text: &[u8]) -> Result<[i64; N], TimeError> {
    let text = std::str::from_utf8(text).map_err(|_| TimeError::new(what, "not UTF-8"))?;
    let mut out = [0i64; N];
    let mut parts = text.split_ascii_whitespace();
    for slot in &mut out {
        let part = parts
            .next()
            .ok_or_else(|| TimeError::new(what, format!("expected {N} fields in {text:?}")))?;
        *slot = part
            .parse()
            .map_err(|_| TimeError::new(what, format!("{part:?} is not an integer")))?;
    }
    if parts.next().is_some() {
        return Err(TimeError::new(
            what,
            format!("expected {N} fields in {text:?}"),
        ));
    }
    Ok(out)
}

fn in_range(what: &'static str, v: i64, lo: i64, hi: i64) -> Result<i64, TimeError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(TimeError::new(what, format!("{v} is not in {lo}..={hi}")))
    }
}

/// A calendar date, Python's `datetime.date`: year 1 to 9999.
///
/// ```
/// use spread_jelly::Date;
///
/// let d = Date::new(2020, 7, 11).unwrap();
/// assert_eq!(d.to_string(), "2020 7 11");
/// assert!(Date::new(2021, 2, 29).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date, if Python would accept it.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Date, TimeError> {
        in_range("year", year.into(), 1, 9999)?;
        in_range("month", month.into(), 1, 12)?;
        in_range("day", day.into(), 1, days_in_month(year, month).into())?;
        Ok(Date {
            year: year as u16,
            month,
            day,
        })
    }

    /// The year, 1 to 9999.
    pub fn year(&self) -> i32 {
        self.year.into()
    }
    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// The day of the month, from 1.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// Parses the wire form `"Y M D"`.
    pub fn from_wire(text: &[u8]) -> Result<Date, TimeError> {
        let [y, m, d] = fields::<3>("date", text)?;
        Date::new(
            in_range("year", y, 1, 9999)? as i32,
            in_range("month", m, 1, 12)? as u8,
            in_range("day", d, 1, 31)? as u8,
        )
    }
}

impl fmt::Display for Date {
    /// The wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.year, self.month, self.day)
    }
}

/// A time of day without a time zone, Python's naive `datetime.time`.
///
/// ```
/// use spread_jelly::Time;
///
/// let t = Time::new(1, 16, 5, 344).unwrap();
/// assert_eq!(t.to_string(), "1 16 5 344");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    hour: u8,
    minute: u8,
    second: u8,
    microsecond: u32,
}

impl Time {
    /// A time, if Python would accept it.
    pub fn new(hour: u8, minute: u8, second: u8, microsecond: u32) -> Result<Time, TimeError> {
        in_range("hour", hour.into(), 0, 23)?;
        in_range("minute", minute.into(), 0, 59)?;
        in_range("second", second.into(), 0, 59)?;
        in_range("microsecond", microsecond.into(), 0, 999_999)?;
        Ok(Time {
            hour,
            minute,
            second,
            microsecond,
        })
    }

    /// The hour, 0 to 23.
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// The minute, 0 to 59.
    pub fn minute(&self) -> u8 {
        self.minute
    }
    /// The second, 0 to 59.
    pub fn second(&self) -> u8 {
        self.second
    }
    /// The microsecond, 0 to 999 999.
    pub fn microsecond(&self) -> u32 {
        self.microsecond
    }

    /// Parses the wire form `"h m s us"`.
    pub fn from_wire(text: &[u8]) -> Result<Time, TimeError> {
        let [h, m, s, us] = fields::<4>("time", text)?;
        Time::checked(h, m, s, us)
    }

    fn checked(h: i64, m: i64, s: i64, us: i64) -> Result<Time, TimeError> {
        Time::new(
            in_range("hour", h, 0, 23)? as u8,
            in_range("minute", m, 0, 59)? as u8,
            in_range("second", s, 0, 59)? as u8,
            in_range("microsecond", us, 0, 999_999)? as u32,
        )
    }
}

impl fmt::Display for Time {
    /// The wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.hour, self.minute, self.second, self.microsecond
        )
    }
}

/// A date and time without a time zone, Python's naive `datetime.datetime`.
///
/// Twisted cannot send time-zone-aware datetimes, so neither can Jelly.
///
/// ```
/// use spread_jelly::{Date, DateTime, Time};
///
/// let dt = DateTime::new(Date::new(2020, 7, 11).unwrap(), Time::new(1, 16, 5, 344).unwrap());
/// assert_eq!(dt.to_string(), "2020 7 11 1 16 5 344");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// The date part.
    pub date: Date,
    /// The time part.
    pub time: Time,
}

impl DateTime {
    /// A datetime from its parts.
    pub fn new(date: Date, time: Time) -> DateTime {
        DateTime { date, time }
    }

    /// Parses the wire form `"Y M D h m s us"`.
    pub fn from_wire(text: &[u8]) -> Result<DateTime, TimeError> {
        let [y, mo, d, h, mi, s, us] = fields::<7>("datetime", text)?;
        let date = Date::new(
            in_range("year", y, 1, 9999)? as i32,
            in_range("month", mo, 1, 12)? as u8,
            in_range("day", d, 1, 31)? as u8,
        )?;
        Ok(DateTime::new(date, Time::checked(h, mi, s, us)?))
    }
}

impl fmt::Display for DateTime {
    /// The wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date, self.time)
    }
}

/// A duration, Python's `datetime.timedelta`, in Python's normal form:
/// `days` may be negative, `seconds` is 0 to 86 399 and `microseconds` is
/// 0 to 999 999.
///
/// ```
/// use spread_jelly::TimeDelta;
///
/// // timedelta(seconds=-1)
/// let d = TimeDelta::normalized(0, -1, 0).unwrap();
/// assert_eq!(d.to_string(), "-1 86399 0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeDelta {
    days: i32,
    seconds: u32,
    microseconds: u32,
}

/// Python's `timedelta.max.days`.
const MAX_DAYS: i64 = 999_999_999;

impl TimeDelta {
    /// A duration from any days, seconds and microseconds, normalised as
    /// Python's constructor normalises them; an error if it is out of
    /// Python's range (±999 999 999 days).
    pub fn normalized(days: i64, seconds: i64, microseconds: i64) -> Result<TimeDelta, TimeError> {
        let total_us = i128::from(days) * 86_400_000_000
            + i128::from(seconds) * 1_000_000
            + i128::from(microseconds);
        let days = total_us.div_euclid(86_400_000_000);
        let rest = total_us.rem_euclid(86_400_000_000);
        if days.abs() > i128::from(MAX_DAYS) {
            return Err(TimeError::new("timedelta", format!("{days} days")));
        }
        Ok(TimeDelta {
            days: days as i32,
            seconds: (rest / 1_000_000) as u32,
            microseconds: (rest % 1_000_000) as u32,
        })
    }

    /// Whole days, possibly negative.
    pub fn days(&self) -> i32 {
        self.days
    }
    /// Seconds within the day, 0 to 86 399.
    pub fn seconds(&self) -> u32 {
        self.seconds
    }
    /// Microseconds within the second, 0 to 999 999.
    pub fn microseconds(&self) -> u32 {
        self.microseconds
    }

    /// Parses the wire form `"days seconds microseconds"`. Like Twisted's
    /// receiver, it accepts fields outside the normal form and normalises.
    pub fn from_wire(text: &[u8]) -> Result<TimeDelta, TimeError> {
        let [d, s, us] = fields::<3>("timedelta", text)?;
        TimeDelta::normalized(d, s, us)
    }
}

impl fmt::Display for TimeDelta {
    /// The wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.days, self.seconds, self.microseconds)
    }
}

/// A finite decimal number, Python's `decimal.Decimal`: `coefficient × 10^exponent`.
///
/// The coefficient carries the sign, as on the wire, so `-0` cannot be
/// represented (Twisted loses that sign too). NaN and infinities cannot be
/// sent by Twisted and do not exist here.
///
/// ```
/// use spread_jelly::Decimal;
///
/// let price = Decimal::new(995, -2); // 9.95
/// assert_eq!(price.to_string(), "9.95");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The signed digits.
    pub coefficient: BigInt,
    /// The power of ten.
    pub exponent: i64,
}

impl Decimal {
    /// `coefficient × 10^exponent`.
    pub fn new(coefficient: impl Into<BigInt>, exponent: i64) -> Decimal {
        Decimal {
            coefficient: coefficient.into(),
            exponent,
        }
    }
}

impl fmt::Display for Decimal {
    /// Plain notation when the exponent is small, as Python prints it;
    /// otherwise `<digits>E<exponent>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.coefficient.magnitude().to_string();
        let sign = if self.coefficient.sign() == num_bigint::Sign::Minus {
            "-"
        } else {
            ""
        };
        match self.exponent {
            0 => write!(f, "{sign}{digits}"),
            e if e < 0 && e > -100 => {
                let point = e.unsigned_abs() as usize;
                let padded = format!("{digits:0>width$}", width = point + 1);
                let (int, frac) = padded.split_at(padded.len() - point);
                write!(f, "{sign}{int}.{frac}")
            }
            e => write!(f, "{sign}{digits}E{e:+}"),
        }
    }
}
