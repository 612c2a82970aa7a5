//! "Did you mean": the closest known name to a misspelt one, for error messages.

/// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance over chars: insertions, deletions, substitutions and transpositions of two
/// neighbours each count as one edit, so `evnet` is one edit from `event`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one two back, for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("evnt", &["stage", "event"]), Some("event"));
        assert_eq!(did_you_mean("on_fail", &["failure", "on_failure"]), Some("on_failure"));
        assert_eq!(did_you_mean("zzzzzz", &["stage", "event"]), None);
    }

    #[test]
    fn a_transposition_is_one_edit() {
        assert_eq!(super::distance("evnet", "event"), 1);
        assert_eq!(super::distance("stgae", "stage"), 1);
        assert_eq!(super::distance("event", "event"), 0);
        assert_eq!(super::distance("", "abc"), 3);
        assert_eq!(super::distance("kitten", "sitting"), 3);
        // Short names: a transposition is within reach where two substitutions were not.
        assert_eq!(did_you_mean("ot", &["to", "actions"]), Some("to"));
        assert_eq!(did_you_mean("Rnuning", &["Created", "Running"]), Some("Running"));
        assert_eq!(did_you_mean("evnet", &["stage", "event"]), Some("event"));
    }
}
