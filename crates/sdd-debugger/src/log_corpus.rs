//! A generated log corpus with planted templates, for the miner's accuracy tests and benchmark.
//!
//! Each line is drawn from a table of templates that look like real service logs — HDFS and
//! OpenSSH content modelled on the LogHub benchmarks (with their labelling quirks: LogHub calls
//! `... failures for admin [preauth]` and `... for root [preauth]` two events), BGL-style kernel
//! lines and a web service's lines — and is tagged with its true template. A seeded LCG makes
//! the corpus the same on every machine, so accuracy figures can be pinned.
//!
//! Placeholders in a pattern (`{ip}`, `{blk}`, `{user}`, …) become values; in the true template
//! text each becomes `<*>`, and a token with a placeholder is a variable position.

/// Which templates a corpus draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// Every template: HDFS, OpenSSH, BGL-style and service lines.
    All,
    /// Only the templates modelled on LogHub's HDFS and OpenSSH sets (a public-benchmark-like
    /// set for choosing the similarity threshold).
    LogHubLike,
}

/// A planted template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// Index in [`templates`]'s answer: the label of its lines.
    pub index: usize,
    pub group: &'static str,
    pub pattern: &'static str,
    /// The pattern with each placeholder as `<*>`.
    pub text: String,
    /// Per token of the pattern: whether it holds a placeholder.
    pub variable: Vec<bool>,
    /// Relative frequency.
    pub weight: u32,
}

/// (group, weight, pattern).
const TABLE: &[(&str, u32, &str)] = &[
    // HDFS, modelled on LogHub's HDFS templates.
    ("hdfs", 300, "{ip}:{port} Served block blk_{blk} to /{ip}"),
    ("hdfs", 40, "{ip}:{port} Starting thread to transfer block blk_{blk} to {ip}:{port}"),
    ("hdfs", 30, "{ip}:{port}:Got exception while serving blk_{blk} to /{ip}:"),
    ("hdfs", 60, "BLOCK* ask {ip}:{port} to delete blk_{blk}"),
    ("hdfs", 20, "BLOCK* ask {ip}:{port} to replicate blk_{blk} to datanode(s) {ip}:{port}"),
    ("hdfs", 400, "BLOCK* NameSystem.addStoredBlock: blockMap updated: {ip}:{port} is added to blk_{blk} size {size}"),
    ("hdfs", 120, "BLOCK* NameSystem.allocateBlock: /user/root/{job}/part-{part}. blk_{blk}"),
    ("hdfs", 150, "BLOCK* NameSystem.delete: blk_{blk} is added to invalidSet of {ip}:{port}"),
    ("hdfs", 150, "Deleting block blk_{blk} file /mnt/hadoop/dfs/data/current/subdir{num}/blk_{blk}"),
    ("hdfs", 350, "PacketResponder {small} for block blk_{blk} terminating"),
    ("hdfs", 250, "Received block blk_{blk} of size {size} from /{ip}"),
    ("hdfs", 300, "Received block blk_{blk} src: /{ip}:{port} dest: /{ip}:{port} of size {size}"),
    ("hdfs", 300, "Receiving block blk_{blk} src: /{ip}:{port} dest: /{ip}:{port}"),
    ("hdfs", 50, "Verification succeeded for blk_{blk}"),
    // OpenSSH, modelled on LogHub's OpenSSH templates.
    ("ssh", 60, "Accepted password for {user} from {ip} port {port} ssh2"),
    ("ssh", 200, "Connection closed by {ip} [preauth]"),
    ("ssh", 40, "Did not receive identification string from {ip}"),
    ("ssh", 15, "Disconnecting: Too many authentication failures for admin [preauth]"),
    ("ssh", 40, "Disconnecting: Too many authentication failures for root [preauth]"),
    ("ssh", 10, "error: Received disconnect from {ip}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]"),
    ("ssh", 30, "error: Received disconnect from {ip}: 13: No more user authentication methods available. [preauth]"),
    ("ssh", 20, "Failed none for invalid user {user} from {ip} port {port} ssh2"),
    ("ssh", 350, "Failed password for {user} from {ip} port {port} ssh2"),
    ("ssh", 150, "Failed password for invalid user {user} from {ip} port {port} ssh2"),
    ("ssh", 10, "fatal: Write failed: Connection reset by peer [preauth]"),
    ("ssh", 120, "input_userauth_request: invalid user {user} [preauth]"),
    ("ssh", 120, "Invalid user {user} from {ip}"),
    ("ssh", 30, "message repeated {small} times: [ Failed password for root from {ip} port {port}]"),
    ("ssh", 200, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}"),
    ("ssh", 150, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} user={user}"),
    ("ssh", 120, "pam_unix(sshd:auth): check pass; user unknown"),
    ("ssh", 40, "pam_unix(sshd:session): session closed for user {user}"),
    ("ssh", 40, "pam_unix(sshd:session): session opened for user {user} by (uid={small})"),
    ("ssh", 200, "Received disconnect from {ip}: 11: Bye Bye [preauth]"),
    ("ssh", 20, "Received disconnect from {ip}: 11: Closed due to user request. [preauth]"),
    ("ssh", 100, "reverse mapping checking getaddrinfo for {host} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!"),
    ("ssh", 60, "PAM {small} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}"),
    // BGL-style kernel lines.
    ("bgl", 200, "instruction cache parity error corrected"),
    ("bgl", 60, "generating core.{num}"),
    ("bgl", 80, "CE sym {small}, at {hex}, mask {hex}"),
    ("bgl", 40, "ciod: failed to read message prefix on control stream (CioStream socket to {ip}:{port}"),
    ("bgl", 30, "data TLB error interrupt"),
    ("bgl", 25, "kernel: Out of memory: Killed process {num} ({proc}) total-vm:{num}kB, anon-rss:{num}kB"),
    // A web service.
    ("service", 500, "request completed method=GET path=/api/v1/tasks/{num} status=200 duration_ms={num}"),
    ("service", 120, "user {user} logged in from {ip} session={uuid}"),
    ("service", 100, "user {user} logged out after {dur}"),
    ("service", 150, "cache miss for key {key} in region {region}"),
    ("service", 40, "db query took {dur} rows={num} table={table}"),
    ("service", 15, "db connection pool exhausted: active={small} idle=0 waiting={small}"),
    ("service", 30, "Slow query detected on table {table}: {dur}"),
    ("service", 60, "Retrying request to {url} attempt {small} of 5"),
    ("service", 25, "upstream {host} returned 503 Service Unavailable"),
    ("service", 10, "Circuit breaker for {svc} opened after {small} consecutive failures"),
    ("service", 80, "Worker {worker} picked up task {uuid}"),
    ("service", 12, "TLS handshake failed with {ip}:{port}: certificate expired"),
    ("service", 20, "Disk usage on {mount} is {small}% (threshold 90%)"),
    ("service", 40, "Payment {txn} authorized amount={amount} currency={currency}"),
    ("service", 8, "Payment {txn} declined: insufficient funds"),
    ("service", 70, "Kafka consumer {group} lag {num} on partition {small}"),
    ("service", 90, "health check ok"),
    ("service", 5, "config reloaded from {path}"),
];

/// The planted templates of a set, labelled by their index.
pub fn templates(set: Set) -> Vec<Planted> {
    TABLE
        .iter()
        .filter(|(group, _, _)| set == Set::All || matches!(*group, "hdfs" | "ssh"))
        .enumerate()
        .map(|(index, &(group, weight, pattern))| Planted {
            index,
            group,
            pattern,
            text: pattern
                .split(' ')
                .map(placeholders_as_wildcards)
                .collect::<Vec<_>>()
                .join(" "),
            variable: pattern.split(' ').map(|t| t.contains('{')).collect(),
            weight,
        })
        .collect()
}

fn placeholders_as_wildcards(token: &str) -> String {
    let mut out = String::new();
    let mut rest = token;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push_str("<*>");
        rest = match rest[open..].find('}') {
            Some(close) => &rest[open + close + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// A seeded stream of labelled lines.
#[derive(Debug, Clone)]
pub struct Generator {
    state: u64,
    templates: Vec<Planted>,
    /// Running sums of the weights, for drawing a template.
    cumulative: Vec<u64>,
}

impl Generator {
    pub fn new(seed: u64, set: Set) -> Generator {
        let templates = templates(set);
        let mut sum = 0;
        let cumulative = templates
            .iter()
            .map(|t| {
                sum += u64::from(t.weight);
                sum
            })
            .collect();
        Generator {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
            templates,
            cumulative,
        }
    }

    pub fn templates(&self) -> &[Planted] {
        &self.templates
    }

    /// Knuth's MMIX LCG; the high bits are the good ones.
    fn next(&mut self) -> u64 {
        self.state = self
            .state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.state >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }

    /// Writes one line into `out` (cleared first) and returns its template's index.
    pub fn line(&mut self, out: &mut String) -> usize {
        out.clear();
        let total = self.cumulative.last().copied().unwrap_or(1);
        let draw = self.below(total);
        let index = self.cumulative.partition_point(|&c| c <= draw);
        let pattern = self.templates[index].pattern;
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let name = &rest[open + 1..close];
            self.value(name, out);
            rest = rest.get(close + 1..).unwrap_or("");
        }
        out.push_str(rest);
        index
    }

    /// `n` labelled lines.
    pub fn lines(&mut self, n: usize) -> (Vec<String>, Vec<usize>) {
        let mut lines = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        let mut line = String::new();
        for _ in 0..n {
            labels.push(self.line(&mut line));
            lines.push(line.clone());
        }
        (lines, labels)
    }

    fn value(&mut self, name: &str, out: &mut String) {
        use std::fmt::Write;
        const USERS: &[&str] = &[
            "root", "admin", "test", "oracle", "guest", "ubuntu", "postgres", "git", "user", "ftp",
            "support", "pi", "alice", "bob", "carol", "dave", "nagios", "mysql", "www", "deploy",
        ];
        const TABLES: &[&str] = &[
            "tasks",
            "users",
            "orders",
            "payments",
            "sessions",
            "audit_log",
        ];
        const REGIONS: &[&str] = &["eu-west", "us-east", "ap-south", "local"];
        const HOSTS: &[&str] = &[
            "api.internal",
            "db-primary.internal",
            "cache.internal",
            "auth.example.com",
            "static.example.net",
            "host.ru",
            "unknown.provider.cn",
        ];
        const SERVICES: &[&str] = &[
            "payments",
            "inventory",
            "search",
            "notifications",
            "billing",
        ];
        const PROCS: &[&str] = &["java", "python3", "postgres", "node", "ciod"];
        const MOUNTS: &[&str] = &["/", "/var", "/data", "/mnt/logs", "/tmp"];
        const CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "JPY"];
        const WORKERS: &[&str] = &["worker-a", "worker-b", "worker-c", "reaper", "indexer"];
        let r = self.next();
        // Writing to a String cannot fail.
        let _ = match name {
            "ip" => write!(
                out,
                "10.{}.{}.{}",
                r % 4,
                (r >> 8) % 256,
                (r >> 16) % 254 + 1
            ),
            "port" => write!(out, "{}", 1024 + r % 60_000),
            "blk" => {
                let sign = if r & 1 == 0 { "-" } else { "" };
                write!(
                    out,
                    "{sign}{}",
                    (r << 20 | self.next()) % 9_000_000_000_000_000_000
                )
            }
            "size" => write!(out, "{}", r % 67_108_864),
            "num" => write!(out, "{}", r % 100_000),
            "small" => write!(out, "{}", r % 10),
            "part" => write!(out, "{:05}", r % 1000),
            "job" => write!(
                out,
                "rand{}/_temporary/_task_200811092030_0001_m_{:06}_0",
                r % 10,
                r % 1000
            ),
            "user" => write!(out, "{}", self.pick(USERS)),
            "host" => write!(out, "{}", self.pick(HOSTS)),
            "hex" => write!(out, "0x{:08x}", r),
            "uuid" => {
                let s = self.next();
                write!(
                    out,
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    r & 0xffff_ffff,
                    s & 0xffff,
                    (s >> 16) % 0x1000,
                    r % 0x1000,
                    (r << 16 ^ s) & 0xffff_ffff_ffff
                )
            }
            "dur" => write!(out, "{}ms", r % 5000),
            "key" => write!(out, "task:{}", r % 100_000),
            "region" => write!(out, "{}", self.pick(REGIONS)),
            "table" => write!(out, "{}", self.pick(TABLES)),
            "url" => write!(out, "http://{}/v1/items/{}", self.pick(HOSTS), r % 1000),
            "svc" => write!(out, "{}", self.pick(SERVICES)),
            "proc" => write!(out, "{}", self.pick(PROCS)),
            "worker" => write!(out, "{}", self.pick(WORKERS)),
            "mount" => write!(out, "{}", self.pick(MOUNTS)),
            "txn" => write!(out, "txn_{:x}", r),
            "amount" => write!(out, "{}.{:02}", r % 1000, (r >> 10) % 100),
            "currency" => write!(out, "{}", self.pick(CURRENCIES)),
            "group" => write!(out, "{}-consumers", self.pick(SERVICES)),
            "path" => write!(out, "/etc/app/{}.yaml", self.pick(SERVICES)),
            other => write!(out, "{other}"),
        };
    }
}

/// LogPAI's grouping accuracy: the share of lines whose predicted group holds exactly the
/// lines of their true template. `truth` and `predicted` are per line, the same length.
pub fn grouping_accuracy<T: Copy + Eq + std::hash::Hash, P: Copy + Eq + std::hash::Hash>(
    truth: &[T],
    predicted: &[P],
) -> f64 {
    use std::collections::HashMap;
    if truth.is_empty() {
        return 1.0;
    }
    let mut truth_size: HashMap<T, usize> = HashMap::new();
    for &t in truth {
        *truth_size.entry(t).or_default() += 1;
    }
    // Per predicted group: its size and its one true label (None once it holds two).
    let mut groups: HashMap<P, (usize, Option<T>, bool)> = HashMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        let g = groups.entry(p).or_insert((0, Some(t), true));
        g.0 += 1;
        if g.1 != Some(t) {
            g.2 = false;
        }
    }
    let correct: usize = groups
        .values()
        .filter(|(size, label, pure)| {
            *pure && label.is_some_and(|l| truth_size.get(&l) == Some(size))
        })
        .map(|(size, _, _)| size)
        .sum();
    correct as f64 / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_lines_and_every_template_is_drawn() {
        let (a, la) = Generator::new(7, Set::All).lines(50_000);
        let (b, lb) = Generator::new(7, Set::All).lines(50_000);
        assert_eq!((a, la.clone()), (b, lb));
        let n = templates(Set::All).len();
        assert!((30..=70).contains(&n), "{n} templates");
        for i in 0..n {
            assert!(la.contains(&i), "template {i} never drawn");
        }
    }

    #[test]
    fn true_templates_replace_each_placeholder_with_a_wildcard() {
        let t = &templates(Set::LogHubLike)[0];
        assert_eq!(t.text, "<*>:<*> Served block blk_<*> to /<*>");
        assert_eq!(t.variable, vec![true, false, false, true, false, true]);
    }

    #[test]
    fn grouping_accuracy_counts_only_groups_equal_to_a_true_template() {
        let cases: &[(&[u8], &[u8], f64)] = &[
            (&[0, 0, 1, 1], &[5, 5, 6, 6], 1.0),
            // Two true templates merged: neither group is right.
            (&[0, 0, 1, 1], &[5, 5, 5, 5], 0.0),
            // One template split: its lines are wrong, the other's right.
            (&[0, 0, 1, 1], &[5, 7, 6, 6], 0.5),
            (&[], &[], 1.0),
        ];
        for &(truth, predicted, want) in cases {
            assert_eq!(
                grouping_accuracy(truth, predicted),
                want,
                "{truth:?} {predicted:?}"
            );
        }
    }
}
