use spread_banana::Sexp;
use spread_jelly::{AllowAll, Date, Decimal, ErrorKind, TimeDelta, Value, from_sexp, to_sexp};

#[test]
fn dates_are_checked_as_python_checks_them() {
    assert!(Date::new(2024, 2, 29).is_ok());
    assert!(Date::new(2023, 2, 29).is_err());
    assert!(Date::new(1900, 2, 29).is_err());
    assert!(Date::new(0, 1, 1).is_err());
    assert!(Date::new(10_000, 1, 1).is_err());
    let bad = Sexp::list([Sexp::from("date"), Sexp::from("2020 13 1")]);
    assert!(matches!(
        from_sexp(&bad, &AllowAll).unwrap_err().kind(),
        ErrorKind::Time(_)
    ));
    let short = Sexp::list([Sexp::from("datetime"), Sexp::from("2020 1 1")]);
    assert!(from_sexp(&short, &AllowAll).is_err());
}

#[test]
fn timedeltas_normalise_like_python() {
    assert_eq!(
        TimeDelta::normalized(0, -1, 0).unwrap().to_string(),
        "-1 86399 0"
    );
    assert_eq!(
        TimeDelta::normalized(0, 0, -1).unwrap().to_string(),
        "-1 86399 999999"
    );
    assert_eq!(
        TimeDelta::normalized(1, 86_400, 1_000_000)
            .unwrap()
            .to_string(),
        "2 1 0"
    );
    assert!(TimeDelta::normalized(1_000_000_000, 0, 0).is_err());
    // Twisted's receiver normalises fields outside the normal form too.
    let odd = Sexp::list([Sexp::from("timedelta"), Sexp::from("0 90000 0")]);
    assert_eq!(
        from_sexp(&odd, &AllowAll).unwrap(),
        Value::TimeDelta(TimeDelta::normalized(1, 3600, 0).unwrap())
    );
}

#[test]
fn decimals_keep_their_exponent() {
    assert_eq!(Decimal::new(995, -2).to_string(), "9.95");
    assert_eq!(Decimal::new(-78901, -3).to_string(), "-78.901");
    assert_eq!(Decimal::new(5, -3).to_string(), "0.005");
    assert_eq!(Decimal::new(1, 2).to_string(), "1E+2");
    let value = Value::Decimal(Decimal::new(100, -2));
    let sexp = to_sexp(&value).unwrap();
    assert_eq!(
        sexp,
        Sexp::list([Sexp::from("decimal"), Sexp::from(100), Sexp::from(-2)])
    );
    assert_eq!(from_sexp(&sexp, &AllowAll).unwrap(), value);
}
