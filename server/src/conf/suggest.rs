//! "Did you mean": the known word closest to a mistyped one, so a typo in a
//! field, a stack name or an option is answered with its fix.

/// The candidate closest to `word`, if one is close enough to be what was
/// meant: at most one edit for short words, a third of the length for
/// longer ones (an edit is an insertion, a deletion, a substitution or a
/// swap of two neighbours; case differences count as edits too).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.chars().count() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `did you mean "x"?` for the closest candidate, if any.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean \"{c}\"?"))
}

/// Optimal string alignment distance (Levenshtein plus swaps of two
/// neighbouring characters, which is how most typos happen).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one two back is needed for swaps.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions_and_swaps() {
        let cases = [
            ("", "", 0),
            ("abc", "abc", 0),
            ("", "abc", 3),
            ("abc", "", 3),
            ("enabeld", "enabled", 1),
            ("target", "targte", 1),
            ("prun", "prune", 1),
            ("dependson", "dependsOn", 1),
            ("depends_on", "dependsOn", 2),
            ("kitten", "sitting", 3),
        ];
        for (a, b, expected) in cases {
            assert_eq!(edit_distance(a, b), expected, "{a:?} {b:?}");
        }
    }

    #[test]
    fn the_closest_candidate_is_suggested_only_when_close_enough() {
        let fields = [
            "enabled",
            "target",
            "variables",
            "definition",
            "options",
            "dependsOn",
            "prune",
            "resolveImage",
            "withRegistryAuth",
            "selfHeal",
        ];
        let cases = [
            ("enabeld", Some("enabled")),
            ("enable", Some("enabled")),
            ("depends_on", Some("dependsOn")),
            ("DependsOn", Some("dependsOn")),
            ("variable", Some("variables")),
            ("self_heal", Some("selfHeal")),
            ("prnue", Some("prune")),
            ("replicas", None),
            ("x", None),
            ("enabled", None),
        ];
        for (word, expected) in cases {
            assert_eq!(closest(word, fields), expected, "{word:?}");
        }
    }

    #[test]
    fn did_you_mean_quotes_the_suggestion() {
        assert_eq!(
            did_you_mean("enabeld", ["enabled", "target"]).as_deref(),
            Some("did you mean \"enabled\"?")
        );
        assert_eq!(did_you_mean("zzz", ["enabled"]), None);
    }
}
