//! Sequences, dicts and enums for the deserializer, each adding its part of
//! the path to errors from inside.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::de::value::U8Deserializer;
use serde::de::{self, DeserializeSeed, Deserializer as _, Error as _, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use crate::serde::de::{Budget, Deserializer, check_consumed};
use crate::serde::{describe, key_segment, shape};
use crate::{Dict, Error, Value};

/// The elements of a list, tuple, set or frozenset.
pub(super) struct SeqAccess<'a> {
    items: &'a [Value],
    next: usize,
    budget: &'a Budget,
}

impl<'a> SeqAccess<'a> {
    pub(super) fn new(items: &'a [Value], budget: &'a Budget) -> SeqAccess<'a> {
        SeqAccess {
            items,
            next: 0,
            budget,
        }
    }

    pub(super) fn end(self) -> Result<(), Error> {
        check_consumed(self.items.len(), self.next)
    }
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        seed.deserialize(Deserializer::new(item, self.budget))
            .map(Some)
            .map_err(|e| e.within(format!("[{index}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

/// Python `bytes` read as a sequence of ints, for `Vec<u8>` and the like.
pub(super) struct BytesAccess<'a> {
    bytes: &'a [u8],
    next: usize,
}

impl<'a> BytesAccess<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> BytesAccess<'a> {
        BytesAccess { bytes, next: 0 }
    }

    pub(super) fn end(self) -> Result<(), Error> {
        check_consumed(self.bytes.len(), self.next)
    }
}

impl<'de> de::SeqAccess<'de> for BytesAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(&byte) = self.bytes.get(self.next) else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        seed.deserialize(U8Deserializer::<Error>::new(byte))
            .map(Some)
            .map_err(|e| e.within(format!("[{index}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len() - self.next)
    }
}

/// The entries of a dict, read as a map (any keys) or as the fields of a
/// struct (text keys).
pub(super) struct MapAccess<'a> {
    entries: &'a [(Value, Value)],
    /// For fields: the indices of the entries to read, since of keys met
    /// twice only the last counts.
    order: Option<Vec<usize>>,
    next: usize,
    /// The entry whose value is to be read next.
    current: Option<usize>,
    budget: &'a Budget,
}

impl<'a> MapAccess<'a> {
    pub(super) fn map(dict: &'a Dict, budget: &'a Budget) -> MapAccess<'a> {
        MapAccess {
            entries: dict.entries(),
            order: None,
            next: 0,
            current: None,
            budget,
        }
    }

    pub(super) fn fields(dict: &'a Dict, budget: &'a Budget) -> MapAccess<'a> {
        let entries = dict.entries();
        let mut seen = HashSet::with_capacity(entries.len());
        let mut order: Vec<usize> = (0..entries.len())
            .rev()
            .filter(|&i| match text_key(&entries[i].0) {
                Some(key) => seen.insert(key),
                None => true,
            })
            .collect();
        order.reverse();
        MapAccess {
            entries,
            order: Some(order),
            next: 0,
            current: None,
            budget,
        }
    }

    fn len(&self) -> usize {
        self.order.as_ref().map_or(self.entries.len(), Vec::len)
    }

    pub(super) fn visit<'de, V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        let out = visitor.visit_map(&mut self)?;
        check_consumed(self.len(), self.next)?;
        Ok(out)
    }

    /// Where an entry is, in errors.
    fn segment(&self, index: usize) -> String {
        let key = &self.entries[index].0;
        match (&self.order, text_key(key)) {
            (Some(_), Some(name)) => String::from_utf8_lossy(name).into_owned(),
            _ => key_segment(key, index),
        }
    }
}

/// A struct field name: a `str` key, or a `bytes` key as Twisted's
/// `setCopyableState` allows.
fn text_key(key: &Value) -> Option<&[u8]> {
    match key {
        Value::Str(s) => Some(s.as_bytes()),
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let index = match &self.order {
            Some(order) => order.get(self.next).copied(),
            None => (self.next < self.entries.len()).then_some(self.next),
        };
        let Some(index) = index else {
            return Ok(None);
        };
        self.next += 1;
        self.current = Some(index);
        let key = &self.entries[index].0;
        let result = if self.order.is_some() {
            seed.deserialize(FieldName(key))
        } else {
            seed.deserialize(Deserializer::new(key, self.budget))
        };
        result.map(Some).map_err(|e| e.within(self.segment(index)))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let index = self
            .current
            .take()
            .ok_or_else(|| Error::custom("dict value read before its key"))?;
        seed.deserialize(Deserializer::new(&self.entries[index].1, self.budget))
            .map_err(|e| e.within(self.segment(index)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len() - self.next)
    }
}

/// A struct field name or an enum variant name.
struct FieldName<'a>(&'a Value);

impl FieldName<'_> {
    fn text(&self) -> Result<Cow<'_, str>, Error> {
        match text_key(self.0) {
            Some(name) => Ok(String::from_utf8_lossy(name)),
            None => Err(shape("str name", describe(self.0))),
        }
    }
}

impl<'de> de::Deserializer<'de> for FieldName<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Str(s) => visitor.visit_str(s),
            // Bytes that are not UTF-8 name no Rust field; the visitor
            // decides whether an unknown name is an error.
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => visitor.visit_str(s),
                Err(_) => visitor.visit_bytes(b),
            },
            _ => Err(shape("str name", describe(self.0))),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// An enum: a `str` for a unit variant, or a one-entry dict
/// `{variant: content}`.
pub(super) enum EnumAccess<'a> {
    Unit(&'a str),
    Entry {
        variant: &'a Value,
        content: Deserializer<'a>,
    },
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = Error;
    type Variant = VariantAccess<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantAccess<'a>), Error> {
        match self {
            EnumAccess::Unit(name) => {
                let value = seed.deserialize(de::value::StrDeserializer::<Error>::new(name))?;
                Ok((value, VariantAccess::Unit))
            }
            EnumAccess::Entry { variant, content } => {
                let key = FieldName(variant);
                let name = key.text()?.into_owned();
                let value = seed.deserialize(key)?;
                Ok((value, VariantAccess::Content { name, content }))
            }
        }
    }
}

/// The content of a variant.
pub(super) enum VariantAccess<'a> {
    Unit,
    Content {
        name: String,
        content: Deserializer<'a>,
    },
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self {
            VariantAccess::Unit => Ok(()),
            VariantAccess::Content { name, content } => content
                .deserialize_unit(de::IgnoredAny)
                .map(|_| ())
                .map_err(|e| e.within(name)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self {
            VariantAccess::Unit => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
            VariantAccess::Content { name, content } => {
                seed.deserialize(content).map_err(|e| e.within(name))
            }
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        match self {
            VariantAccess::Unit => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
            VariantAccess::Content { name, content } => content
                .deserialize_tuple(len, visitor)
                .map_err(|e| e.within(name)),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            VariantAccess::Unit => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
            VariantAccess::Content { name, content } => content
                .deserialize_struct("", fields, visitor)
                .map_err(|e| e.within(name)),
        }
    }
}
