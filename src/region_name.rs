//! What a region name may be: lowercase letters, digits and dashes. A low module, so the command
//! line (`--region`) and the region plan both check names the same way without `cli` reaching up
//! into `commands`.

/// Checks a `--region` value: a region name is lowercase letters, digits and dashes.
pub fn parse_region(text: &str) -> Result<String, String> {
    if is_region_name(text) {
        Ok(text.to_string())
    } else {
        Err("a region is lowercase letters, digits and dashes, e.g. eu-west-1".into())
    }
}

pub fn is_region_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
