//! Arbitrary [`Value`]s from the fuzzer's bytes: every form of the value
//! model that comes back from the wire as itself, shared and cyclic
//! structure included.
//!
//! A value is built in two steps. First a plan: a tree whose nodes may
//! name an entry of a pool of shared bodies, or a back reference to a
//! cyclic node that encloses it. Then the value, once every pool entry's
//! uses are counted: an entry used twice or more becomes one [`Shared`],
//! an entry used once is written in place. That is how Jelly sees sharing
//! (an object met once is sent plainly), so the value generated is exactly
//! what must come back.
//!
//! Left out, because they do not come back as themselves by design:
//! [`Value::Object`] (a Rust object goes out through its copy rule and
//! comes back as whatever the receiver registered), and a [`Shared`] met
//! only once (it comes back plain).

use arbitrary::{Result, Unstructured};
use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use spread_jelly::{Date, DateTime, Decimal, Dict, Instance, Shared, Time, TimeDelta, Value};

/// How deep a plan may nest; well within Banana's and Jelly's 512 levels,
/// even with a dict's two levels per step.
const MAX_DEPTH: usize = 48;

/// How many nodes one value may have, so that one input stays fast.
const MAX_NODES: usize = 2048;

/// The most shared bodies in one value.
const MAX_POOL: usize = 6;

/// Banana carries integers up to 448 bits (a 64-byte header of 7-bit groups).
const MAX_INT_BYTES: usize = 56;

/// An arbitrary value, from `u`.
pub fn arbitrary_value(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut g = Generator::default();
    let pool_len = u.int_in_range(0..=MAX_POOL)?;
    for _ in 0..pool_len {
        // A pool entry sees only the entries before it, so the pool has no
        // cycles of its own; cycles are the `Cyclic` plan's job.
        let body = g.plan(u, 1)?;
        g.pool.push(body);
    }
    let root = g.plan(u, 0)?;
    let mut uses = vec![0; g.pool.len()];
    count_uses(&root, &g.pool, &mut uses);
    let mut builder = Builder {
        pool: &g.pool,
        uses: &uses,
        built: vec![None; g.pool.len()],
        enclosing: Vec::new(),
    };
    Ok(builder.build(&root))
}

#[derive(Clone, Copy, Debug)]
enum SeqKind {
    List,
    Tuple,
    Set,
    FrozenSet,
}

#[derive(Debug)]
enum Plan {
    Leaf(Value),
    Seq(SeqKind, Vec<Plan>),
    Dict(Vec<(Plan, Plan)>),
    Instance(String, Box<Plan>),
    /// Pool entry `i`.
    Pooled(usize),
    /// A node whose body refers back to it at least once; the number
    /// names it for its back references.
    Cyclic(usize, Box<Plan>),
    /// The enclosing cyclic node with this number. Numbers, not depths:
    /// a cyclic node nothing refers back to is dropped from the plan, which
    /// would shift depths.
    Back(usize),
}

#[derive(Default)]
struct Generator {
    pool: Vec<Plan>,
    nodes: usize,
    /// For each enclosing cyclic node, innermost last: its number, and how
    /// often its body has referred back to it so far.
    cycles: Vec<(usize, usize)>,
    /// The number of the next cyclic node.
    next_cycle: usize,
}

impl Generator {
    fn plan(&mut self, u: &mut Unstructured<'_>, depth: usize) -> Result<Plan> {
        self.nodes += 1;
        // Out of depth, nodes or input: a leaf.
        if depth >= MAX_DEPTH || self.nodes >= MAX_NODES || u.is_empty() {
            return Ok(Plan::Leaf(leaf(u)?));
        }
        let depth = depth + 1;
        Ok(match u.int_in_range(0..=15u8)? {
            0..=5 => Plan::Leaf(leaf(u)?),
            6 => Plan::Seq(SeqKind::List, self.items(u, depth)?),
            7 => Plan::Seq(SeqKind::Tuple, self.items(u, depth)?),
            8 => Plan::Seq(SeqKind::Set, self.items(u, depth)?),
            9 => Plan::Seq(SeqKind::FrozenSet, self.items(u, depth)?),
            10 => {
                let mut entries = Vec::new();
                while entries.len() < 16 && u.arbitrary()? {
                    entries.push((self.plan(u, depth + 1)?, self.plan(u, depth + 1)?));
                }
                Plan::Dict(entries)
            }
            11 => {
                let mut class: String = u.arbitrary()?;
                // A dotted name is what makes `[name, state]` an instance.
                if !class.contains('.') {
                    class.push_str(".C");
                }
                Plan::Instance(class, Box::new(self.plan(u, depth)?))
            }
            12 if !self.pool.is_empty() => Plan::Pooled(u.choose_index(self.pool.len())?),
            13 => {
                let id = self.next_cycle;
                self.next_cycle += 1;
                self.cycles.push((id, 0));
                let body = self.plan(u, depth);
                let backs = self.cycles.pop().map_or(0, |(_, n)| n);
                let body = body?;
                if backs == 0 {
                    // Nothing refers back: a plain value.
                    body
                } else {
                    Plan::Cyclic(id, Box::new(body))
                }
            }
            14 if !self.cycles.is_empty() => {
                let at = u.choose_index(self.cycles.len())?;
                self.cycles[at].1 += 1;
                Plan::Back(self.cycles[at].0)
            }
            _ => Plan::Leaf(leaf(u)?),
        })
    }

    fn items(&mut self, u: &mut Unstructured<'_>, depth: usize) -> Result<Vec<Plan>> {
        let mut items = Vec::new();
        while items.len() < 32 && u.arbitrary()? {
            items.push(self.plan(u, depth)?);
        }
        Ok(items)
    }
}

/// An arbitrary value with nothing inside it.
fn leaf(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=13u8)? {
        0 => Value::None,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Int(u.arbitrary()?),
        // Near the edges of the INT, NEG and i64 ranges.
        3 => Value::Int(*u.choose(&[
            0,
            -1,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            (1 << 31) - 1,
            -(1 << 31),
        ])?),
        4 => Value::from(big_int(u)?),
        // Every bit pattern: NaNs with payloads, infinities, -0.0, subnormals.
        5 => Value::Float(f64::from_bits(u.arbitrary()?)),
        6 => Value::Bytes(Bytes::from(u.arbitrary::<Vec<u8>>()?)),
        7 => Value::Str(u.arbitrary()?),
        8 => match (date(u)?, time(u)?) {
            (Some(d), Some(t)) => Value::DateTime(DateTime::new(d, t)),
            _ => Value::None,
        },
        9 => date(u)?.map_or(Value::None, Value::Date),
        10 => time(u)?.map_or(Value::None, Value::Time),
        11 => TimeDelta::normalized(u.arbitrary()?, u.arbitrary()?, u.arbitrary()?)
            .map_or(Value::None, Value::TimeDelta),
        12 => Value::Decimal(Decimal::new(big_int(u)?, u.arbitrary()?)),
        _ => Value::Unpersistable(u.arbitrary()?),
    })
}

/// An integer of up to 448 bits, any sign.
fn big_int(u: &mut Unstructured<'_>) -> Result<BigInt> {
    let len = u.int_in_range(0..=MAX_INT_BYTES)?;
    let magnitude = u.bytes(len.min(u.len()))?;
    let sign = if u.arbitrary()? {
        Sign::Minus
    } else {
        Sign::Plus
    };
    Ok(BigInt::from_bytes_le(sign, magnitude))
}

fn date(u: &mut Unstructured<'_>) -> Result<Option<Date>> {
    Ok(Date::new(u.int_in_range(0..=10_000)?, u.arbitrary()?, u.arbitrary()?).ok())
}

fn time(u: &mut Unstructured<'_>) -> Result<Option<Time>> {
    Ok(Time::new(
        u.int_in_range(0..=24)?,
        u.int_in_range(0..=60)?,
        u.int_in_range(0..=60)?,
        u.int_in_range(0..=1_000_000)?,
    )
    .ok())
}

/// Counts each pool entry's uses reachable from `plan`; an entry's own
/// uses count once, however often it is used.
fn count_uses(plan: &Plan, pool: &[Plan], uses: &mut [usize]) {
    match plan {
        Plan::Leaf(_) | Plan::Back(_) => {}
        Plan::Seq(_, items) => items.iter().for_each(|p| count_uses(p, pool, uses)),
        Plan::Dict(entries) => entries.iter().for_each(|(k, v)| {
            count_uses(k, pool, uses);
            count_uses(v, pool, uses);
        }),
        Plan::Instance(_, state) => count_uses(state, pool, uses),
        Plan::Cyclic(_, body) => count_uses(body, pool, uses),
        Plan::Pooled(i) => {
            uses[*i] += 1;
            if uses[*i] == 1 {
                count_uses(&pool[*i], pool, uses);
            }
        }
    }
}

struct Builder<'a> {
    pool: &'a [Plan],
    uses: &'a [usize],
    built: Vec<Option<Shared>>,
    /// The enclosing cyclic nodes' numbers and back references.
    enclosing: Vec<(usize, Shared)>,
}

impl Builder<'_> {
    fn build(&mut self, plan: &Plan) -> Value {
        match plan {
            Plan::Leaf(v) => v.clone(),
            Plan::Seq(kind, items) => {
                let items = items.iter().map(|p| self.build(p)).collect();
                match kind {
                    SeqKind::List => Value::List(items),
                    SeqKind::Tuple => Value::Tuple(items),
                    SeqKind::Set => Value::Set(items),
                    SeqKind::FrozenSet => Value::FrozenSet(items),
                }
            }
            Plan::Dict(entries) => Value::Dict(
                entries
                    .iter()
                    .map(|(k, v)| (self.build(k), self.build(v)))
                    .collect::<Dict>(),
            ),
            Plan::Instance(class, state) => {
                Value::from(Instance::new(class.clone(), self.build(state)))
            }
            Plan::Pooled(i) if self.uses[*i] < 2 => self.build(&self.pool[*i]),
            Plan::Pooled(i) => {
                if let Some(shared) = &self.built[*i] {
                    return Value::Shared(shared.clone());
                }
                // Pool entries hold no back references, so they can be built
                // outside the cycles that use them.
                let enclosing = std::mem::take(&mut self.enclosing);
                let shared = Shared::new(self.build(&self.pool[*i]));
                self.enclosing = enclosing;
                self.built[*i] = Some(shared.clone());
                Value::Shared(shared)
            }
            Plan::Cyclic(id, body) => Value::Shared(Shared::cyclic(|me| {
                self.enclosing.push((*id, me));
                let value = self.build(body);
                self.enclosing.pop();
                value
            })),
            Plan::Back(id) => {
                let (_, me) = self
                    .enclosing
                    .iter()
                    .find(|(enclosing, _)| enclosing == id)
                    .expect("a back reference is inside its cyclic node");
                Value::Shared(me.clone())
            }
        }
    }
}
