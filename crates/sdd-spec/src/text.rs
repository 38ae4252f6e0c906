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

/// The values in double quotes, in order: `status "pending"` → `["pending"]`.
pub fn quoted_values(text: &str) -> Vec<String> {
    text.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, v)| v.to_string())
        .collect()
}

/// The sentence with quoted values replaced by a placeholder, normalised: the "shape" of a claim.
pub fn shape(text: &str) -> String {
    let mut unquoted = String::new();
    for (i, part) in text.split('"').enumerate() {
        unquoted.push_str(if i % 2 == 1 { " value " } else { part });
    }
    normalise(&unquoted)
}

/// Whether an outcome sentence says the action failed or was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    Success,
    Failure,
    Neutral,
}

pub fn polarity(outcome: &str) -> Polarity {
    let lower = outcome.to_lowercase();
    const FAILURE: &[&str] = &[
        "error",
        "fail",
        "reject",
        "refuse",
        "denied",
        "forbidden",
        "unauthorized",
        "not be created",
        "not be allowed",
        "should not",
        "must not",
        "cannot",
        "can't",
        "invalid",
        "400",
        "401",
        "403",
        "404",
        "409",
        "422",
        "429",
    ];
    const SUCCESS: &[&str] = &[
        "should be created",
        "should exist",
        "succeed",
        "is created",
        "are created",
        "should be returned",
        "should receive the",
        "should see",
        "200",
        "201",
        "is stored",
        "should be stored",
        "accepted",
    ];
    if FAILURE.iter().any(|w| lower.contains(w)) {
        Polarity::Failure
    } else if SUCCESS.iter().any(|w| lower.contains(w)) {
        Polarity::Success
    } else {
        Polarity::Neutral
    }
}

/// The overall outcome of a list of `then` sentences: failure wins if any says failure (but a
/// scenario that says "only one should succeed, the other should receive an error" is mixed).
pub fn overall_polarity(outcomes: &[String]) -> Polarity {
    let polarities: Vec<Polarity> = outcomes.iter().map(|o| polarity(o)).collect();
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
            shape("The task should have status \"pending\""),
            shape("the task should have status \"done\"")
        );
        assert_eq!(quoted_values("title \"a\" and \"b\""), vec!["a", "b"]);
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
