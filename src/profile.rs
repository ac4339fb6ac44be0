//! Reading and editing `~/.aws/config` and `~/.aws/credentials` as text. No kept INI crate preserves
//! comments on write, so this module splices lines: every byte outside the lines it changes stays as it
//! was (comments, blank lines, order, CRLF line endings). It is pure: text in, text out. Reading and
//! atomic writing of the files is `config_file`'s job.
//!
//! It refuses to edit text it cannot parse the way the AWS CLI does, so a malformed file is reported,
//! never "repaired".

use crate::profile_name::ProfileName;

/// A value awskeep may write into a config file: one line with no control characters (a newline would
/// start a line of the attacker's choosing, e.g. a `credential_process` in another section), and no
/// white space at either end (the parsers trim it, so it would not read back as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingValue(String);

impl SettingValue {
    pub fn new(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("it is empty");
        }
        if text.chars().any(char::is_control) {
            return Err("it holds a control character (a line break, a tab, ...)");
        }
        if text.trim() != text {
            return Err("it starts or ends with white space");
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` / `false`, as the AWS config spells a boolean.
    pub fn flag(on: bool) -> Self {
        Self(if on { "true" } else { "false" }.to_string())
    }

    /// A duration as humantime writes it (`12h`, `1h 30m`): never a control character.
    pub fn duration(duration: std::time::Duration) -> Self {
        Self(humantime::format_duration(duration).to_string())
    }
}

/// Which of the two AWS files the text is: their section headers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.aws/config`: `[default]`, `[profile NAME]`, `[sso-session NAME]`, ...
    Config,
    /// `~/.aws/credentials`: `[NAME]`.
    Credentials,
}

/// A line awskeep cannot make sense of: 1-based line number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub reason: String,
}

/// One `key = value` line, with any indented sub-property lines that follow it.
#[derive(Debug, Clone)]
pub struct Property {
    pub key: String,
    pub value: String,
    /// Index of the `key = value` line.
    pub line: usize,
    /// Index one past the last line that belongs to it (its sub-properties).
    pub end: usize,
}

/// A section: its header line and the lines up to the next header.
#[derive(Debug, Clone)]
pub struct Section {
    /// The profile this section configures, if it is a profile section.
    pub profile: Option<String>,
    /// The header text between the brackets, as written (e.g. `profile dev`, `sso-session corp`).
    pub header: String,
    pub header_line: usize,
    /// One past the section's last line.
    pub end: usize,
    pub properties: Vec<Property>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&str> {
        // A repeated key: the last one wins, as in the SDKs.
        self.properties
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }
}

/// A parsed file: its lines (each with its own line ending) and its sections. The credentials file
/// holds secrets, so every copy of its text is zeroized when dropped; `Debug` shows no content.
#[derive(Clone)]
pub struct Document {
    kind: FileKind,
    lines: Vec<String>,
    sections: Vec<Section>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("kind", &self.kind)
            .field("lines", &self.lines.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.lines.zeroize();
        for section in &mut self.sections {
            for property in &mut section.properties {
                property.value.zeroize();
            }
        }
    }
}

impl Document {
    /// Parses the whole text; the first line it cannot make sense of is an error. For editing: a file
    /// awskeep does not fully understand is never rewritten.
    pub fn parse(text: &str, kind: FileKind) -> Result<Self, Malformed> {
        Self::parse_with(text, kind, false, None).map(|(document, _)| document)
    }

    /// `parse_lenient` for one profile: outside its section(s) only the headers are read (to
    /// know where its sections end), so the rest of the file costs nothing and fails nothing. The
    /// document holds that profile's settings only: for readers (the hot path), never for an edit.
    pub fn parse_profile_leniently(
        text: &str,
        kind: FileKind,
        profile: &str,
    ) -> (Self, Vec<Malformed>) {
        Self::lenient_result(Self::parse_with(text, kind, true, Some(profile)), kind)
    }

    /// Parses what it can and returns the lines it could not make sense of, for a reader that needs
    /// only some sections (credential-process): a line the AWS CLI accepts elsewhere in the file must
    /// not fail it. After a header it cannot read, the lines up to the next header belong to no
    /// profile, so they are never taken for the section above.
    pub fn parse_lenient(text: &str, kind: FileKind) -> (Self, Vec<Malformed>) {
        Self::lenient_result(Self::parse_with(text, kind, true, None), kind)
    }

    fn lenient_result(
        parsed: Result<(Self, Vec<Malformed>), Malformed>,
        kind: FileKind,
    ) -> (Self, Vec<Malformed>) {
        match parsed {
            Ok(parsed) => parsed,
            // Lenient parsing reports instead of failing; this arm only keeps the types honest.
            Err(malformed) => (
                Self {
                    kind,
                    lines: Vec::new(),
                    sections: Vec::new(),
                },
                vec![malformed],
            ),
        }
    }

    /// Whether a line `parse_lenient` skipped is inside `profile`'s own section(s).
    pub fn is_in_profile(&self, malformed: &Malformed, profile: &str) -> bool {
        let index = malformed.line - 1;
        self.profile_sections(profile)
            .any(|s| s.header_line <= index && index < s.end)
    }

    fn parse_with(
        text: &str,
        kind: FileKind,
        lenient: bool,
        only: Option<&str>,
    ) -> Result<(Self, Vec<Malformed>), Malformed> {
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        let mut sections: Vec<Section> = Vec::new();
        let mut skipped = Vec::new();
        for (index, raw) in lines.iter().enumerate() {
            let malformed = |reason: &str| Malformed {
                line: index + 1,
                reason: reason.to_string(),
            };
            // Lenient: note the line and go on; strict: fail on it.
            macro_rules! refuse {
                ($reason:expr) => {{
                    if !lenient {
                        return Err(malformed($reason));
                    }
                    skipped.push(malformed($reason));
                    continue;
                }};
            }
            let line = raw.trim_end_matches(['\n', '\r']);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if trimmed.starts_with('[') {
                if let Some(last) = sections.last_mut() {
                    last.end = index;
                }
                let header = match parse_header(trimmed) {
                    Ok(header) => header,
                    Err(reason) => {
                        if lenient {
                            // A section of no profile, so its lines attach to nothing.
                            sections.push(Section {
                                profile: None,
                                header: String::new(),
                                header_line: index,
                                end: lines.len(),
                                properties: Vec::new(),
                            });
                        }
                        refuse!(reason)
                    }
                };
                sections.push(Section {
                    profile: profile_of_header(&header, kind),
                    header,
                    header_line: index,
                    end: lines.len(),
                    properties: Vec::new(),
                });
                continue;
            }
            let Some(section) = sections.last_mut() else {
                if only.is_some() {
                    continue;
                }
                refuse!("a setting before any [section] header")
            };
            if only.is_some() && section.profile.as_deref() != only {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // An indented line continues the property above it (`s3 =` sub-settings).
                match section.properties.last_mut() {
                    Some(property) => property.end = index + 1,
                    None => refuse!("an indented line with no setting above it"),
                }
                continue;
            }
            // A reader also takes `key: value`, which the AWS CLI (configparser) reads too; an
            // editor does not, since the Rust SDK's parser would not.
            let delimiter = if lenient {
                line.find(['=', ':'])
            } else {
                line.find('=')
            };
            let Some((key, value)) = delimiter.map(|at| (&line[..at], &line[at + 1..])) else {
                refuse!("a line that is neither `key = value`, a comment nor a [section]")
            };
            let key = key.trim();
            if key.is_empty() {
                refuse!("a setting with no name before =")
            }
            section.properties.push(Property {
                key: key.to_ascii_lowercase(),
                value: strip_inline_comment(value.trim()).to_string(),
                line: index,
                end: index + 1,
            });
        }
        Ok((
            Self {
                kind,
                lines,
                sections,
            },
            skipped,
        ))
    }

    pub fn text(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(self.lines.concat())
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The sections botocore reads `profile` from: among sections whose headers name it, those with
    /// the last one's header text (botocore keeps only the last of different headers; sections with
    /// the very same header are merged, as the other SDKs do).
    fn effective_sections(&self, profile: &str) -> Vec<&Section> {
        let names = |s: &&Section| s.profile.as_deref() == Some(profile);
        let last = self.sections.iter().rfind(names).map(|s| s.header.as_str());
        self.sections
            .iter()
            .filter(|s| names(s) && Some(s.header.as_str()) == last)
            .collect()
    }

    /// A header that makes `profile` read differently by different clients, as (1-based line, header
    /// text, why), if there is one: a header other SDKs read as `profile` and botocore does not
    /// (`[ profile dev ]`), an indented one (botocore may take it for the previous value's next
    /// line), or a second section of the profile (botocore reads only the last, or refuses a repeated
    /// header outright; other SDKs merge them). No edit of such a profile reaches every client.
    pub fn ambiguous_section(&self, profile: &str) -> Option<(usize, &str, &'static str)> {
        if self.kind != FileKind::Config {
            return None;
        }
        fn at(s: &Section) -> (usize, &str) {
            (s.header_line + 1, s.header.as_str())
        }
        if let Some(s) = self.sections.iter().find(|s| {
            crate::section_header::read_differently(&s.header).as_deref() == Some(profile)
        }) {
            let (line, header) = at(s);
            return Some((
                line,
                header,
                "is that profile for some AWS SDKs but not for the AWS CLI and boto3",
            ));
        }
        let mut sections = self
            .sections
            .iter()
            .filter(|s| s.profile.as_deref() == Some(profile));
        let first = sections.next()?;
        if let Some(second) = sections.next() {
            let (line, header) = at(second);
            return Some((
                line,
                header,
                "is a second section for that profile (the AWS CLI and boto3 read only the last one, or refuse a repeated header; other SDKs merge them)",
            ));
        }
        let indented = self.lines[first.header_line].starts_with([' ', '\t']);
        indented.then(|| {
            let (line, header) = at(first);
            (
                line,
                header,
                "is indented, which the AWS CLI and boto3 may read as part of the setting above it",
            )
        })
    }

    /// Every section whose header names `profile` (section_header.rs: as botocore reads headers).
    pub fn profile_sections<'a>(
        &'a self,
        profile: &'a str,
    ) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections
            .iter()
            .filter(move |s| s.profile.as_deref() == Some(profile))
    }

    /// The value of `key` in `profile`, the last one winning as in the SDKs.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        self.effective_sections(profile)
            .into_iter()
            .rev()
            .find_map(|s| s.get(key))
    }

    /// The line range of the first `key` setting in `profile`.
    fn find_property(&self, profile: &str, key: &str) -> Option<(usize, usize)> {
        self.profile_sections(profile)
            .flat_map(|s| s.properties.iter())
            .find(|p| p.key == key)
            .map(|p| (p.line, p.end))
    }

    /// The line range of a `profile` section with no settings left.
    fn find_empty_section(&self, profile: &str) -> Option<(usize, usize)> {
        self.profile_sections(profile)
            .find(|s| s.properties.is_empty())
            .map(|s| (s.header_line, s.end))
    }

    fn line_ending(&self) -> &'static str {
        if self.lines.first().is_some_and(|l| l.ends_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Sets `key = value` in `profile`: replaces the existing line (and its sub-lines) in place, or adds
    /// the line after the section's last setting, or appends a new section at the end of the file.
    pub fn set(&mut self, profile: &ProfileName, key: &str, value: &SettingValue) {
        let eol = self.line_ending();
        // A header botocore reads as this profile but others may not (`[profile "dev"]` is `dev` to
        // botocore, no profile to the Rust, Go and JS SDKs) becomes the plain form every SDK reads,
        // so the section that gets the setting is the profile for every client.
        let canonical = header_for(profile, self.kind);
        let odd_headers: Vec<usize> = self
            .effective_sections(profile.as_str())
            .into_iter()
            .filter(|s| s.header != canonical)
            .map(|s| s.header_line)
            .collect();
        for line in odd_headers {
            // What follows the `]` (a comment, the line ending) stays as it was.
            let old = &self.lines[line];
            let rest = old
                .find(']')
                .map_or("", |close| &old[close + 1..])
                .to_string();
            self.lines[line] = format!("[{canonical}]{rest}");
        }
        let new_line = format!("{key} = {}{eol}", value.as_str());
        let existing = self
            .effective_sections(profile.as_str())
            .into_iter()
            .flat_map(|s| s.properties.iter())
            .filter(|p| p.key == key)
            .map(|p| (p.line, p.end))
            .next_back();
        if let Some((line, end)) = existing {
            self.lines.splice(line..end, [new_line]);
        } else if let Some(section) = self.effective_sections(profile.as_str()).last().copied() {
            let at = section
                .properties
                .last()
                .map_or(section.header_line + 1, |p| p.end);
            // The line before may be the file's last, without a line break: give it one, or the
            // new setting would become part of its value.
            if let Some(before) = at.checked_sub(1).and_then(|i| self.lines.get_mut(i))
                && !before.ends_with('\n')
            {
                before.push_str(eol);
            }
            self.lines.insert(at, new_line);
        } else {
            if let Some(last) = self.lines.last_mut()
                && !last.ends_with('\n')
            {
                last.push_str(eol);
            }
            if !self.lines.is_empty() && self.lines.last().is_some_and(|l| !l.trim().is_empty()) {
                self.lines.push(eol.to_string());
            }
            self.lines
                .push(format!("[{}]{eol}", header_for(profile, self.kind)));
            self.lines.push(new_line);
        }
        self.reparse();
    }

    /// Removes `key` from `profile`. A section left with no settings loses its header; comments stay.
    /// The blank lines that separated it from its neighbours go with it, but one separation stays, so
    /// the section before never runs into the next header. Returns whether anything was removed.
    pub fn remove(&mut self, profile: &str, key: &str) -> bool {
        let mut removed = false;
        while let Some((line, end)) = self.find_property(profile, key) {
            self.lines.drain(line..end);
            removed = true;
            self.reparse();
        }
        while removed && let Some((start, end)) = self.find_empty_section(profile) {
            let range = self.emptied_section_lines(start, end);
            self.lines.drain(range);
            self.reparse();
        }
        removed
    }

    /// The lines to delete for an emptied section whose header is `start` and which ends before `end`:
    /// the header, the comment lines right above it (no blank line between: they describe the
    /// section, and would otherwise be left describing nothing; unless they open the file, where
    /// they may describe the file), and the blank lines that would otherwise double up or trail it.
    fn emptied_section_lines(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let blank = |i: usize| self.lines[i].trim().is_empty();
        let comment = |i: usize| {
            let trimmed = self.lines[i].trim_start();
            trimmed.starts_with('#') || trimmed.starts_with(';')
        };
        let mut first = start;
        while first > 0 && comment(first - 1) {
            first -= 1;
        }
        if first == 0 {
            // Comments opening the file may describe the whole file: they stay.
            first = start;
        }
        let separated_before = first == 0 || blank(first - 1);
        if self.only_blank(start + 1, end) {
            if end < self.lines.len() {
                // Its trailing blank lines go and the ones before it stay: they now separate the
                // section before from the next one.
                return first..end;
            }
            // The file's last section: the blank lines before it would trail the file.
            let mut from = first;
            while from > 0 && blank(from - 1) {
                from -= 1;
            }
            return from..end;
        }
        // Comments remain inside it: they usually introduce the next section, so only the header
        // (and what describes it) goes, with the blank lines after it when blank lines before it
        // already separate the comments from above.
        let mut to = start + 1;
        while separated_before && to < end && blank(to) {
            to += 1;
        }
        first..to
    }

    fn only_blank(&self, from: usize, to: usize) -> bool {
        self.lines[from..to].iter().all(|l| l.trim().is_empty())
    }

    fn reparse(&mut self) {
        // The edits above only ever produce well-formed lines, so the text still parses.
        if let Ok(doc) = Self::parse(self.text().as_str(), self.kind) {
            *self = doc;
        }
    }
}

fn parse_header(trimmed: &str) -> Result<String, &'static str> {
    let Some(close) = trimmed.find(']') else {
        return Err("a [section header with no closing ]");
    };
    let rest = trimmed[close + 1..].trim();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return Err("text after a [section] header");
    }
    // As written: botocore does not trim it (`[ profile dev ]` is no profile there).
    let inner = &trimmed[1..close];
    if inner.trim().is_empty() || inner.contains('[') {
        return Err("an empty or nested [section] header");
    }
    Ok(inner.to_string())
}

/// The profile a header names, as botocore reads it (section_header.rs); in the credentials file
/// the header is the profile name as it stands.
fn profile_of_header(header: &str, kind: FileKind) -> Option<String> {
    match kind {
        FileKind::Credentials => Some(header.to_string()),
        FileKind::Config => crate::section_header::config_profile(header),
    }
}

fn header_for(profile: &ProfileName, kind: FileKind) -> String {
    match kind {
        FileKind::Config if !profile.is_default() => format!("profile {profile}"),
        _ => profile.to_string(),
    }
}

/// ` # note` after a value is a comment to the SDKs' parsers (a `#` inside a word is not).
fn strip_inline_comment(value: &str) -> &str {
    let cut = value
        .char_indices()
        .find(|&(i, c)| (c == '#' || c == ';') && value[..i].ends_with([' ', '\t']))
        .map(|(i, _)| i);
    match cut {
        Some(i) => value[..i].trim_end(),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> ProfileName {
        ProfileName::parse(n).unwrap()
    }

    const SAMPLE: &str = "# my config\n[default]\nregion = eu-west-1 # home\n\n; work\n[profile work]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = 20\n\n[sso-session corp]\nsso_region = us-east-1\n";

    #[test]
    fn parses_sections_and_values() {
        let doc = Document::parse(SAMPLE, FileKind::Config).unwrap();
        assert_eq!(doc.get("default", "region"), Some("eu-west-1"));
        assert_eq!(doc.get("work", "region"), Some("us-east-1"));
        assert_eq!(
            doc.get("corp", "sso_region"),
            None,
            "sso-session is not a profile"
        );
        assert_eq!(doc.text().as_str(), SAMPLE);
    }

    #[test]
    fn adding_a_profile_appends_and_keeps_every_other_byte() {
        let mut doc = Document::parse(SAMPLE, FileKind::Config).unwrap();
        doc.set(
            &name("dev"),
            "credential_process",
            &SettingValue::new("/bin/awskeep credential-process --profile dev").unwrap(),
        );
        let expected = format!(
            "{SAMPLE}\n[profile dev]\ncredential_process = /bin/awskeep credential-process --profile dev\n"
        );
        assert_eq!(doc.text().as_str(), expected);
    }

    #[test]
    fn a_setting_added_after_a_last_line_without_a_line_break_stays_its_own_line() {
        let mut doc =
            Document::parse("[profile dev]\nregion = eu-west-1", FileKind::Config).unwrap();
        doc.set(
            &name("dev"),
            "mfa_serial",
            &SettingValue::new("arn:aws:iam::123456789012:mfa/me").unwrap(),
        );
        assert_eq!(
            doc.text().as_str(),
            "[profile dev]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n"
        );
        assert_eq!(doc.get("dev", "region"), Some("eu-west-1"));
    }

    #[test]
    fn a_value_with_a_line_break_cannot_be_written() {
        for bad in [
            "arn\n[default]\ncredential_process = evil",
            "a\rb",
            "tab\there",
            " lead",
            "",
        ] {
            assert!(SettingValue::new(bad).is_err(), "{bad:?}");
        }
        assert!(SettingValue::new("arn:aws:iam::123456789012:mfa/dev").is_ok());
    }

    #[test]
    fn setting_in_an_existing_section_goes_after_its_last_setting() {
        let mut doc = Document::parse(SAMPLE, FileKind::Config).unwrap();
        doc.set(
            &name("work"),
            "credential_process",
            &SettingValue::new("x").unwrap(),
        );
        assert!(doc.text().as_str().contains(
            "s3 =\n  max_concurrent_requests = 20\ncredential_process = x\n\n[sso-session corp]"
        ));
        doc.set(
            &name("work"),
            "credential_process",
            &SettingValue::new("y").unwrap(),
        );
        assert_eq!(doc.text().as_str().matches("credential_process").count(), 1);
        assert_eq!(doc.get("work", "credential_process"), Some("y"));
    }

    #[test]
    fn default_profile_uses_plain_header() {
        let mut doc = Document::parse("", FileKind::Config).unwrap();
        doc.set(
            &name("default"),
            "credential_process",
            &SettingValue::new("x").unwrap(),
        );
        assert_eq!(doc.text().as_str(), "[default]\ncredential_process = x\n");
    }

    #[test]
    fn the_hot_path_reads_only_its_profiles_sections() {
        let text = "stray line\n[profile other]\nregion = x\nnot a setting\n[profile dev]\nregion = eu-west-1\n[sso-session s]\n?? anything\n[profile dev]\nawskeep_session = true\n";
        let (doc, skipped) = Document::parse_profile_leniently(text, FileKind::Config, "dev");
        assert!(
            skipped.is_empty(),
            "nothing outside dev is parsed: {skipped:?}"
        );
        assert_eq!(doc.get("dev", "region"), Some("eu-west-1"));
        assert_eq!(
            doc.get("dev", "awskeep_session"),
            Some("true"),
            "both sections"
        );
        assert_eq!(
            doc.get("other", "region"),
            None,
            "other sections are not read"
        );
        let (_, skipped) = Document::parse_profile_leniently(
            "[profile dev]\nnot a setting\n",
            FileKind::Config,
            "dev",
        );
        assert_eq!(skipped.len(), 1, "its own section is still checked");
    }

    #[test]
    fn keeps_crlf_line_endings() {
        let text = "[profile a]\r\nregion = us-east-1\r\n";
        let mut doc = Document::parse(text, FileKind::Config).unwrap();
        doc.set(
            &name("b"),
            "credential_process",
            &SettingValue::new("x").unwrap(),
        );
        assert_eq!(
            doc.text().as_str(),
            "[profile a]\r\nregion = us-east-1\r\n\r\n[profile b]\r\ncredential_process = x\r\n"
        );
    }

    #[test]
    fn file_without_final_newline_gets_one_before_the_new_section() {
        let mut doc = Document::parse("[profile a]\nregion = x", FileKind::Config).unwrap();
        doc.set(&name("b"), "k", &SettingValue::new("v").unwrap());
        assert_eq!(
            doc.text().as_str(),
            "[profile a]\nregion = x\n\n[profile b]\nk = v\n"
        );
    }

    #[test]
    fn removing_the_only_setting_removes_the_section() {
        let mut doc = Document::parse(SAMPLE, FileKind::Config).unwrap();
        doc.set(
            &name("dev"),
            "credential_process",
            &SettingValue::new("x").unwrap(),
        );
        assert!(doc.remove("dev", "credential_process"));
        assert_eq!(doc.text().as_str(), SAMPLE);
    }

    #[test]
    fn removing_keeps_other_settings_and_comments() {
        let text = "[profile dev]\n# keep me\nregion = eu-west-1\ncredential_process = x\n";
        let mut doc = Document::parse(text, FileKind::Config).unwrap();
        assert!(doc.remove("dev", "credential_process"));
        assert_eq!(
            doc.text().as_str(),
            "[profile dev]\n# keep me\nregion = eu-west-1\n"
        );
        assert!(!doc.remove("dev", "credential_process"));
    }

    #[test]
    fn an_emptied_section_keeps_the_comment_that_introduces_the_next() {
        let text = "# top\n\n[a]\nk = 1\n\n# about b\n[b]\nk = 2\n";
        let mut doc = Document::parse(text, FileKind::Credentials).unwrap();
        assert!(doc.remove("a", "k"));
        assert_eq!(doc.text().as_str(), "# top\n\n# about b\n[b]\nk = 2\n");
        // The comment right above a removed section described it: it goes with it.
        assert!(doc.remove("b", "k"));
        assert_eq!(doc.text().as_str(), "# top\n");
    }

    #[test]
    fn removing_a_section_between_two_keeps_them_apart() {
        for (text, expected) in [
            // In the middle: one blank line stays between the neighbours.
            (
                "[profile a]\nx = 1\n\n[profile dev]\nk = v\n\n[profile b]\ny = 2\n",
                "[profile a]\nx = 1\n\n[profile b]\ny = 2\n",
            ),
            // Several blank lines on each side: the ones before stay, as the user wrote them.
            (
                "[profile a]\nx = 1\n\n\n[profile dev]\nk = v\n\n\n[profile b]\ny = 2\n",
                "[profile a]\nx = 1\n\n\n[profile b]\ny = 2\n",
            ),
            // Last: no blank line is left trailing the file.
            (
                "[profile a]\nx = 1\n\n[profile dev]\nk = v\n",
                "[profile a]\nx = 1\n",
            ),
            // First: the file starts with the next section.
            (
                "[profile dev]\nk = v\n\n[profile b]\ny = 2\n",
                "[profile b]\ny = 2\n",
            ),
            // No blank lines at all: none appear.
            (
                "[profile a]\nx = 1\n[profile dev]\nk = v\n[profile b]\ny = 2\n",
                "[profile a]\nx = 1\n[profile b]\ny = 2\n",
            ),
            // A comment introducing the next section stays, once separated from the section above.
            (
                "[profile a]\nx = 1\n\n[profile dev]\nk = v\n\n# about b\n[profile b]\ny = 2\n",
                "[profile a]\nx = 1\n\n# about b\n[profile b]\ny = 2\n",
            ),
            // The comment right above the removed section's header goes with it, at any place.
            (
                "[profile a]\nx = 1\n\n# dev account\n; keys\n[profile dev]\nk = v\n\n[profile b]\ny = 2\n",
                "[profile a]\nx = 1\n\n[profile b]\ny = 2\n",
            ),
            // Comments that open the file may be about the file: they stay.
            (
                "# my laptop's profiles\n[profile dev]\nk = v\n\n[profile b]\ny = 2\n",
                "# my laptop's profiles\n[profile b]\ny = 2\n",
            ),
            (
                "[profile a]\nx = 1\n\n# dev account\n[profile dev]\nk = v\n",
                "[profile a]\nx = 1\n",
            ),
            (
                "[profile a]\nx = 1\n\n# dev account\n[profile dev]\nk = v\n\n# about b\n[profile b]\ny = 2\n",
                "[profile a]\nx = 1\n\n# about b\n[profile b]\ny = 2\n",
            ),
            // CRLF files the same.
            (
                "[profile a]\r\nx = 1\r\n\r\n[profile dev]\r\nk = v\r\n\r\n[profile b]\r\ny = 2\r\n",
                "[profile a]\r\nx = 1\r\n\r\n[profile b]\r\ny = 2\r\n",
            ),
        ] {
            let mut doc = Document::parse(text, FileKind::Config).unwrap();
            assert!(doc.remove("dev", "k"), "{text:?}");
            assert_eq!(doc.text().as_str(), expected, "{text:?}");
        }
    }

    #[test]
    fn migrate_removing_key_lines_keeps_the_neighbours_apart() {
        // What migrate does to the credentials file: both key lines of the middle profile go.
        let text = "[a]\naws_access_key_id = A\naws_secret_access_key = s\n\n[dev]\naws_access_key_id = D\naws_secret_access_key = s\n\n[b]\naws_access_key_id = B\naws_secret_access_key = s\n";
        let mut doc = Document::parse(text, FileKind::Credentials).unwrap();
        for key in ["aws_access_key_id", "aws_secret_access_key"] {
            assert!(doc.remove("dev", key));
        }
        assert_eq!(
            doc.text().as_str(),
            "[a]\naws_access_key_id = A\naws_secret_access_key = s\n\n[b]\naws_access_key_id = B\naws_secret_access_key = s\n"
        );
        // A section that keeps a setting (region) keeps its place and its blank lines.
        let text = "[dev]\naws_access_key_id = D\naws_secret_access_key = s\nregion = eu-west-1\n\n[b]\nx = 1\n";
        let mut doc = Document::parse(text, FileKind::Credentials).unwrap();
        for key in ["aws_access_key_id", "aws_secret_access_key"] {
            assert!(doc.remove("dev", key));
        }
        assert_eq!(
            doc.text().as_str(),
            "[dev]\nregion = eu-west-1\n\n[b]\nx = 1\n"
        );
    }

    #[test]
    fn credentials_file_sections_are_bare_names() {
        let doc = Document::parse("[dev]\naws_access_key_id = A\n", FileKind::Credentials).unwrap();
        assert_eq!(doc.get("dev", "aws_access_key_id"), Some("A"));
    }

    #[test]
    fn reports_malformed_lines_with_their_number() {
        for (text, line) in [
            ("region = x\n", 1),
            ("[profile a]\nno equals sign\n", 2),
            ("[profile a\n", 1),
            ("[profile a] trailing\n", 1),
            ("[a]\n = v\n", 2),
        ] {
            let err = Document::parse(text, FileKind::Config).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err:?}");
        }
    }
}
