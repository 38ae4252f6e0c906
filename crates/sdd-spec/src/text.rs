//! Small text helpers shared by the analyses: normalisation and outcome polarity.

/// Lowercase, drop punctuation (but keep quoted values' words), drop articles, collapse spaces.
pub fn normalise(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for word in lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty() && !matches!(*w, "a" | "an" | "the"))
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A word without its plural `s`, cut to its first `letters` letters: how the analyses match
/// words loosely ("tasks" meets "task", "browsing" meets "browse" at 5, "charged" meets
/// "charge" at 4).
pub fn stem(word: &str, letters: usize) -> String {
    word.trim_end_matches('s').chars().take(letters).collect()
}

/// The values a claim states, in order: those in double quotes, and the numbers written
/// outside them (amounts, counts, statuses): `status "pending"` → `["pending"]`, "the rider is
/// billed £18.40" → `["18.40"]`, "HTTP 201 is returned" → `["201"]`.
pub fn claim_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            values.push(part.to_string());
        } else {
            values.extend(numbers(part).into_iter().map(str::to_string));
        }
    }
    values
}

/// The claim with its values (see [`claim_values`]) replaced by a placeholder, normalised: two
/// claims of one shape with different values contradict each other.
pub fn claim_shape(text: &str) -> String {
    let mut blanked = String::new();
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            blanked.push_str(" value ");
        } else {
            let mut rest = part;
            for number in numbers(part) {
                let at = rest.find(number).unwrap_or(0);
                blanked.push_str(&rest[..at]);
                blanked.push_str(" value ");
                rest = &rest[at + number.len()..];
            }
            blanked.push_str(rest);
        }
    }
    normalise(&blanked)
}

/// Numbers in `text`: digits with the `.` and `,` inside them ("18.40", "1,000").
fn numbers(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
        {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || matches!(bytes[i], b'.' | b',')
                        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
            {
                i += 1;
            }
            // "p99", "2xx", "10ms": a number glued to letters is a unit or a name, kept whole
            // in the shape.
            if !bytes.get(i).is_some_and(|b| b.is_ascii_alphabetic()) {
                out.push(&text[start..i]);
            }
        }
        i += 1;
    }
    out
}

/// Whether an outcome sentence says the action failed or was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    Success,
    Failure,
    Neutral,
}

/// Read an outcome sentence's polarity, negation included.
///
/// A cue says success ("is created", "201", "succeeds") or failure ("error", "rejected",
/// "403"). A negator ("no", "not", "n't", "never", "nothing", "none", "without", "neither",
/// "nor") outside quotes turns the first cue after it in the same clause: "No loan is created"
/// and "the card is not charged" read as refusals, "no error is shown" and "the request does
/// not fail" as successes. A negated cue that only restricts what else happens ("not charged
/// twice", "no other user's tasks are listed") says nothing about the action itself, and
/// neither does a negated observation ("the task is not shown"). An un-negated failure cue
/// wins over success cues, as before: "an error is returned" is a failure.
pub fn polarity(outcome: &str) -> Polarity {
    polarity_after(outcome, None)
}

/// [`polarity`], knowing the action (`when`) the outcome follows: a denied effect counts as a
/// refusal only when its clause names something the action does or acts on ("I apply for a
/// loan" … "no loan is created"), or denies everything ("nothing is stored"). A denied side
/// effect — "no refund is issued" after "I charge the card" — says nothing of the action.
pub fn polarity_after(outcome: &str, action: Option<&str>) -> Polarity {
    // Read only when a denied effect needs it: most outcomes deny nothing.
    let mut context: Option<Option<ActionWords>> = None;
    let mut failure = false;
    let mut success = false;
    let mut refused = false;
    let mut dangling_modal = false;
    let mut lower = outcome.to_lowercase();
    if lower.contains(['\u{2019}', '\u{2018}']) {
        lower = lower.replace(['\u{2019}', '\u{2018}'], "'");
    }
    for clause in clauses(&lower) {
        // A negation reaches every effect after it in its clause ("no charge is made": both
        // `charge` and `made`), but only the first cue's failure: in "the order is not created
        // because the card is declined" the decline is no less a failure.
        let mut pending: Option<Negation> = None;
        // The thing "no" denies: "no ride should be booked" → ride.
        let mut denied: Option<&str> = None;
        let mut reached = false;
        for (i, word) in clause.iter().enumerate() {
            if !word.quoted {
                if let Some(kind) = negator(&clause, i) {
                    pending = Some(kind);
                    denied = (word.text == "no")
                        .then(|| clause.get(i + 1).map(|w| w.text))
                        .flatten();
                    reached = false;
                    continue;
                }
            }
            let Some(cue) = cue(&clause, i) else {
                continue;
            };
            let negation = match cue {
                Cue::Failure if reached => None,
                _ => pending,
            };
            // "Creating a task is not allowed": a gerund with nothing denying it names the
            // action, it does not claim it took effect.
            if cue == Cue::Success && negation.is_none() && word.text.ends_with("ing") {
                continue;
            }
            // What is seen or received ("should not receive an error") does not use up the
            // negation: the error after it is still denied.
            reached |= pending.is_some() && cue != Cue::Observed;
            match (cue, negation) {
                (Cue::Failure, None) => failure = true,
                (Cue::Failure, Some(_)) => success = true,
                (Cue::Success | Cue::Observed, None) => success = true,
                (Cue::Success, Some(Negation::NoLonger)) => success = true,
                (Cue::Success, Some(Negation::Plain | Negation::Predicate))
                    if !restricts_extent(&clause) =>
                {
                    let action = context.get_or_insert_with(|| action.map(ActionWords::of));
                    refused |= match action {
                        None => true,
                        Some(action) => {
                            denies_the_action(word.text, &action.all)
                                || denied
                                    .is_some_and(|thing| action.acted_on.contains(&stem(thing, 4)))
                        }
                    }
                }
                (Cue::Success, Some(Negation::Everything)) if !restricts_extent(&clause) => {
                    refused = true
                }
                _ => {}
            }
        }
        if matches!(
            pending,
            Some(Negation::Plain | Negation::Everything | Negation::Predicate)
        ) && !reached
        {
            dangling_modal |= clause.iter().any(|w| MODALS.contains(&w.text));
        }
    }
    if failure || (refused && !success) {
        Polarity::Failure
    } else if success {
        Polarity::Success
    } else if refused || dangling_modal {
        // "The title must not exceed 255 characters": a rule the action must keep, read as a
        // refusal of what breaks it (as the reader always did).
        Polarity::Failure
    } else {
        Polarity::Neutral
    }
}

/// One word of an outcome, lowercased, and whether it sat inside double quotes.
struct Word<'a> {
    text: &'a str,
    quoted: bool,
}

#[derive(Clone, Copy)]
enum Negation {
    /// "no X": denies that one thing happened, which may be a side effect ("no refund is
    /// issued").
    Plain,
    /// "not", "never", "n't": denies the effect of the thing the clause is about ("the
    /// reservation is not created"), which is the action's own unless the negation only
    /// limits how much happens.
    Predicate,
    /// "nothing", "none", "without": denies every effect, whatever the action.
    Everything,
    /// "no longer", "not anymore": a state that ended, which is what a delete succeeds at.
    NoLonger,
}

#[derive(Clone, Copy, PartialEq)]
enum Cue {
    Failure,
    /// The action took effect: created, stored, charged, …
    Success,
    /// Something was seen or returned: un-negated it is success; negated it restricts what
    /// is shown, not whether the action worked.
    Observed,
}

const MODALS: &[&str] = &["should", "must", "shall", "may", "will", "can"];

/// Words of `lower` (the outcome lowercased, curly apostrophes made straight), split into
/// clauses at punctuation and at the conjunctions that start a new claim, so the "no" of "no
/// order is created and an email is sent" does not reach "sent". Borrowed: the reader runs
/// for every Then of every scenario, several times per analysis.
fn clauses<'a>(lower: &'a str) -> Vec<Vec<Word<'a>>> {
    let mut clauses: Vec<Vec<Word<'a>>> = vec![Vec::new()];
    let mut quoted = false;
    let mut start: Option<usize> = None;
    let flush = |clauses: &mut Vec<Vec<Word<'a>>>, from: usize, to: usize, quoted: bool| {
        let text = lower[from..to].trim_matches('\'');
        if text.is_empty() {
            return;
        }
        if !quoted
            && matches!(
                text,
                "and" | "but" | "while" | "then" | "whereas" | "because" | "since" | "so"
            )
        {
            clauses.push(Vec::new());
        } else {
            clauses
                .last_mut()
                .expect("one clause")
                .push(Word { text, quoted });
        }
    };
    for (at, c) in lower.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == '\'' {
            start.get_or_insert(at);
            continue;
        }
        if let Some(from) = start.take() {
            flush(&mut clauses, from, at, quoted);
        }
        if c == '"' {
            quoted = !quoted;
        } else if !quoted
            && matches!(c, ',' | ';' | ':' | '.' | '(' | ')')
            && !clauses.last().expect("one clause").is_empty()
        {
            clauses.push(Vec::new());
        }
    }
    if let Some(from) = start {
        flush(&mut clauses, from, lower.len(), quoted);
    }
    clauses.retain(|c| !c.is_empty());
    clauses
}

/// Whether word `i` negates what follows it.
fn negator(clause: &[Word], i: usize) -> Option<Negation> {
    let word = clause[i].text;
    let next = clause.get(i + 1).map(|w| w.text);
    match word {
        // "not found" is a failure cue of its own (see `cue`).
        "not" if next == Some("found") => None,
        "no" if next == Some("longer") => Some(Negation::NoLonger),
        "not" | "never" if clause[i + 1..].iter().any(|w| w.text == "anymore") => {
            Some(Negation::NoLonger)
        }
        "nothing" | "none" | "without" => Some(Negation::Everything),
        "not" | "never" => Some(Negation::Predicate),
        "no" | "neither" | "nor" => Some(Negation::Plain),
        "can't" => None,
        w if w.ends_with("n't") => Some(Negation::Predicate),
        _ => None,
    }
}

/// Whether word `i` (with what follows) says the action failed or took effect.
fn cue(clause: &[Word], i: usize) -> Option<Cue> {
    let word = clause[i].text;
    let next = clause.get(i + 1).map(|w| w.text);
    const FAILURE_STEMS: &[&str] = &[
        "error",
        "fail",
        "reject",
        "refus",
        "denied",
        "deny",
        "declin",
        "forbidden",
        "unauthori",
        "unauthenticated",
        "invalid",
        "exception",
        "conflict",
        "unavailable",
        "blocked",
        "prevented",
        "aborted",
        "throttled",
        "insufficient",
        "disallowed",
    ];
    const FAILURE_STATUSES: &[&str] = &[
        "400", "401", "402", "403", "404", "405", "409", "410", "412", "413", "415", "422", "429",
        "500", "502", "503", "504",
    ];
    const OBSERVED_WORDS: &[&str] = &[
        "returned",
        "returns",
        "see",
        "sees",
        "seen",
        "shown",
        "shows",
        "displayed",
        "listed",
        "visible",
        "receive",
        "receives",
        "received",
        "contains",
        "includes",
    ];
    if matches!(word, "cannot" | "can't") || (word == "not" && next == Some("found")) {
        return Some(Cue::Failure);
    }
    // "turned down", "bounces": refusals too.
    if matches!(word, "turned" | "turns" | "turn") && next == Some("down")
        || matches!(word, "bounce" | "bounces" | "bounced")
    {
        return Some(Cue::Failure);
    }
    // "fails over to the replica" is a recovery, not a failure.
    let fails_over = word.starts_with("fail") && next == Some("over");
    if FAILURE_STEMS.iter().any(|s| word.starts_with(s))
        && !word.starts_with("failover")
        && !fails_over
    {
        return Some(Cue::Failure);
    }
    if FAILURE_STATUSES.contains(&word) {
        return Some(Cue::Failure);
    }
    if success_forms().contains(word) {
        return Some(Cue::Success);
    }
    if OBSERVED_WORDS.contains(&word) {
        return Some(Cue::Observed);
    }
    None
}

/// An action's words (see [`content_stems`]): all of them, and those after its actor ("the
/// rider requests a ride" → requests, ride), so "no ride should be booked" is about it and
/// "no refund is issued" is not.
struct ActionWords {
    all: std::collections::HashSet<String>,
    acted_on: std::collections::HashSet<String>,
}

impl ActionWords {
    fn of(action: &str) -> ActionWords {
        let lower = action.to_lowercase();
        let mut words = lower.split_whitespace();
        let first = words.next();
        let rest: Vec<&str> = if matches!(first, Some("the" | "a" | "an")) {
            words.skip(1).collect()
        } else {
            words.collect()
        };
        ActionWords {
            all: content_stems(&lower),
            acted_on: content_stems(&rest.join(" ")),
        }
    }
}

/// Words that carry content, cut to four letters ("charged" and "charge" meet): what a clause
/// and an action are compared by.
fn content_stems(lower: &str) -> std::collections::HashSet<String> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !w.chars().all(|c| c.is_ascii_digit()) && !FILLER.contains(w))
        .map(|w| stem(w, 4))
        .collect()
}

/// Words too common to say what a clause is about.
const FILLER: &[&str] = &[
    "the", "and", "for", "with", "from", "that", "this", "are", "was", "were", "has", "have",
    "had", "been", "being", "should", "must", "shall", "will", "can", "may", "not", "nor", "any",
    "all", "its", "their", "his", "her", "our", "your", "into", "onto", "there", "then", "when",
    "does", "did", "get", "gets", "got", "also", "still", "yet", "user", "users", "system",
    "request", "requests", "response",
];

/// Whether a denied effect (`cue`, "created", "charged", "booked") is the action's own: an
/// effect every making action has (created, saved, recorded, able, allowed), the action's
/// own verb ("books" … "not booked"), or one of a kind with it ("pays" … "not charged").
/// Anything else is a side effect: "the patient is not charged" after booking an appointment.
fn denies_the_action(cue: &str, action: &std::collections::HashSet<String>) -> bool {
    const MAKING: &[&str] = &[
        "crea", "make", "add", "save", "stor", "reco", "pers", "plac", "inse", "gene", "writ",
        "able", "allo", "perm", "succ", "acce", "comp", "proc", "exis", "appl",
    ];
    const KINDS: &[&[&str]] = &[
        &["book", "rese", "sche", "appo"],
        &["pay", "char", "bill", "debi", "paym"],
        &["enro", "regi", "sign", "join"],
        &["orde", "purc", "buy", "chec"],
        &["send", "mail", "emai", "noti", "text"],
        &["uplo", "stor", "save", "impo"],
        &["tran", "move"],
        &["dele", "remo"],
        &["appr", "gran"],
        &["issu", "disp", "pres"],
    ];
    let stem = verb_stem(cue);
    MAKING.contains(&stem.as_str())
        || action.contains(&stem)
        || KINDS
            .iter()
            .any(|kind| kind.contains(&stem.as_str()) && kind.iter().any(|k| action.contains(*k)))
}

/// The four-letter stem of a verb form, irregular forms by their base: "made" → "make".
fn verb_stem(word: &str) -> String {
    let base = match word {
        "sent" => "send",
        "paid" => "pay",
        "made" => "make",
        "written" | "wrote" => "write",
        "taken" => "take",
        w => w,
    };
    stem(base, 4)
}

// Verbs whose every form says the action took effect (create, creates, created, creating).
const SUCCESS_VERBS: &[&str] = &[
    "create",
    "store",
    "save",
    "persist",
    "record",
    "charge",
    "send",
    "add",
    "update",
    "modify",
    "change",
    "delete",
    "remove",
    "accept",
    "allow",
    "permit",
    "succeed",
    "exist",
    "reserve",
    "complete",
    "book",
    "register",
    "grant",
    "transfer",
    "pay",
    "publish",
    "upload",
    "confirm",
    "approve",
    "schedule",
    "enrol",
    "enroll",
    "apply",
    "make",
    "generate",
    "insert",
    "submit",
    "deliver",
    "activate",
    "assign",
    "execute",
    "debit",
    "credit",
    "refund",
    "write",
    "commit",
    "finalize",
    "finalise",
    "ship",
    "import",
    "export",
    "authorize",
    "authorise",
    "authenticate",
    "cancel",
    "archive",
    "dispense",
    "withdraw",
    "amend",
    "share",
    "invite",
    "restore",
    "revoke",
    "rename",
    "verify",
    "ingest",
];
// Forms of other words that say so too; their base forms are nouns too often ("no
// issues", "the process", "an open task").
const SUCCESS_WORDS: &[&str] = &[
    "withdrawn",
    "dispensed",
    "sent",
    "paid",
    "made",
    "written",
    "wrote",
    "placed",
    "issued",
    "processed",
    "opened",
    "taken",
    "started",
    "logged",
    "able",
    "success",
    "successful",
    "successfully",
    "200",
    "201",
    "202",
    "204",
];

/// Every form of the success verbs, and the other success words: built once, since the cue
/// reader looks every word of every outcome up in it.
fn success_forms() -> &'static std::collections::HashSet<String> {
    static FORMS: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    FORMS.get_or_init(|| {
        let mut forms: std::collections::HashSet<String> =
            SUCCESS_WORDS.iter().map(|w| w.to_string()).collect();
        for base in SUCCESS_VERBS {
            let stem = base.trim_end_matches(['e', 'y']);
            let last = base.chars().last().unwrap_or(' ');
            let candidates = [
                base.to_string(),
                format!("{base}s"),
                format!("{base}es"),
                format!("{base}d"),
                format!("{base}ed"),
                format!("{base}ing"),
                format!("{stem}ing"),
                format!("{stem}ies"),
                format!("{stem}ied"),
                format!("{stem}ying"),
                format!("{base}{last}ed"),
                format!("{base}{last}ing"),
            ];
            forms.extend(candidates.into_iter().filter(|c| inflects(c, base)));
        }
        forms
    })
}

/// Whether `word` is a form of the verb `base`: base, -s/-es, -d/-ed (with `y` → `ied` and a
/// doubled last consonant), -ing (with a dropped `e`).
fn inflects(word: &str, base: &str) -> bool {
    // Called for every word against every verb: no allocation.
    let stem = base.trim_end_matches(['e', 'y']);
    let Some(rest) = word.strip_prefix(stem) else {
        return false;
    };
    let cut = &base[stem.len()..];
    let rest = if cut.is_empty() {
        let last = base.as_bytes().last().copied().unwrap_or(b' ');
        match rest.as_bytes() {
            [doubled, next, ..] if *doubled == last && matches!(next, b'e' | b'i') => &rest[1..],
            _ => rest,
        }
    } else {
        rest
    };
    match cut {
        "" => matches!(rest, "" | "s" | "es" | "ed" | "ing"),
        "e" => matches!(rest, "e" | "es" | "ed" | "ing"),
        "y" => matches!(rest, "y" | "ys" | "ies" | "ied" | "ying"),
        // "ee", "ey": only the plain forms.
        _ => {
            rest == cut
                || rest.len() == cut.len() + 1
                    && rest.starts_with(cut)
                    && (rest.ends_with('s') || rest.ends_with('d'))
        }
    }
}

/// "not charged twice", "no other user's tasks", "only one order": the negation limits how
/// much happens, not whether it does.
fn restricts_extent(clause: &[Word]) -> bool {
    clause.iter().any(|w| {
        matches!(
            w.text,
            "double"
                | "overbooked"
                | "twice"
                | "again"
                | "second"
                | "duplicate"
                | "duplicated"
                | "more"
                | "extra"
                | "other"
                | "another"
                | "else"
                | "else's"
                | "only"
                | "yet"
                | "until"
                | "before"
                | "partial"
                | "partially"
                | "half"
        )
    })
}

/// The overall outcome of a list of `then` sentences: failure wins if any says failure (but a
/// scenario that says "only one should succeed, the other should receive an error" is mixed).
pub fn overall_polarity(outcomes: &[String]) -> Polarity {
    overall_polarity_after(outcomes, None)
}

/// [`overall_polarity`] of outcomes that follow `action` (see [`polarity_after`]).
pub fn overall_polarity_after(outcomes: &[String], action: Option<&str>) -> Polarity {
    let polarities: Vec<Polarity> = outcomes.iter().map(|o| polarity_after(o, action)).collect();
    let fail = polarities.contains(&Polarity::Failure);
    let success = polarities.contains(&Polarity::Success);
    match (success, fail) {
        (true, false) => Polarity::Success,
        (false, true) => Polarity::Failure,
        _ => Polarity::Neutral,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_shapes() {
        assert_eq!(
            normalise("The task should have status \"Pending\"."),
            "task should have status pending"
        );
        assert_eq!(
            claim_shape("The task should have status \"pending\""),
            claim_shape("the task should have status \"done\"")
        );
        assert_eq!(claim_values("title \"a\" and \"b\""), vec!["a", "b"]);
        assert_eq!(claim_values("The rider is billed £18.40"), vec!["18.40"]);
        assert_eq!(
            claim_shape("The rider is billed £18.40"),
            claim_shape("The rider is billed £20.00")
        );
        assert_eq!(
            claim_values("HTTP 201 is returned within 10ms"),
            vec!["201"]
        );
        assert_eq!(claim_values("p99 of 2xx"), Vec::<String>::new());
    }

    /// The polarity reader, negation included: each row is an outcome and what it says of the
    /// action.
    #[test]
    fn polarity_reads_negation() {
        use Polarity::{Failure, Neutral, Success};
        let table: &[(&str, Polarity)] = &[
            // Negated effects are refusals.
            ("No loan is created", Failure),
            ("The loan is not created", Failure),
            ("The loan isn't created", Failure),
            ("Nothing is stored", Failure),
            ("The customer is not charged", Failure),
            ("The card is never charged", Failure),
            (
                "The application is rejected without creating a loan",
                Failure,
            ),
            ("None of the items are reserved", Failure),
            ("The user should not be able to delete the task", Failure),
            ("Deleting it is not allowed", Failure),
            ("The task should not be created", Failure),
            ("The title must not exceed 255 characters", Failure),
            // Negated failures are successes.
            ("No error is shown", Success),
            ("The request does not fail", Success),
            ("The import should not fail and the file is stored", Success),
            ("The payment is processed without errors", Success),
            // Plain cues, as before.
            ("A loan is created", Success),
            ("The task should be created", Success),
            ("Response status 201", Success),
            (
                "I should receive an error \"Title too long (max 255)\"",
                Failure,
            ),
            ("An error is returned", Failure),
            ("I should receive a 404", Failure),
            ("The API responds 429 Too Many Requests", Failure),
            ("Task not found", Failure),
            ("I cannot complete the task", Failure),
            ("The order is confirmed", Success),
            ("The task should no longer exist", Success),
            // Negation that limits extent or what is seen says nothing about the action.
            ("The customer is not charged twice", Neutral),
            ("No other user's tasks are listed", Neutral),
            ("The task is not shown", Neutral),
            ("The deleted task is not shown", Success),
            ("The task list shows 3 tasks", Success),
            // Quoted words do not negate; clauses end at "and", "but" and punctuation.
            ("I should see the message \"No tasks yet\"", Success),
            ("No order is created and a rejection email is sent", Failure),
            ("No charge is made, and the order is created", Success),
            ("The order is created but no email is sent", Success),
            ("It should have status \"pending\"", Neutral),
            ("The database fails over to the replica", Neutral),
            (
                "The payment fails over to the backup provider and succeeds",
                Success,
            ),
            ("The booking is turned down", Failure),
            ("None of the requests is turned down", Success),
            ("The request bounces", Failure),
            ("The system failover completes", Success),
            // Other wordings of the same: verbs in every form, negations that reach on.
            ("No booking should be made", Failure),
            ("The system does not create a loan", Failure),
            ("No charge is made", Failure),
            ("No audit record is written", Failure),
            ("Nothing is written to the log", Failure),
            ("The transfer is blocked", Failure),
            ("The account is debited", Success),
            ("The system creates the loan", Success),
            (
                "The order is not created because the card is declined",
                Failure,
            ),
            ("I should not receive an error", Success),
            ("There are no issues", Neutral),
            ("The refund is applied", Success),
            (
                "The amount is applied to the balance, so no refund is issued",
                Success,
            ),
        ];
        let wrong: Vec<String> = table
            .iter()
            .filter(|(text, want)| polarity(text) != *want)
            .map(|(text, want)| format!("{text:?}: want {want:?}, got {:?}", polarity(text)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// A denied effect is a refusal when it is the action's own; a denied side effect says
    /// nothing about the action.
    #[test]
    fn a_denied_side_effect_is_not_a_refusal() {
        use Polarity::{Failure, Neutral, Success};
        let table: &[(&str, &str, Polarity)] = &[
            ("I apply for a loan", "No loan is created", Failure),
            ("I book a room", "No booking is made", Failure),
            (
                "The customer pays with an expired card",
                "The customer is not charged",
                Failure,
            ),
            ("I upload an empty file", "Nothing is stored", Failure),
            (
                "The guest books room 101",
                "The reservation is not created",
                Failure,
            ),
            (
                "Guest A cancels another user's reservation",
                "The reservation is cancelled",
                Success,
            ),
            ("I charge the card 300 EUR", "No refund is issued", Neutral),
            (
                "Alice moves 50 EUR between her accounts",
                "No overdraft fee is charged",
                Neutral,
            ),
            ("I update my profile", "No email is sent", Neutral),
            (
                "Mrs Patel books an appointment",
                "The appointment is not booked",
                Failure,
            ),
            (
                "Mrs Patel books an appointment",
                "The patient is not charged",
                Neutral,
            ),
            (
                "Mrs Patel books the slot with Dr Okafor",
                "Dr Okafor is not double-booked",
                Neutral,
            ),
            (
                "The student enrols on CS204",
                "The student is not charged a late fee",
                Neutral,
            ),
            (
                "The rider requests a ride",
                "The rider is not logged out",
                Neutral,
            ),
            (
                "The pharmacy requests a repeat prescription",
                "Nothing is dispensed",
                Failure,
            ),
            (
                "The rider requests a ride to King's Cross",
                "No ride should be booked",
                Failure,
            ),
            ("The rider requests a ride", "No reminder is sent", Neutral),
            (
                "The student withdraws another student's enrolment",
                "The enrolment is withdrawn",
                Success,
            ),
            (
                "I charge the card 300 EUR",
                "The card is charged 300 EUR",
                Success,
            ),
        ];
        for (when, then, want) in table {
            assert_eq!(polarity_after(then, Some(when)), *want, "{when} / {then}");
        }
        // Without the action, a denied effect is read as a refusal, as before.
        assert_eq!(polarity("No refund is issued"), Failure);
    }

    #[test]
    fn verb_forms() {
        for (word, base) in [
            ("create", "create"),
            ("creates", "create"),
            ("created", "create"),
            ("creating", "create"),
            ("submitted", "submit"),
            ("submitting", "submit"),
            ("applied", "apply"),
            ("applies", "apply"),
            ("paying", "pay"),
            ("pays", "pay"),
            ("booked", "book"),
            ("transferred", "transfer"),
        ] {
            assert!(inflects(word, base), "{word} of {base}");
        }
        for (word, base) in [
            ("creator", "create"),
            ("booking", "boo"),
            ("adds", "address"),
        ] {
            assert!(!inflects(word, base), "{word} of {base}");
        }
    }

    #[test]
    fn polarity_of_outcomes() {
        assert_eq!(
            polarity("I should receive an error \"Title too long (max 255)\""),
            Polarity::Failure
        );
        assert_eq!(
            polarity("A task should be created with that exact title"),
            Polarity::Success
        );
        assert_eq!(
            overall_polarity(&[
                "Only one completion should succeed".into(),
                "The other should receive an error".into()
            ]),
            Polarity::Neutral
        );
    }
}
