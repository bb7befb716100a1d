//! The layering rule, computed from `cargo metadata`: each crate depends only
//! on the layers below it.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::process;

/// The layers, lowest first. A library crate here may depend (normally, for
/// build scripts, or for its own tests) only on crates earlier in the list.
const LAYERS: &[&str] = &[
    "spread-banana",
    "spread-jelly",
    "spread-security",
    "spread-flavors",
    "spread-broker",
    "spread",
];

/// Generates code that names paths in the facade; it must not link any layer.
const PROC_MACRO: &str = "spread-derive";

/// The top layer, which alone re-exports the derive macros.
const FACADE: &str = "spread";

/// Applications of the library: they use it as any user would, through the
/// facade, and no layer below it.
const APPLICATIONS: &[&str] = &["spread-cli", "spread-buildbot-worker"];

pub(crate) fn check_workspace() -> Result<()> {
    let json = process::output(&mut process::cargo_cmd(&[
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--locked",
    ]))?;
    let metadata: Value = serde_json::from_str(&json).context("parsing cargo metadata")?;
    let mut violations = violations(&metadata)?;
    violations.extend(sans_io_violations(&read_sources(SANS_IO)?));
    if !violations.is_empty() {
        bail!("layering violated:\n  {}", violations.join("\n  "));
    }
    eprintln!(
        "layering: every crate depends only on the layers below it, and {SANS_IO} names no runtime"
    );
    Ok(())
}

/// The broker's protocol core, which must stay free of any runtime.
const SANS_IO: &str = "crates/broker/src/proto";

/// Crates the sans-IO core may not name: a runtime, its IO, its helpers.
const RUNTIMES: &[&str] = &[
    "tokio",
    "tokio_util",
    "futures_util",
    "std::net",
    "std::io::Read",
];

fn read_sources(dir: &str) -> Result<Vec<(String, String)>> {
    let mut sources = Vec::new();
    let dir = crate::project_root().join(dir);
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)?;
            sources.push((path.display().to_string(), text));
        }
    }
    Ok(sources)
}

/// Every line of code (comments aside) in `sources` that names a runtime.
fn sans_io_violations(sources: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in sources {
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for runtime in RUNTIMES {
                let named = code.match_indices(runtime).any(|(at, _)| {
                    let before = code[..at].chars().next_back();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if named {
                    found.push(format!(
                        "{path}:{}: the sans-IO core names {runtime}",
                        number + 1
                    ));
                }
            }
        }
    }
    found
}

/// Every dependency that breaks the rule, as a readable line.
fn violations(metadata: &Value) -> Result<Vec<String>> {
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    let mut found = Vec::new();
    for package in packages {
        let name = package["name"].as_str().context("package without a name")?;
        let deps = package["dependencies"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for dep in deps {
            let dep_name = dep["name"].as_str().context("dependency without a name")?;
            let kind = dep["kind"].as_str().unwrap_or("normal");
            let upward = match (rank.get(name), rank.get(dep_name)) {
                _ if name == PROC_MACRO => rank.contains_key(dep_name),
                _ if APPLICATIONS.contains(&name) => {
                    dep_name != FACADE && dep_name.starts_with("spread")
                }
                _ if dep_name == PROC_MACRO => name != FACADE,
                (Some(own), Some(theirs)) => theirs >= own,
                // Tools, tests and examples outside the layers may use any layer.
                (None, _) => false,
                // A layer may use helpers outside the list only in its tests.
                (Some(_), None) => dep_name.starts_with("spread-") && kind != "dev",
            };
            if upward {
                found.push(format!(
                    "{name} depends on {dep_name} ({kind}), which is not below it"
                ));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(packages: &[(&str, &[(&str, &str)])]) -> Value {
        let packages: Vec<Value> = packages
            .iter()
            .map(|(name, deps)| {
                let deps: Vec<Value> = deps
                    .iter()
                    .map(|(dep, kind)| {
                        let kind = if *kind == "normal" {
                            Value::Null
                        } else {
                            Value::from(*kind)
                        };
                        serde_json::json!({ "name": dep, "kind": kind })
                    })
                    .collect();
                serde_json::json!({ "name": name, "dependencies": deps })
            })
            .collect();
        serde_json::json!({ "packages": packages })
    }

    #[test]
    fn layers_in_order_pass() {
        let m = metadata(&[
            ("spread-banana", &[("bytes", "normal")]),
            (
                "spread-jelly",
                &[("spread-banana", "normal"), ("proptest", "dev")],
            ),
            (
                "spread",
                &[("spread-jelly", "normal"), ("spread-banana", "normal")],
            ),
            ("spread-derive", &[("syn", "normal")]),
            ("xtask", &[("spread", "normal")]),
        ]);
        assert_eq!(violations(&m).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_lower_layer_depending_on_a_higher_one_fails() {
        let m = metadata(&[
            ("spread-banana", &[("spread-jelly", "normal")]),
            ("spread-jelly", &[("spread-banana", "normal")]),
        ]);
        assert_eq!(
            violations(&m).unwrap(),
            ["spread-banana depends on spread-jelly (normal), which is not below it"]
        );
    }

    #[test]
    fn upward_dev_and_build_dependencies_fail_too() {
        let m = metadata(&[(
            "spread-jelly",
            &[("spread-broker", "dev"), ("spread-security", "build")],
        )]);
        assert_eq!(violations(&m).unwrap().len(), 2);
    }

    #[test]
    fn the_proc_macro_links_no_layer() {
        let m = metadata(&[("spread-derive", &[("spread-flavors", "normal")])]);
        assert_eq!(violations(&m).unwrap().len(), 1);
    }

    #[test]
    fn only_the_facade_links_the_derive_macros() {
        let m = metadata(&[
            ("spread", &[("spread-derive", "normal")]),
            ("spread-flavors", &[("spread-derive", "normal")]),
        ]);
        assert_eq!(
            violations(&m).unwrap(),
            ["spread-flavors depends on spread-derive (normal), which is not below it"]
        );
    }

    #[test]
    fn applications_use_the_facade_alone() {
        let m = metadata(&[
            ("spread-cli", &[("spread", "normal"), ("clap", "normal")]),
            ("spread-buildbot-worker", &[("spread-broker", "normal")]),
        ]);
        assert_eq!(
            violations(&m).unwrap(),
            ["spread-buildbot-worker depends on spread-broker (normal), which is not below it"]
        );
    }

    #[test]
    fn a_layer_may_not_depend_on_itself() {
        let m = metadata(&[("spread-jelly", &[("spread-jelly", "dev")])]);
        assert_eq!(violations(&m).unwrap().len(), 1);
    }

    #[test]
    fn the_core_may_mention_a_runtime_only_in_comments() {
        let sources = |text: &str| vec![("core.rs".to_owned(), text.to_owned())];
        assert!(sans_io_violations(&sources("//! Driven by tokio.\nuse bytes::Bytes;")).is_empty());
        assert_eq!(
            sans_io_violations(&sources("use bytes::Bytes;\nuse tokio::sync::mpsc;")),
            ["core.rs:2: the sans-IO core names tokio"]
        );
        assert_eq!(
            sans_io_violations(&sources("let x = futures_util::future::ready(1); // why")).len(),
            1
        );
        assert!(sans_io_violations(&sources("let my_tokio = 1;")).is_empty());
    }

    #[test]
    fn the_real_workspace_passes() {
        check_workspace().unwrap();
    }
}
