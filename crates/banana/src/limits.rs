//! Resource limits that keep a hostile peer from exhausting memory or stack.

/// Bounds applied while decoding (and, where they make sense, encoding), in
/// every dialect.
///
/// The defaults are Twisted's own limits (`banana.py`: a 64-byte prefix and
/// `SIZE_LIMIT = 640 * 1024`) plus two of ours that Twisted lacks, chosen so
/// that everything Twisted can produce and read is still accepted.
/// Every limit is inclusive: a value exactly at the limit is allowed.
///
/// ```
/// use spread_banana::Limits;
///
/// let limits = Limits::default().max_depth(64).max_expression_len(1 << 20);
/// assert_eq!(limits.max_depth, 64);
/// assert_eq!(limits.max_string_len, 655_360);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most header bytes one token may carry (Twisted: 64).
    ///
    /// Stops a peer from making us buffer and scan an endless header, and
    /// bounds integers to `2^(7 * max_prefix_len) - 1` (2^448 - 1 by default),
    /// so that no big-integer arithmetic on attacker-sized numbers happens.
    /// The encoder refuses integers that would need a longer header. The
    /// msgpack dialect, which has no such headers, keeps the same bound on
    /// integers.
    pub max_prefix_len: usize,
    /// Longest byte string, in bytes (Twisted: 655 360).
    ///
    /// Checked on the announced length before any payload arrives, so a
    /// header claiming gigabytes never makes us reserve them.
    pub max_string_len: usize,
    /// Most elements in one list (Twisted: 655 360).
    ///
    /// Checked on the announced count, so a list header alone cannot make us
    /// allocate room for billions of elements.
    pub max_list_len: usize,
    /// Deepest nesting of lists; a top-level list has depth 1 (ours: 512).
    ///
    /// Stops a few kilobytes of `01 80` from building a tree so deep that
    /// the recursive code above this layer (and dropping the tree) overflows
    /// the stack. Twisted's recursive unjelly already fails between 300 and
    /// 400 levels, so 512 refuses nothing Twisted could read.
    pub max_depth: usize,
    /// Most encoded bytes in one top-level expression, headers included
    /// (ours: 16 MiB).
    ///
    /// The per-token limits alone still allow a frame of
    /// 655 360 strings of 655 360 bytes each; this bounds what one frame may
    /// make us hold in memory. In the msgpack dialect it bounds the length
    /// a frame announces (without its 4 length bytes), checked before any
    /// of the frame is kept.
    pub max_expression_len: usize,
    /// Most tokens (atoms and list headers) in one top-level expression
    /// (ours: 1 048 576).
    ///
    /// A decoded token costs tens of bytes however few it took on the wire
    /// (an empty list is two bytes), so the byte limit alone would let one
    /// 16 MiB frame become hundreds of MiB of tree. A million tokens still
    /// carries Twisted's longest list of small integers.
    pub max_tokens: usize,
}

impl Limits {
    /// Twisted's prefix limit (`banana.py` `setPrefixLimit(64)`).
    pub const TWISTED_PREFIX_LEN: usize = 64;
    /// Twisted's `SIZE_LIMIT`, the longest string and the longest list.
    pub const TWISTED_SIZE_LIMIT: usize = 640 * 1024;

    /// The default limits; the same as [`Limits::default`], usable in a `const`.
    pub const fn new() -> Limits {
        Limits {
            max_prefix_len: Limits::TWISTED_PREFIX_LEN,
            max_string_len: Limits::TWISTED_SIZE_LIMIT,
            max_list_len: Limits::TWISTED_SIZE_LIMIT,
            max_depth: 512,
            max_expression_len: 16 * 1024 * 1024,
            max_tokens: 1 << 20,
        }
    }

    /// Sets [`Limits::max_prefix_len`].
    #[must_use]
    pub const fn max_prefix_len(mut self, bytes: usize) -> Limits {
        self.max_prefix_len = bytes;
        self
    }

    /// Sets [`Limits::max_string_len`].
    #[must_use]
    pub const fn max_string_len(mut self, bytes: usize) -> Limits {
        self.max_string_len = bytes;
        self
    }

    /// Sets [`Limits::max_list_len`].
    #[must_use]
    pub const fn max_list_len(mut self, elements: usize) -> Limits {
        self.max_list_len = elements;
        self
    }

    /// Sets [`Limits::max_depth`].
    #[must_use]
    pub const fn max_depth(mut self, depth: usize) -> Limits {
        self.max_depth = depth;
        self
    }

    /// Sets [`Limits::max_expression_len`].
    #[must_use]
    pub const fn max_expression_len(mut self, bytes: usize) -> Limits {
        self.max_expression_len = bytes;
        self
    }

    /// Sets [`Limits::max_tokens`].
    #[must_use]
    pub const fn max_tokens(mut self, tokens: usize) -> Limits {
        self.max_tokens = tokens;
        self
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new()
    }
}
