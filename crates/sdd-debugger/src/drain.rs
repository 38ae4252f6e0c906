//! A Drain-style log template miner: plain-text lines grouped into templates online.
//!
//! The algorithm is Drain (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth
//! Tree", ICWS 2017) with Drain3's refinements, so that the same settings mean the same thing
//! in both: a line is split into tokens, obvious variables are masked, the line descends a
//! fixed-depth prefix tree (first level: the token count; then the first `depth - 3` tokens,
//! a token with a digit going to the `<*>` child), and the leaf's clusters are compared with
//! it token by token. The most similar cluster at or above the threshold takes the line (the
//! positions that differ become `<*>`); otherwise the line starts a new cluster.
//!
//! Speed: a line is tokenised into reused buffers (no allocation per line or per token once the
//! miner has warmed up); tokens are looked up in an interner that holds only the tokens that
//! occur in templates, so a line's tokens become integers and the comparisons are integer
//! compares. A token never seen in a template gets the id [`UNKNOWN`], which equals no template
//! token — exactly what a string compare would say. Masking copies a token only when it has a
//! digit and a variable is found in it.
//!
//! Bounds: a line is considered up to [`MAX_LINE_BYTES`] bytes and [`MAX_TOKENS`] tokens; what
//! lies beyond is one trailing `<*>` token, so a hostile 1 MB line costs the same as a 64 KiB
//! one and every template has at most [`MAX_TOKENS`] tokens.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A template's id: stable for the life of its cluster, however its text changes.
pub type TemplateId = u32;

/// How a variable is written in template text (Drain3's `param_str`).
pub const WILDCARD: &str = "<*>";

/// Bytes of a line the miner considers; the rest of a longer line is one trailing `<*>`.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Tokens of a line the miner considers, the trailing `<*>` of a longer line included.
pub const MAX_TOKENS: usize = 512;

/// Characters of a line kept as a template's example.
pub const EXAMPLE_CHARS: usize = 500;

/// The template token that stands for a variable.
const WILD: u32 = u32::MAX;
/// A line token that occurs in no template (so it equals no template token).
pub const UNKNOWN: u32 = u32::MAX - 1;
/// "No node" / "no cluster" in the index links.
const NONE: u32 = u32::MAX;

/// How the miner groups lines. The defaults are Drain3's, bar masking (on here, off in Drain3
/// unless configured) and the examples kept.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerConfig {
    /// Levels of the prefix tree, root and leaves included (Drain3's `depth`, at least 3): the
    /// leaves sit below the token-count level and `depth - 3` levels of leading tokens.
    pub depth: usize,
    /// The share of equal tokens (a template's `<*>` counting as unequal) a line needs to join
    /// a cluster (Drain3's `sim_th`).
    pub similarity: f64,
    /// Children of a tree node before further tokens go to its `<*>` child.
    pub max_children: usize,
    /// Clusters kept; past it the least recently used one is dropped (its id is never reused).
    pub max_clusters: Option<usize>,
    /// Characters that separate tokens besides whitespace (Drain3's `extra_delimiters`).
    pub extra_delimiters: Vec<char>,
    /// Replace numbers, hex (`0x1f`, ids of 8+ hex digits), IPv4 addresses (with a port) and
    /// UUIDs by `<*>` before the tree descent, inside a token too (`blk_-42` → `blk_<*>`).
    pub mask: bool,
    /// A token with a digit descends to the `<*>` child (Drain3's
    /// `parametrize_numeric_tokens`).
    pub parametrize_numeric: bool,
    /// Lines kept per template as examples (the first ones, each cut at [`EXAMPLE_CHARS`]).
    pub examples_per_template: usize,
}

impl Default for MinerConfig {
    fn default() -> MinerConfig {
        MinerConfig {
            depth: 4,
            similarity: 0.4,
            max_children: 100,
            max_clusters: None,
            extra_delimiters: Vec::new(),
            mask: true,
            parametrize_numeric: true,
            examples_per_template: 3,
        }
    }
}

/// One mined template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: TemplateId,
    /// The tokens joined by one space, variables as `<*>` (a partly masked token keeps its
    /// constant part: `blk_<*>`). A line of no tokens has the template `""`.
    pub text: String,
    /// Lines that joined the template.
    pub count: u64,
    /// The first lines that joined it, each cut at [`EXAMPLE_CHARS`] characters.
    pub examples: Vec<String>,
}

/// The online miner. `add` learns, `matching` only looks.
#[derive(Debug, Clone)]
pub struct Miner {
    config: MinerConfig,
    /// Tree levels below the token-count node that route by token (`depth - 3`, at least 0),
    /// plus one: Drain3's `max_node_depth` counted from the token-count node.
    max_node_depth: usize,
    delimiters: Delimiters,
    interner: Interner,
    /// Arena of tree nodes, never shrunk, so every node index stored in it or in `by_len`
    /// and `Cluster::leaf` stays valid; `by_len[n]` is the node of lines of `n` tokens.
    nodes: Vec<Node>,
    by_len: Vec<u32>,
    /// Live clusters, dense (an evicted one is swap-removed and its mover's links fixed).
    clusters: Vec<Cluster>,
    slot_of: FxMap<TemplateId, u32>,
    next_id: TemplateId,
    /// Least recently used first; kept only when `max_clusters` is set.
    lru_head: u32,
    lru_tail: u32,
    scratch: Scratch,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: FxMap<u32, u32>,
    wildcard: Option<u32>,
    /// Slots of the clusters of a leaf.
    clusters: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Cluster {
    template: Template,
    tokens: Vec<u32>,
    /// The leaf that lists this cluster.
    leaf: u32,
    prev: u32,
    next: u32,
}

impl Miner {
    /// A miner with no templates yet. A depth below 3 is taken as 3, a `max_clusters` of 0 as 1.
    pub fn new(config: MinerConfig) -> Miner {
        let depth = config.depth.max(3);
        Miner {
            max_node_depth: depth - 2,
            delimiters: Delimiters::new(&config.extra_delimiters),
            config,
            interner: Interner::default(),
            nodes: Vec::new(),
            by_len: Vec::new(),
            clusters: Vec::new(),
            slot_of: FxMap::default(),
            next_id: 1,
            lru_head: NONE,
            lru_tail: NONE,
            scratch: Scratch::default(),
        }
    }

    /// Learns from one line and returns the id of the template it joined or started.
    pub fn add(&mut self, line: &str) -> TemplateId {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.read(line, &self.delimiters, &self.config, &self.interner);
        let found = self.leaf_of(&scratch.ids).and_then(|leaf| {
            self.best_in(&self.nodes[leaf as usize].clusters, &scratch.ids, false)
        });
        let slot = match found {
            Some((slot, equal)) if meets(equal, scratch.ids.len(), self.config.similarity) => {
                self.merge(slot, &scratch.ids, line);
                slot
            }
            _ => self.create(&scratch, line),
        };
        self.scratch = scratch;
        self.touch(slot);
        self.clusters[slot as usize].template.id
    }

    /// The template a line belongs to, without learning: every token of the template that is
    /// not `<*>` must equal the line's (Drain3's `match` with its `fallback` strategy: the tree
    /// first, then every cluster of the same token count). Allocates its own token buffers.
    pub fn matching(&self, line: &str) -> Option<TemplateId> {
        let mut scratch = Scratch::default();
        scratch.read(line, &self.delimiters, &self.config, &self.interner);
        let ids = &scratch.ids;
        let full = |(slot, equal): (u32, usize)| (equal == ids.len()).then_some(slot);
        let in_tree = self
            .leaf_of(ids)
            .and_then(|leaf| self.best_in(&self.nodes[leaf as usize].clusters, ids, true))
            .and_then(full);
        let slot = in_tree.or_else(|| {
            let same_len: Vec<u32> = (0..self.clusters.len() as u32)
                .filter(|&s| self.clusters[s as usize].tokens.len() == ids.len())
                .collect();
            self.best_in(&same_len, ids, true).and_then(full)
        })?;
        Some(self.clusters[slot as usize].template.id)
    }

    /// The template of an id, if its cluster is still kept (see `max_clusters`).
    pub fn template(&self, id: TemplateId) -> Option<&Template> {
        let slot = *self.slot_of.get(&id)?;
        self.clusters.get(slot as usize).map(|c| &c.template)
    }

    /// Every kept template, in no particular order.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.clusters.iter().map(|c| &c.template)
    }

    /// Templates kept.
    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    /// The leaf a line of these tokens descends to (Drain3's `tree_search`).
    fn leaf_of(&self, ids: &[u32]) -> Option<u32> {
        let n = ids.len();
        let mut node = *self.by_len.get(n)?;
        if node == NONE {
            return None;
        }
        for token in &ids[..self.routing_tokens(n)] {
            let here = &self.nodes[node as usize];
            node = match here.children.get(token) {
                Some(&child) => child,
                None => here.wildcard?,
            };
        }
        Some(node)
    }

    /// The most similar cluster among `slots` and its count of similar tokens (a template's
    /// `<*>` counts as similar only with `with_wildcards`); ties go to the template with more
    /// `<*>` (Drain3's `fast_match`).
    fn best_in(&self, slots: &[u32], ids: &[u32], with_wildcards: bool) -> Option<(u32, usize)> {
        let mut best: Option<(u32, usize, usize)> = None;
        for &slot in slots {
            let Some(cluster) = self.clusters.get(slot as usize) else {
                continue;
            };
            if cluster.tokens.len() != ids.len() {
                continue;
            }
            let (mut equal, mut wild) = (0usize, 0usize);
            for (&t, &l) in cluster.tokens.iter().zip(ids) {
                if t == WILD {
                    wild += 1;
                } else if t == l {
                    equal += 1;
                }
            }
            if with_wildcards {
                equal += wild;
            }
            let better = match best {
                None => true,
                Some((_, e, w)) => equal > e || (equal == e && wild > w),
            };
            if better {
                best = Some((slot, equal, wild));
            }
        }
        best.map(|(slot, equal, _)| (slot, equal))
    }

    /// The line joins the cluster: positions that differ become `<*>`.
    fn merge(&mut self, slot: u32, ids: &[u32], line: &str) {
        let Some(cluster) = self.clusters.get_mut(slot as usize) else {
            return;
        };
        let mut changed = false;
        for (t, &l) in cluster.tokens.iter_mut().zip(ids) {
            if *t != WILD && *t != l {
                *t = WILD;
                changed = true;
            }
        }
        if changed {
            cluster.template.text = self.interner.render(&cluster.tokens);
        }
        cluster.template.count += 1;
        if cluster.template.examples.len() < self.config.examples_per_template {
            cluster.template.examples.push(example(line));
        }
    }

    /// A new cluster of the line's tokens, filed in the tree (Drain3's
    /// `add_seq_to_prefix_tree`); the least recently used cluster goes if there are too many.
    fn create(&mut self, scratch: &Scratch, line: &str) -> u32 {
        if let Some(max) = self.config.max_clusters {
            while self.clusters.len() >= max.max(1) && self.lru_head != NONE {
                self.evict(self.lru_head);
            }
        }
        let tokens: Vec<u32> = (0..scratch.spans.len())
            .map(|i| {
                let id = scratch.ids[i];
                if id == UNKNOWN {
                    self.interner.intern(scratch.text(i, line))
                } else {
                    id
                }
            })
            .collect();
        let leaf = self.file(&tokens, &scratch.variable);
        let id = self.next_id;
        // Ids wrap only after 4 billion clusters; 0 is never an id.
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let slot = self.clusters.len() as u32;
        let mut examples = Vec::new();
        if self.config.examples_per_template > 0 {
            examples.push(example(line));
        }
        self.clusters.push(Cluster {
            template: Template {
                id,
                text: self.interner.render(&tokens),
                count: 1,
                examples,
            },
            tokens,
            leaf,
            prev: NONE,
            next: NONE,
        });
        self.slot_of.insert(id, slot);
        if let Some(node) = self.nodes.get_mut(leaf as usize) {
            node.clusters.push(slot);
        }
        if self.config.max_clusters.is_some() {
            self.link_last(slot);
        }
        slot
    }

    /// The leaf for a new cluster of these tokens, creating the nodes on the way.
    fn file(&mut self, tokens: &[u32], variable: &[bool]) -> u32 {
        let n = tokens.len();
        if self.by_len.len() <= n {
            self.by_len.resize(n + 1, NONE);
        }
        let mut node = self.by_len[n];
        if node == NONE {
            node = self.new_node();
            self.by_len[n] = node;
        }
        let max_children = self.config.max_children.max(1);
        for (i, &token) in tokens.iter().enumerate().take(self.routing_tokens(n)) {
            let here = &self.nodes[node as usize];
            let wild_child = here.wildcard;
            let count = here.children.len() + usize::from(wild_child.is_some());
            node = if let Some(&child) = here.children.get(&token) {
                child
            } else if self.config.parametrize_numeric && variable.get(i).copied().unwrap_or(false) {
                self.wildcard_child(node)
            } else if let Some(wild) = wild_child {
                if count < max_children {
                    self.token_child(node, token)
                } else {
                    wild
                }
            } else if count + 1 < max_children {
                self.token_child(node, token)
            } else {
                self.wildcard_child(node)
            };
        }
        node
    }

    /// How many leading tokens of a line of `n` route it: `depth - 3`, and never its last
    /// token (Drain3 stops at `max_node_depth` or the token count).
    fn routing_tokens(&self, n: usize) -> usize {
        (self.max_node_depth - 1).min(n.saturating_sub(1))
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    fn token_child(&mut self, parent: u32, token: u32) -> u32 {
        let child = self.new_node();
        self.nodes[parent as usize].children.insert(token, child);
        child
    }

    fn wildcard_child(&mut self, parent: u32) -> u32 {
        if let Some(child) = self.nodes[parent as usize].wildcard {
            return child;
        }
        let child = self.new_node();
        self.nodes[parent as usize].wildcard = Some(child);
        child
    }

    /// Drops a cluster: out of its leaf, the LRU list and the id map; the last cluster moves
    /// into its slot and the links to that one are fixed.
    fn evict(&mut self, slot: u32) {
        let Some(gone) = self.clusters.get(slot as usize) else {
            return;
        };
        let (leaf, id) = (gone.leaf, gone.template.id);
        self.unlink(slot);
        if let Some(node) = self.nodes.get_mut(leaf as usize) {
            node.clusters.retain(|&s| s != slot);
        }
        self.slot_of.remove(&id);
        let last = (self.clusters.len() - 1) as u32;
        self.clusters.swap_remove(slot as usize);
        if slot == last {
            return;
        }
        // The cluster that was last now lives at `slot`.
        let moved = &self.clusters[slot as usize];
        let (leaf, id, prev, next) = (moved.leaf, moved.template.id, moved.prev, moved.next);
        if let Some(node) = self.nodes.get_mut(leaf as usize) {
            for s in &mut node.clusters {
                if *s == last {
                    *s = slot;
                }
            }
        }
        self.slot_of.insert(id, slot);
        match prev {
            NONE if self.lru_head == last => self.lru_head = slot,
            NONE => {}
            p => self.clusters[p as usize].next = slot,
        }
        match next {
            NONE if self.lru_tail == last => self.lru_tail = slot,
            NONE => {}
            n => self.clusters[n as usize].prev = slot,
        }
    }

    /// Marks a cluster as the most recently used.
    fn touch(&mut self, slot: u32) {
        if self.config.max_clusters.is_none() || self.lru_tail == slot {
            return;
        }
        self.unlink(slot);
        self.link_last(slot);
    }

    fn unlink(&mut self, slot: u32) {
        let Some(c) = self.clusters.get(slot as usize) else {
            return;
        };
        let (prev, next) = (c.prev, c.next);
        if prev == NONE {
            if self.lru_head == slot {
                self.lru_head = next;
            }
        } else {
            self.clusters[prev as usize].next = next;
        }
        if next == NONE {
            if self.lru_tail == slot {
                self.lru_tail = prev;
            }
        } else {
            self.clusters[next as usize].prev = prev;
        }
        let c = &mut self.clusters[slot as usize];
        c.prev = NONE;
        c.next = NONE;
    }

    fn link_last(&mut self, slot: u32) {
        let tail = self.lru_tail;
        self.clusters[slot as usize].prev = tail;
        self.clusters[slot as usize].next = NONE;
        if tail == NONE {
            self.lru_head = slot;
        } else {
            self.clusters[tail as usize].next = slot;
        }
        self.lru_tail = slot;
    }
}

/// Whether `equal` of `n` tokens reaches the threshold; a line of no tokens always does.
fn meets(equal: usize, n: usize, similarity: f64) -> bool {
    n == 0 || equal as f64 / n as f64 >= similarity
}

/// A line as kept for an example: its first [`EXAMPLE_CHARS`] characters.
fn example(line: &str) -> String {
    match line.char_indices().nth(EXAMPLE_CHARS) {
        Some((cut, _)) => line[..cut].to_string(),
        None => line.to_string(),
    }
}

/// The longest prefix of `line` of at most `max` bytes that ends on a character boundary.
fn cap(line: &str, max: usize) -> &str {
    if line.len() <= max {
        return line;
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// Token separators: a table for ASCII (whitespace as Python's `str.split` sees it, so that
/// Drain3 and this miner agree, plus the ASCII extra delimiters) and a list for the rest.
#[derive(Debug, Clone)]
struct Delimiters {
    ascii: [bool; 128],
    other: Vec<char>,
}

impl Delimiters {
    fn new(extra: &[char]) -> Delimiters {
        let mut ascii = [false; 128];
        for b in [
            b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r', 0x1c, 0x1d, 0x1e, 0x1f,
        ] {
            ascii[b as usize] = true;
        }
        let mut other = Vec::new();
        for &c in extra {
            if c.is_ascii() {
                ascii[c as usize] = true;
            } else {
                other.push(c);
            }
        }
        Delimiters { ascii, other }
    }

    /// Whether the character at byte `i` (a character boundary) separates tokens, and its width.
    #[inline]
    fn at(&self, line: &str, i: usize) -> (bool, usize) {
        let b = line.as_bytes()[i];
        if b < 0x80 {
            return (self.ascii[b as usize], 1);
        }
        match line.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => (c.is_whitespace() || self.other.contains(&c), c.len_utf8()),
            // Unreachable while `i` is a boundary; one byte on keeps the loop moving.
            None => (false, 1),
        }
    }
}

/// Where a token's text is: in the line, in the masked copy, or the trailing `<*>` of a
/// capped line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Line,
    Masked,
    Tail,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    source: Source,
    start: u32,
    end: u32,
}

/// One line's tokens, in buffers reused from line to line.
#[derive(Debug, Clone, Default)]
struct Scratch {
    masked: String,
    spans: Vec<Span>,
    /// Per token: a digit in it, or a variable masked in it.
    variable: Vec<bool>,
    /// Per token: its interned id, or [`UNKNOWN`].
    ids: Vec<u32>,
}

impl Scratch {
    /// Tokenises, masks and looks up one line.
    fn read(
        &mut self,
        line: &str,
        delimiters: &Delimiters,
        config: &MinerConfig,
        interner: &Interner,
    ) {
        self.masked.clear();
        self.spans.clear();
        self.variable.clear();
        self.ids.clear();
        let capped = cap(line, MAX_LINE_BYTES);
        let bytes = capped.as_bytes();
        let mut tail = false;
        let mut i = 0;
        while i < bytes.len() {
            let (delimiter, width) = delimiters.at(capped, i);
            if delimiter {
                i += width;
                continue;
            }
            if self.spans.len() == MAX_TOKENS - 1 {
                tail = true;
                break;
            }
            let start = i;
            let mut digit = false;
            while i < bytes.len() {
                let (delimiter, width) = delimiters.at(capped, i);
                if delimiter {
                    break;
                }
                digit |= bytes[i].is_ascii_digit();
                i += width;
            }
            if i == bytes.len() && capped.len() < line.len() {
                // The cut fell inside (or right after) this token: it stands for the rest.
                tail = true;
                break;
            }
            // `start` and `i` only ever move by whole characters: both are boundaries.
            let token = &capped[start..i];
            let mut span = Span {
                source: Source::Line,
                start: start as u32,
                end: i as u32,
            };
            let mut variable = digit;
            if digit && config.mask {
                let from = self.masked.len();
                if mask_token(token, &mut self.masked) {
                    span = Span {
                        source: Source::Masked,
                        start: from as u32,
                        end: self.masked.len() as u32,
                    };
                    variable = true;
                } else {
                    self.masked.truncate(from);
                }
            }
            self.spans.push(span);
            self.variable.push(variable);
        }
        if tail || (capped.len() < line.len() && self.spans.len() < MAX_TOKENS) {
            self.spans.push(Span {
                source: Source::Tail,
                start: 0,
                end: 0,
            });
            self.variable.push(true);
        }
        for i in 0..self.spans.len() {
            let id = interner.get(self.text(i, line));
            self.ids.push(id);
        }
    }

    /// The text of token `i` of `line`.
    fn text<'a>(&'a self, i: usize, line: &'a str) -> &'a str {
        let Some(span) = self.spans.get(i) else {
            return "";
        };
        let (start, end) = (span.start as usize, span.end as usize);
        match span.source {
            Source::Line => line.get(start..end).unwrap_or(""),
            Source::Masked => self.masked.get(start..end).unwrap_or(""),
            Source::Tail => WILDCARD,
        }
    }
}

/// Appends `token` to `out` with its variables replaced by `<*>`; whether any was. A variable
/// starts where the previous byte is not an ASCII letter or digit and ends where the next one
/// is not (Drain3's usual masking patterns' look-arounds), so `blk_-42`, `size=12,` and
/// `/10.0.0.1:50010` are masked but `12ms` and `v2` are not (they still count as variable
/// tokens for the tree).
fn mask_token(token: &str, out: &mut String) -> bool {
    let b = token.as_bytes();
    let mut copied = 0;
    let mut masked = false;
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary {
            if let Some(len) = variable_at(b, i) {
                // Both ends are next to ASCII bytes, so both are character boundaries.
                out.push_str(token.get(copied..i).unwrap_or(""));
                out.push_str(WILDCARD);
                i += len;
                copied = i;
                masked = true;
                continue;
            }
        }
        i += 1;
    }
    if masked {
        out.push_str(token.get(copied..).unwrap_or(""));
    }
    masked
}

/// The length of the variable that starts at `b[i]` (a UUID, `0x` hex, an IPv4 address with
/// an optional port, an id of 8+ hex digits with a digit, a number), if one does and it ends
/// at a boundary.
fn variable_at(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?;
    let ends = |len: usize| match rest.get(len) {
        None => true,
        Some(c) => !c.is_ascii_alphanumeric(),
    };
    let run =
        |from: usize, ok: fn(&u8) -> bool| rest.iter().skip(from).take_while(|c| ok(c)).count();
    let first = *rest.first()?;
    if !(first.is_ascii_alphanumeric() || first == b'-' || first == b'+') {
        return None;
    }
    // UUID: 8-4-4-4-12 hex digits.
    if rest.len() >= 36 && ends(36) {
        let groups = [8usize, 4, 4, 4, 12];
        let mut at = 0;
        let mut ok = true;
        for (g, &len) in groups.iter().enumerate() {
            if run(at, u8::is_ascii_hexdigit) < len {
                ok = false;
                break;
            }
            at += len;
            if g < 4 {
                if rest.get(at) != Some(&b'-') {
                    ok = false;
                    break;
                }
                at += 1;
            }
        }
        if ok {
            return Some(36);
        }
    }
    // 0x1f
    if first == b'0' && matches!(rest.get(1), Some(b'x' | b'X')) {
        let len = run(2, u8::is_ascii_hexdigit);
        if len > 0 && ends(2 + len) {
            return Some(2 + len);
        }
    }
    // IPv4 with an optional port.
    if first.is_ascii_digit() {
        let mut at = 0;
        let mut octets = 0;
        while octets < 4 {
            let len = run(at, u8::is_ascii_digit);
            if len == 0 || len > 3 {
                break;
            }
            at += len;
            octets += 1;
            if octets < 4 {
                if rest.get(at) != Some(&b'.') {
                    break;
                }
                at += 1;
            }
        }
        if octets == 4 {
            if rest.get(at) == Some(&b':') {
                let port = run(at + 1, u8::is_ascii_digit);
                if port > 0 && ends(at + 1 + port) {
                    return Some(at + 1 + port);
                }
            }
            if ends(at) {
                return Some(at);
            }
        }
    }
    // A long hex id (a trace id, a hash): 8+ hex digits, one of them a decimal digit.
    let hex = run(0, u8::is_ascii_hexdigit);
    if hex >= 8 && ends(hex) && rest[..hex].iter().any(u8::is_ascii_digit) {
        return Some(hex);
    }
    // A number: an optional sign, digits, and `.` or `,` groups of digits.
    let sign = usize::from(first == b'-' || first == b'+');
    let mut at = sign + run(sign, u8::is_ascii_digit);
    if at == sign {
        return None;
    }
    while matches!(rest.get(at), Some(b'.' | b',')) {
        let len = run(at + 1, u8::is_ascii_digit);
        if len == 0 {
            break;
        }
        at += 1 + len;
    }
    ends(at).then_some(at)
}

/// Tokens that occur in templates, as integers. A line's other tokens are [`UNKNOWN`].
#[derive(Debug, Clone, Default)]
struct Interner {
    ids: FxMap<Box<str>, u32>,
    texts: Vec<Box<str>>,
}

impl Interner {
    fn get(&self, text: &str) -> u32 {
        self.ids.get(text).copied().unwrap_or(UNKNOWN)
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        if id >= UNKNOWN {
            // 4 billion distinct template tokens cannot fit in memory; were it to happen the
            // token would become a variable rather than collide with UNKNOWN.
            return WILD;
        }
        self.texts.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    fn render(&self, tokens: &[u32]) -> String {
        let mut text = String::new();
        for (i, &t) in tokens.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            match self.texts.get(t as usize) {
                Some(s) if t != WILD => text.push_str(s),
                _ => text.push_str(WILDCARD),
            }
        }
        text
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// rustc's FxHash: one rotate, xor and multiply per word. Keys here are short tokens and
/// integers the miner makes itself, so the DoS resistance of SipHash buys nothing worth its
/// cost (a hostile log can at worst slow its own lookups).
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(token: &str) -> String {
        let mut out = String::new();
        if mask_token(token, &mut out) {
            out
        } else {
            token.to_string()
        }
    }

    #[test]
    fn masking_replaces_variables_inside_tokens_at_word_boundaries() {
        let cases = [
            ("42", "<*>"),
            ("-42", "<*>"),
            ("3.14", "<*>"),
            ("1,024", "<*>"),
            ("blk_-1608999687919862906", "blk_<*>"),
            ("size=12,", "size=<*>,"),
            ("0x1f", "<*>"),
            ("0xZZ", "0xZZ"),
            ("10.250.19.102", "<*>"),
            ("/10.250.19.102:50010", "/<*>"),
            ("10.0.0.1:", "<*>:"),
            ("(uid=0)", "(uid=<*>)"),
            ("123e4567-e89b-12d3-a456-426614174000", "<*>"),
            ("trace=4bf92f3577b34da6a3ce929d0e0e4736", "trace=<*>"),
            ("deadbeef", "deadbeef"),
            // A digit run glued to letters is not masked (it still counts as variable).
            ("12ms", "12ms"),
            ("v2", "v2"),
            ("core.3", "core.<*>"),
            ("é42", "é<*>"),
            ("1.2.3.4.5", "<*>.<*>"),
        ];
        for (token, want) in cases {
            assert_eq!(masked(token), want, "{token}");
        }
    }

    fn tokens(line: &str, extra: &[char]) -> Vec<String> {
        let config = MinerConfig {
            extra_delimiters: extra.to_vec(),
            ..MinerConfig::default()
        };
        let mut s = Scratch::default();
        s.read(line, &Delimiters::new(extra), &config, &Interner::default());
        (0..s.spans.len())
            .map(|i| s.text(i, line).to_string())
            .collect()
    }

    #[test]
    fn tokens_split_on_whitespace_and_the_extra_delimiters() {
        let cases: &[(&str, &[char], &[&str])] = &[
            ("a  b\tc\r\n", &[], &["a", "b", "c"]),
            ("", &[], &[]),
            ("   ", &[], &[]),
            ("k=v,x=y", &['=', ','], &["k", "v", "x", "y"]),
            ("a\u{2003}b", &[], &["a", "b"]),
            ("a·b", &['·'], &["a", "b"]),
            ("port 22", &[], &["port", "<*>"]),
        ];
        for &(line, extra, want) in cases {
            assert_eq!(tokens(line, extra), want, "{line:?}");
        }
    }

    #[test]
    fn long_lines_keep_a_trailing_wildcard_for_what_is_cut() {
        let many = "w ".repeat(MAX_TOKENS * 2);
        let got = tokens(&many, &[]);
        assert_eq!(got.len(), MAX_TOKENS);
        assert_eq!(got.last().map(String::as_str), Some(WILDCARD));
        let huge = "x".repeat(MAX_LINE_BYTES * 2);
        assert_eq!(tokens(&huge, &[]), [WILDCARD]);
        let two = format!("head {huge}");
        assert_eq!(tokens(&two, &[]), ["head", WILDCARD]);
    }

    /// Mines the lines and answers each line's id and the final templates by id.
    fn mine(config: MinerConfig, lines: &[&str]) -> (Miner, Vec<TemplateId>) {
        let mut miner = Miner::new(config);
        let ids = lines.iter().map(|l| miner.add(l)).collect();
        (miner, ids)
    }

    fn text(miner: &Miner, id: TemplateId) -> &str {
        miner.template(id).map_or("?", |t| t.text.as_str())
    }

    #[test]
    fn similar_lines_merge_and_differing_positions_become_wildcards() {
        let (miner, ids) = mine(
            MinerConfig::default(),
            &[
                "user alice logged in",
                "user bob logged in",
                "user carol logged out",
                "disk full",
                "user dave logged in",
            ],
        );
        assert_eq!(ids, [1, 1, 1, 2, 1]);
        assert_eq!(text(&miner, 1), "user <*> logged <*>");
        assert_eq!(miner.template(1).map(|t| t.count), Some(4));
        assert_eq!(miner.len(), 2);
    }

    #[test]
    fn the_threshold_decides_between_merging_and_a_new_cluster() {
        // 2 of 4 tokens equal: 0.5.
        let lines = ["a b c d", "a b x y"];
        let cases = [(0.4, vec![1, 1]), (0.5, vec![1, 1]), (0.6, vec![1, 2])];
        for (similarity, want) in cases {
            let (_, ids) = mine(
                MinerConfig {
                    similarity,
                    ..MinerConfig::default()
                },
                &lines,
            );
            assert_eq!(ids, want, "similarity {similarity}");
        }
    }

    #[test]
    fn the_first_tokens_route_and_tokens_with_digits_share_the_wildcard_child() {
        // Depth 4 routes by the first token: different first words never merge…
        let (_, ids) = mine(MinerConfig::default(), &["open file a", "close file a"]);
        assert_eq!(ids, [1, 2]);
        // …but first tokens with digits meet under `<*>`.
        let (miner, ids) = mine(
            MinerConfig::default(),
            &["12:00 job done", "13:05 job done"],
        );
        assert_eq!(ids, [1, 1]);
        assert_eq!(text(&miner, 1), "<*>:<*> job done");
        // Without parametrize_numeric (and masking) they have children of their own.
        let config = MinerConfig {
            parametrize_numeric: false,
            mask: false,
            ..MinerConfig::default()
        };
        let (_, ids) = mine(config, &["12:00 job done", "13:05 job done"]);
        assert_eq!(ids, [1, 2]);
        // Depth 3 routes by the token count alone.
        let config = MinerConfig {
            depth: 3,
            ..MinerConfig::default()
        };
        let (_, ids) = mine(config, &["open file a", "close file a"]);
        assert_eq!(ids, [1, 1]);
    }

    #[test]
    fn a_full_node_sends_new_tokens_to_its_wildcard_child() {
        let config = MinerConfig {
            max_children: 3,
            ..MinerConfig::default()
        };
        let lines = ["a x", "b x", "c x", "d x"];
        let (miner, ids) = mine(config, &lines);
        // a and b get children; the third child is `<*>`, shared by c and d.
        assert_eq!(ids, [1, 2, 3, 3]);
        assert_eq!(text(&miner, 3), "<*> x");
    }

    #[test]
    fn ids_stay_with_their_cluster_while_the_template_changes() {
        let mut miner = Miner::new(MinerConfig::default());
        let first = miner.add("job alpha finished ok");
        assert_eq!(text(&miner, first), "job alpha finished ok");
        assert_eq!(miner.add("job beta finished ok"), first);
        assert_eq!(text(&miner, first), "job <*> finished ok");
        assert_eq!(miner.add("job gamma finished late"), first);
        assert_eq!(text(&miner, first), "job <*> finished <*>");
        let examples = &miner
            .template(first)
            .map(|t| t.examples.clone())
            .unwrap_or_default();
        assert_eq!(
            examples,
            &[
                "job alpha finished ok",
                "job beta finished ok",
                "job gamma finished late"
            ]
        );
    }

    #[test]
    fn matching_does_not_learn_and_needs_every_constant_token() {
        let (miner, ids) = mine(
            MinerConfig::default(),
            &["user alice logged in", "user bob logged in"],
        );
        let cases = [
            ("user zed logged in", Some(ids[0])),
            ("user zed logged out", None),
            ("user zed logged", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(miner.matching(line), want, "{line}");
        }
        assert_eq!(miner.len(), 1);
    }

    #[test]
    fn matching_falls_back_to_every_cluster_of_the_same_length() {
        // "x" routes under its own child, but the cluster "<*> y" it matches sits under `<*>`.
        let (mut miner, _) = mine(MinerConfig::default(), &["1 y", "2 y"]);
        miner.add("x z");
        assert_eq!(miner.matching("3 y"), Some(1));
        assert_eq!(miner.matching("x y"), None);
        let (miner, _) = mine(MinerConfig::default(), &["<*> y"]);
        assert_eq!(miner.matching("<*> y"), Some(1));
    }

    #[test]
    fn the_least_recently_used_cluster_goes_past_max_clusters_and_ids_are_never_reused() {
        let config = MinerConfig {
            max_clusters: Some(2),
            ..MinerConfig::default()
        };
        let mut miner = Miner::new(config);
        assert_eq!(miner.add("alpha one"), 1);
        assert_eq!(miner.add("beta two"), 2);
        assert_eq!(miner.add("alpha one"), 1); // beta is now the least recently used
        assert_eq!(miner.add("gamma three"), 3);
        assert!(miner.template(2).is_none());
        assert_eq!(miner.len(), 2);
        assert_eq!(text(&miner, 1), "alpha one");
        assert_eq!(text(&miner, 3), "gamma three");
        // beta comes back under a new id.
        assert_eq!(miner.add("beta two"), 4);
        assert!(miner.template(1).is_none());
        let mut ids: Vec<TemplateId> = miner.templates().map(|t| t.id).collect();
        ids.sort();
        assert_eq!(ids, [3, 4]);
        // Eviction keeps working through many moves of the last slot.
        for i in 0..1000 {
            miner.add(&format!("w{} {}", i % 7, "x".repeat(i % 13)));
        }
        assert_eq!(miner.len(), 2);
        assert!(miner.templates().all(|t| miner.template(t.id) == Some(t)));
    }

    #[test]
    fn an_empty_line_is_its_own_template() {
        let (miner, ids) = mine(MinerConfig::default(), &["", "   ", "a"]);
        assert_eq!(ids, [1, 1, 2]);
        assert_eq!(text(&miner, 1), "");
        assert_eq!(miner.matching("\t"), Some(1));
    }

    #[test]
    fn examples_are_cut_at_500_characters_on_a_character_boundary() {
        let line = "é".repeat(800);
        let (miner, _) = mine(MinerConfig::default(), &[&line]);
        let example = &miner
            .template(1)
            .map(|t| t.examples[0].clone())
            .unwrap_or_default();
        assert_eq!(example.chars().count(), EXAMPLE_CHARS);
        let config = MinerConfig {
            examples_per_template: 0,
            ..MinerConfig::default()
        };
        let (miner, _) = mine(config, &["a", "a"]);
        assert!(miner.template(1).is_some_and(|t| t.examples.is_empty()));
    }
}
