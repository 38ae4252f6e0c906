//! The template miner against a corpus with planted templates (LogPAI's grouping accuracy,
//! pinned at the figures measured when the miner was written) and against hostile input.

use std::collections::HashMap;

use sdd_debugger::drain::{Miner, MinerConfig, TemplateId, MAX_TOKENS, WILDCARD};
use sdd_debugger::log_corpus::{grouping_accuracy, Generator, Planted, Set};

const SEED: u64 = 2017;

fn mine(set: Set, n: usize) -> (Miner, Vec<Planted>, Vec<usize>, Vec<TemplateId>) {
    let mut generator = Generator::new(SEED, set);
    let planted = generator.templates().to_vec();
    let (lines, labels) = generator.lines(n);
    let mut miner = Miner::new(MinerConfig::default());
    let ids = lines.iter().map(|l| miner.add(l)).collect();
    (miner, planted, labels, ids)
}

/// Measured 0.9644 (all templates) and 0.9514 (LogHub-like) on 100 k lines of seed 2017 with
/// the default config. What is lost is what Drain loses on LogHub too: `Disconnecting: Too
/// many authentication failures for admin|root [preauth]` (two events in LogHub's labels, one
/// word apart) and `Failed none|password for invalid user …` are merged.
#[test]
fn grouping_accuracy_holds_on_the_planted_corpus() {
    for (set, floor) in [(Set::All, 0.964), (Set::LogHubLike, 0.950)] {
        let (_, _, labels, ids) = mine(set, 100_000);
        let accuracy = grouping_accuracy(&labels, &ids);
        eprintln!("{set:?}: grouping accuracy {accuracy:.4}");
        assert!(
            accuracy >= floor,
            "{set:?}: grouping accuracy {accuracy:.4} < {floor}"
        );
    }
}

/// A planted template is recovered when the mined template that took most of its lines has its
/// token count, a `<*>` in every variable token, and every constant token without a digit as
/// is (a constant with a digit, such as `uid=0`, may be masked).
#[test]
fn planted_templates_are_recovered_with_their_variable_positions() {
    let (miner, planted, labels, ids) = mine(Set::All, 100_000);
    let mut votes: HashMap<usize, HashMap<TemplateId, usize>> = HashMap::new();
    for (&label, &id) in labels.iter().zip(&ids) {
        *votes.entry(label).or_default().entry(id).or_default() += 1;
    }
    let mut wrong = Vec::new();
    for p in &planted {
        let Some(id) = votes
            .get(&p.index)
            .and_then(|v| v.iter().max_by_key(|(_, n)| **n))
            .map(|(id, _)| *id)
        else {
            wrong.push(format!("{}: no line", p.text));
            continue;
        };
        let mined = miner
            .template(id)
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let tokens: Vec<&str> = mined.split(' ').collect();
        let expected: Vec<&str> = p.text.split(' ').collect();
        let right = tokens.len() == expected.len()
            && tokens
                .iter()
                .zip(&expected)
                .zip(&p.variable)
                .all(|((got, want), &variable)| {
                    if variable {
                        got.contains(WILDCARD)
                    } else {
                        got == want || want.chars().any(|c| c.is_ascii_digit())
                    }
                });
        if !right {
            wrong.push(format!("{} ⇒ {mined}", p.text));
        }
    }
    // Measured: 57 of 61. Only the two twin pairs above are not: `… failures for admin|root
    // [preauth]` and `Failed none|password for invalid user …` each become one template with
    // the differing word as `<*>`.
    assert!(
        wrong.len() <= 4,
        "{} of {} planted templates not recovered:\n{}",
        wrong.len(),
        planted.len(),
        wrong.join("\n")
    );
}

#[test]
fn hostile_lines_neither_panic_nor_grow_without_bound() {
    let mut miner = Miner::new(MinerConfig::default());
    let megabyte = "a".repeat(1 << 20);
    let spaced = "ab ".repeat(400_000);
    let junk: String = (0u32..5000)
        .filter_map(|i| char::from_u32((i * 7919) % 0x11_0000))
        .collect();
    let lines = [
        "",
        " ",
        "\t\r\n",
        megabyte.as_str(),
        spaced.as_str(),
        junk.as_str(),
        "\u{0}\u{1}\u{7f}",
        "ünïcödé 東京 🚀 données=42",
        "<*> <*> <*>",
        "0x 0x0 -- ++ . .. ::: 1.2.3.4.5.6 999.999.999.999:99999",
    ];
    for line in lines {
        let id = miner.add(line);
        let template = miner.template(id).expect("a line's template is kept");
        assert!(template.text.split(' ').count() <= MAX_TOKENS);
        assert!(template.examples.iter().all(|e| e.chars().count() <= 500));
        assert_eq!(miner.matching(line), Some(id), "{:?}", line.get(..40));
    }
    // Lines of only delimiters are the empty template, with the configured delimiters too.
    let mut miner = Miner::new(MinerConfig {
        extra_delimiters: vec![',', ';', '|'],
        ..MinerConfig::default()
    });
    let empty = miner.add("");
    assert_eq!(miner.add(",,;| ,;"), empty);
    assert_eq!(miner.template(empty).map(|t| t.text.as_str()), Some(""));
    // Invalid UTF-8 reaches the miner as replacement characters.
    let lossy = String::from_utf8_lossy(&[0xff, 0xfe, b' ', 0xc3, b'x']);
    let id = miner.add(&lossy);
    assert!(miner.template(id).is_some());
}

#[test]
fn a_stream_of_unique_lines_is_bounded_by_max_clusters() {
    let mut miner = Miner::new(MinerConfig {
        max_clusters: Some(100),
        ..MinerConfig::default()
    });
    for i in 0..20_000u32 {
        // Different token counts and first words: every line a new cluster.
        let line = format!("w{} {}", i, "t ".repeat((i % 50) as usize));
        miner.add(&line.replace(char::is_numeric, "x").replacen(
            'x',
            &format!("{}", char::from(b'a' + (i % 26) as u8)),
            1,
        ));
    }
    assert!(miner.len() <= 100);
}
