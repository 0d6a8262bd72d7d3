//! Commit message directives: bracketed words that ask for what a diff
//! cannot express (`[deploy-all]`, `[build-api]`, `[skip voc]`, ...).
//!
//! They come from the original voc runner; the conf repo format lists them.
//! A directive is recognised anywhere in the message, case-insensitively;
//! a bracketed word that is not a directive (`[WIP]`) is ignored.

use std::collections::BTreeSet;

/// The directives of one commit, or of every commit of a range together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `[dry-run]`: plan only.
    pub dry_run: bool,
    /// `[deploy-all]` (or `[do-all]`): deploy every enabled stack.
    pub deploy_all: bool,
    /// `[build-all]` (or `[do-all]`): build every image.
    pub build_all: bool,
    /// `[deploy-<stack>]`.
    pub deploy: BTreeSet<String>,
    /// `[build-<image>]`.
    pub build: BTreeSet<String>,
    /// `[remove-<stack>]`.
    pub remove: BTreeSet<String>,
    /// `[skip voc]`: ignore this commit.
    pub skip: bool,
}

impl Directives {
    /// Reads the directives of one commit message.
    pub fn parse(message: &str) -> Directives {
        let mut directives = Directives::default();
        let mut rest = message;
        while let Some(open) = rest.find('[') {
            rest = &rest[open + 1..];
            let Some(close) = rest.find(']') else { break };
            let word = rest[..close].trim().to_ascii_lowercase();
            // A `[` inside the brackets starts a new candidate: `[[deploy-all]`.
            if word.contains('[') {
                continue;
            }
            directives.add(&word);
            rest = &rest[close + 1..];
        }
        directives
    }

    fn add(&mut self, word: &str) {
        match word {
            "dry-run" => self.dry_run = true,
            "deploy-all" => self.deploy_all = true,
            "build-all" => self.build_all = true,
            "do-all" => {
                self.deploy_all = true;
                self.build_all = true;
            }
            "skip voc" | "voc skip" | "skip-voc" => self.skip = true,
            _ => {
                let named = |prefix: &str| {
                    word.strip_prefix(prefix)
                        .filter(|name| is_name(name))
                        .map(str::to_owned)
                };
                if let Some(name) = named("deploy-") {
                    self.deploy.insert(name);
                } else if let Some(name) = named("build-") {
                    self.build.insert(name);
                } else if let Some(name) = named("remove-") {
                    self.remove.insert(name);
                }
            }
        }
    }

    /// Adds another commit's directives to these (`skip` is per commit and
    /// is not merged).
    pub fn merge(&mut self, other: &Directives) {
        self.dry_run |= other.dry_run;
        self.deploy_all |= other.deploy_all;
        self.build_all |= other.build_all;
        self.deploy.extend(other.deploy.iter().cloned());
        self.build.extend(other.build.iter().cloned());
        self.remove.extend(other.remove.iter().cloned());
    }

    /// True if nothing is asked for besides what the diff says.
    pub fn is_empty(&self) -> bool {
        *self == Directives::default()
    }
}

/// Stack and image names as the conf repo allows them.
fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && text.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn directives_are_found_anywhere_in_the_message() {
        let d = Directives::parse(
            "Fix the shop [deploy-shop]\n\nAlso [build-api] and [remove-old-site].",
        );
        assert_eq!(d.deploy, set(&["shop"]));
        assert_eq!(d.build, set(&["api"]));
        assert_eq!(d.remove, set(&["old-site"]));
        assert!(!d.deploy_all && !d.build_all && !d.dry_run && !d.skip);
    }

    #[test]
    fn each_keyword_sets_its_flag() {
        type Check = fn(&Directives) -> bool;
        let cases: &[(&str, Check)] = &[
            ("[dry-run]", |d| d.dry_run),
            ("[deploy-all]", |d| d.deploy_all && !d.build_all),
            ("[build-all]", |d| d.build_all && !d.deploy_all),
            ("[do-all]", |d| d.build_all && d.deploy_all),
            ("[skip voc]", |d| d.skip),
            ("[SKIP VOC]", |d| d.skip),
            ("[ Deploy-All ]", |d| d.deploy_all),
        ];
        for (message, check) in cases {
            assert!(check(&Directives::parse(message)), "{message}");
        }
    }

    #[test]
    fn other_brackets_and_bad_names_are_ignored() {
        for message in [
            "[WIP] shop",
            "[deploy-]",
            "[deploy-Shop!]",
            "a [deploy-all",
            "no brackets",
            "[]",
        ] {
            assert!(Directives::parse(message).is_empty(), "{message}");
        }
        assert!(Directives::parse("[[deploy-all]").deploy_all);
        assert_eq!(Directives::parse("[x] [deploy-a]").deploy, set(&["a"]));
    }

    #[test]
    fn merging_keeps_everything_but_skip() {
        let mut all = Directives::parse("[deploy-a]");
        all.merge(&Directives::parse("[skip voc] [build-b] [dry-run]"));
        assert_eq!(all.deploy, set(&["a"]));
        assert_eq!(all.build, set(&["b"]));
        assert!(all.dry_run);
        assert!(!all.skip);
    }
}
