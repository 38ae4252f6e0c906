//! The domain dependency graph: unknown references, cycles (printed as paths) and a build order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Location};
use crate::model::{Domain, Spec};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DependencyGraph {
    /// Declared domains, sorted.
    pub domains: Vec<String>,
    /// `from` depends on `to`.
    pub edges: Vec<Edge>,
    /// References to domains nobody declares (dependencies and interaction participants).
    pub unknown_references: Vec<UnknownReference>,
    /// Each cycle as a path that starts and ends at the same domain.
    pub cycles: Vec<Vec<String>>,
    /// Build stages: every domain's known dependencies are in an earlier stage, except within a
    /// cycle, whose members share one stage and must be built together.
    pub build_order: Vec<Vec<String>>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnknownReference {
    /// The domain or interaction that refers to it.
    pub from: String,
    pub missing: String,
    /// `file:line:column` of the reference: the dependency's entry, or the interaction.
    pub at: String,
}

pub fn dependency_graph(spec: &Spec) -> DependencyGraph {
    let declared: BTreeSet<&str> = spec.domains.iter().map(|d| d.name.as_str()).collect();
    let mut edges = Vec::new();
    let mut unknown = Vec::new();
    let mut diagnostics = Vec::new();
    for domain in &spec.domains {
        for (i, dep) in domain.dependencies.iter().enumerate() {
            let at = dependency_at(domain, i);
            if declared.contains(dep.as_str()) {
                edges.push(Edge {
                    from: domain.name.clone(),
                    to: dep.clone(),
                });
            } else {
                unknown.push(UnknownReference {
                    from: domain.name.clone(),
                    missing: dep.clone(),
                    at: at.to_string(),
                });
                diagnostics.push(
                    Diagnostic::warning(
                        "unknown-domain",
                        format!("domain `{}` depends on `{dep}`, which no spec file declares", domain.name),
                    )
                    .at(&at)
                    .with_help(format!("add `{dep}` to the system file's `domains:` or write a `domain: {dep}` file; until then it is treated as external")),
                );
            }
        }
    }
    for interaction in &spec.interactions {
        for participant in &interaction.participants {
            if !declared.contains(participant.as_str()) {
                unknown.push(UnknownReference {
                    from: interaction.name.clone(),
                    missing: participant.clone(),
                    at: interaction.location.to_string(),
                });
                diagnostics.push(
                    Diagnostic::warning(
                        "unknown-participant",
                        format!("interaction `{}` names participant `{participant}`, which no spec file declares", interaction.name),
                    )
                    .at(&interaction.location)
                    .with_help(format!("declare `{participant}` as a domain, or check the spelling")),
                );
            }
        }
    }
    edges.sort();
    edges.dedup();

    let names: Vec<String> = declared.iter().map(|s| s.to_string()).collect();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut adjacency = vec![Vec::new(); names.len()];
    for edge in &edges {
        adjacency[index[edge.from.as_str()]].push(index[edge.to.as_str()]);
    }
    let components = strongly_connected(&adjacency);
    let mut cycles = Vec::new();
    for component in &components {
        let is_cycle = component.len() > 1 || adjacency[component[0]].contains(&component[0]);
        if is_cycle {
            let path: Vec<String> = cycle_path(&adjacency, component)
                .into_iter()
                .map(|i| names[i].clone())
                .collect();
            // Reported at the edge that closes the cycle; the help names where the others are.
            let edges_at: Vec<Location> = path
                .windows(2)
                .map(|pair| edge_at(spec, &pair[0], &pair[1]))
                .collect();
            let closing = edges_at.last().cloned().unwrap_or_default();
            let others: Vec<String> = path
                .windows(2)
                .zip(&edges_at)
                .take(edges_at.len().saturating_sub(1))
                .map(|(pair, at)| format!("{} → {} at {at}", pair[0], pair[1]))
                .collect();
            let mut help = String::from("these domains must be built and released together; break the cycle by moving the shared part into its own domain, or remove one of its dependencies");
            if !others.is_empty() {
                help.push_str(&format!(
                    " (the cycle's other edges: {})",
                    others.join(", ")
                ));
            }
            let n = path.len();
            diagnostics.push(
                Diagnostic::warning(
                    "dependency-cycle",
                    format!(
                        "dependency cycle: {} (closed here by `{}` depending on `{}`)",
                        path.join(" → "),
                        path[n - 2],
                        path[n - 1]
                    ),
                )
                .at(&closing)
                .with_help(help),
            );
            cycles.push(path);
        }
    }

    // Stage of a component: 1 + max stage of the components it depends on. Tarjan emits
    // components in reverse topological order (dependencies first), so one pass suffices.
    let mut component_of = vec![0; names.len()];
    for (c, members) in components.iter().enumerate() {
        for &m in members {
            component_of[m] = c;
        }
    }
    let mut stage_of = vec![0usize; components.len()];
    for (c, members) in components.iter().enumerate() {
        let mut stage = 0;
        for &m in members {
            for &dep in &adjacency[m] {
                let dc = component_of[dep];
                if dc != c {
                    stage = stage.max(stage_of[dc] + 1);
                }
            }
        }
        stage_of[c] = stage;
    }
    let mut stages: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (c, members) in components.iter().enumerate() {
        stages
            .entry(stage_of[c])
            .or_default()
            .extend(members.iter().map(|&m| names[m].clone()));
    }
    let build_order = stages
        .into_values()
        .map(|mut v| {
            v.sort();
            v
        })
        .collect();

    DependencyGraph {
        domains: names,
        edges,
        unknown_references: unknown,
        cycles,
        build_order,
        diagnostics,
    }
}

/// Where `domain`'s `i`th dependency is written; where the domain is declared if unknown.
fn dependency_at(domain: &Domain, i: usize) -> Location {
    domain
        .dependencies_at
        .get(i)
        .or_else(|| domain.declared_at.first())
        .cloned()
        .unwrap_or_default()
}

/// Where the dependency `from` → `to` is written.
fn edge_at(spec: &Spec, from: &str, to: &str) -> Location {
    spec.domain(from)
        .map(|d| {
            let i = d
                .dependencies
                .iter()
                .position(|x| x == to)
                .unwrap_or(usize::MAX);
            dependency_at(d, i)
        })
        .unwrap_or_default()
}

/// Tarjan's algorithm, iterative. Components come out dependencies-first.
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adjacency.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            if *next == 0 && index[v] == usize::MAX {
                index[v] = counter;
                low[v] = counter;
                counter += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if *next < adjacency[v].len() {
                let w = adjacency[v][*next];
                *next += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort();
                components.push(component);
            }
        }
    }
    components
}

/// A concrete cycle through the smallest member of a strongly connected component.
fn cycle_path(adjacency: &[Vec<usize>], component: &[usize]) -> Vec<usize> {
    let members: BTreeSet<usize> = component.iter().copied().collect();
    let start = component[0];
    // BFS from start's successors back to start, staying inside the component.
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    for &w in &adjacency[start] {
        if members.contains(&w) && !previous.contains_key(&w) {
            previous.insert(w, start);
            queue.push_back(w);
        }
    }
    while let Some(v) = queue.pop_front() {
        if v == start {
            break;
        }
        for &w in &adjacency[v] {
            if members.contains(&w) && !previous.contains_key(&w) {
                previous.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut path = vec![start];
    let mut current = previous.get(&start).copied().unwrap_or(start);
    while current != start {
        path.push(current);
        current = previous[&current];
    }
    path.push(start);
    let last = path.len() - 1;
    path[1..last].reverse();
    path
}

/// Domains that depend on any of `touched`, directly or transitively (excluding `touched`).
pub fn dependents(spec: &Spec, touched: &BTreeSet<String>) -> BTreeSet<String> {
    let mut result = BTreeSet::new();
    let mut frontier: Vec<String> = touched.iter().cloned().collect();
    while let Some(current) = frontier.pop() {
        for domain in &spec.domains {
            if domain.dependencies.contains(&current)
                && !touched.contains(&domain.name)
                && result.insert(domain.name.clone())
            {
                frontier.push(domain.name.clone());
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    fn spec(system: &str) -> Spec {
        load_sources(&[("s.yaml".into(), system.into())]).spec
    }

    #[test]
    fn cycles_are_printed_and_build_order_respects_dependencies() {
        let s = spec(
            "system: S\ndomains:\n  - name: a\n    dependencies: [b]\n  - name: b\n    dependencies: [c]\n  - name: c\n    dependencies: [b, ext]\n  - name: d\n    dependencies: [a]\n",
        );
        let g = dependency_graph(&s);
        assert_eq!(
            g.cycles,
            vec![vec!["b".to_string(), "c".into(), "b".into()]]
        );
        assert_eq!(
            g.build_order,
            vec![
                vec!["b".to_string(), "c".into()],
                vec!["a".into()],
                vec!["d".into()]
            ]
        );
        assert_eq!(g.unknown_references.len(), 1);
        assert_eq!(g.unknown_references[0].missing, "ext");
        assert!(g
            .diagnostics
            .iter()
            .any(|d| d.message.starts_with("dependency cycle: b → c → b")));
    }

    /// A dependency's findings point where the dependency is written — the entry in the system
    /// file's `domains:` or in a domain file's `dependencies:` — not at line 1 of a file.
    #[test]
    fn findings_point_at_the_dependency_entry() {
        let loaded = load_sources(&[
            (
                "domains/search.yaml".into(),
                "domain: search\ndescription: Finding products\ndependencies:\n  - inventory\n  - product_catalog\n".into(),
            ),
            (
                "system.yaml".into(),
                "system: Shop\ndomains:\n  - name: product_catalog\n    dependencies: [pricing, search]\n  - name: search\n".into(),
            ),
        ]);
        let g = dependency_graph(&loaded.spec);
        let unknown: Vec<_> = g
            .diagnostics
            .iter()
            .filter(|d| d.code == "unknown-domain")
            .map(|d| {
                (
                    d.file.clone().unwrap(),
                    d.line.unwrap(),
                    d.column.unwrap(),
                    d.path.clone().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            unknown,
            vec![
                (
                    "system.yaml".to_string(),
                    4,
                    20,
                    "domains[0].dependencies[0]".to_string()
                ),
                (
                    "domains/search.yaml".to_string(),
                    4,
                    5,
                    "dependencies[0]".to_string()
                ),
            ]
        );
        let cycle = g
            .diagnostics
            .iter()
            .find(|d| d.code == "dependency-cycle")
            .unwrap();
        assert_eq!(
            cycle.message,
            "dependency cycle: product_catalog → search → product_catalog (closed here by `search` depending on `product_catalog`)"
        );
        assert_eq!(
            (cycle.file.as_deref(), cycle.line, cycle.column),
            (Some("domains/search.yaml"), Some(5), Some(5))
        );
        assert!(
            cycle
                .help
                .as_deref()
                .unwrap()
                .contains("product_catalog → search at system.yaml:4:29"),
            "{cycle}"
        );
    }

    #[test]
    fn acyclic_graph_has_stages() {
        let s = spec("system: S\ndomains:\n  - name: x\n  - name: y\n    dependencies: [x]\n  - name: z\n    dependencies: [x]\n");
        let g = dependency_graph(&s);
        assert!(g.cycles.is_empty());
        assert_eq!(
            g.build_order,
            vec![vec!["x".to_string()], vec!["y".into(), "z".into()]]
        );
        let touched: BTreeSet<String> = ["x".to_string()].into();
        assert_eq!(
            dependents(&s, &touched),
            ["y".to_string(), "z".into()].into()
        );
    }

    #[test]
    fn seed_ecommerce_cycle_is_found() {
        let s = spec("system: S\ndomains:\n  - name: product_catalog\n    dependencies: [search]\n  - name: search\n    dependencies: [product_catalog]\n");
        let g = dependency_graph(&s);
        assert_eq!(
            g.cycles,
            vec![vec![
                "product_catalog".to_string(),
                "search".into(),
                "product_catalog".into()
            ]]
        );
    }
}
