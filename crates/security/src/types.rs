//! Jelly's built-in types, as a set the options can allow or deny.

/// A built-in Jelly type, named by its wire tag.
///
/// Class, module, function and method references and the legacy `instance`
/// form are not here: Jelly never builds them, whatever the options say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JellyType {
    /// `["None"]`.
    None,
    /// `["boolean", ...]`.
    Boolean,
    /// `["unicode", ...]`: text.
    Unicode,
    /// `["list", ...]`.
    List,
    /// `["tuple", ...]`.
    Tuple,
    /// `["dictionary", ...]`.
    Dictionary,
    /// `["set", ...]`.
    Set,
    /// `["frozenset", ...]`.
    FrozenSet,
    /// `["reference", id, ...]`: shared and cyclic structure.
    Reference,
    /// `["dereference", id]`.
    Dereference,
    /// `["datetime", ...]`.
    DateTime,
    /// `["date", ...]`.
    Date,
    /// `["time", ...]`.
    Time,
    /// `["timedelta", ...]`.
    TimeDelta,
    /// `["decimal", ...]`.
    Decimal,
    /// `["unpersistable", reason]`: Twisted's placeholder for what it would not send.
    Unpersistable,
    /// `["persistent", id]`, which PB answers with an unpersistable marker.
    Persistent,
}

impl JellyType {
    /// Every type, in a fixed order.
    pub const ALL: [JellyType; 17] = [
        JellyType::None,
        JellyType::Boolean,
        JellyType::Unicode,
        JellyType::List,
        JellyType::Tuple,
        JellyType::Dictionary,
        JellyType::Set,
        JellyType::FrozenSet,
        JellyType::Reference,
        JellyType::Dereference,
        JellyType::DateTime,
        JellyType::Date,
        JellyType::Time,
        JellyType::TimeDelta,
        JellyType::Decimal,
        JellyType::Unpersistable,
        JellyType::Persistent,
    ];

    /// The wire tag.
    pub const fn tag(self) -> &'static str {
        match self {
            JellyType::None => "None",
            JellyType::Boolean => "boolean",
            JellyType::Unicode => "unicode",
            JellyType::List => "list",
            JellyType::Tuple => "tuple",
            JellyType::Dictionary => "dictionary",
            JellyType::Set => "set",
            JellyType::FrozenSet => "frozenset",
            JellyType::Reference => "reference",
            JellyType::Dereference => "dereference",
            JellyType::DateTime => "datetime",
            JellyType::Date => "date",
            JellyType::Time => "time",
            JellyType::TimeDelta => "timedelta",
            JellyType::Decimal => "decimal",
            JellyType::Unpersistable => "unpersistable",
            JellyType::Persistent => "persistent",
        }
    }

    /// The type with this wire tag, if Jelly has one.
    pub fn from_tag(tag: &str) -> Option<JellyType> {
        JellyType::ALL.into_iter().find(|t| t.tag() == tag)
    }

    pub(crate) const fn bit(self) -> u32 {
        1 << self as u32
    }
}
