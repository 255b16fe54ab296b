//! The workspace's files, as the checker reads them.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The workspace's files, with an in-memory overlay (`None`: deleted) so the
/// planted tests can change a file without touching the disk.
pub struct Tree {
    pub root: PathBuf,
    pub overlay: BTreeMap<String, Option<String>>,
    pub cache: RefCell<HashMap<String, Option<Rc<str>>>>,
}

impl Tree {
    pub fn workspace() -> Self {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("the suite crate sits in tests/suite");
        Self::at(root.to_path_buf())
    }

    pub fn at(root: PathBuf) -> Self {
        Self { root, overlay: BTreeMap::new(), cache: RefCell::default() }
    }

    pub fn with_file(mut self, path: &str, text: Option<&str>) -> Self {
        self.overlay.insert(path.to_owned(), text.map(str::to_owned));
        self
    }

    pub fn read(&self, path: &str) -> Option<Rc<str>> {
        if let Some(text) = self.overlay.get(path) {
            return text.as_deref().map(Rc::from);
        }
        let mut cache = self.cache.borrow_mut();
        cache
            .entry(path.to_owned())
            .or_insert_with(|| std::fs::read_to_string(self.root.join(path)).ok().map(Rc::from))
            .clone()
    }

    pub fn exists(&self, path: &str) -> bool {
        match self.overlay.get(path) {
            Some(text) => text.is_some(),
            None => self.root.join(path).exists(),
        }
    }

    /// Files under `dir` (relative, `/`-separated), recursively, that end in
    /// one of `suffixes`; skips build output and hidden directories.
    pub fn files_under(&self, dir: &str, suffixes: &[&str]) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut stack = vec![dir.trim_end_matches('/').to_owned()];
        while let Some(rel) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&rel)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if name != "target" && !name.starts_with('.') {
                        stack.push(child);
                    }
                } else if suffixes.iter().any(|s| name.ends_with(s)) {
                    found.insert(child);
                }
            }
        }
        let prefix = if dir.is_empty() { String::new() } else { format!("{}/", dir.trim_end_matches('/')) };
        for (path, text) in &self.overlay {
            if path.starts_with(&prefix) && suffixes.iter().any(|s| path.ends_with(s)) {
                if text.is_some() {
                    found.insert(path.clone());
                } else {
                    found.remove(path);
                }
            }
        }
        found
    }

    /// A file of a crate's `tests/` directory (an integration test or its
    /// helpers), as opposed to library sources.
    pub fn is_test_file(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        (0..parts.len().saturating_sub(1)).any(|i| {
            parts[i] == "tests"
                && self
                    .read(&join(&parts[..i], "Cargo.toml"))
                    .is_some_and(|manifest| manifest.lines().any(|l| l.trim() == "[package]"))
        })
    }

    /// Every Rust file under a crate's `tests/` directory.
    pub fn test_files(&self) -> BTreeSet<String> {
        self.files_under("", &[".rs"]).into_iter().filter(|p| self.is_test_file(p)).collect()
    }
}

pub fn join(dirs: &[&str], file: &str) -> String {
    dirs.iter().chain([&file]).copied().collect::<Vec<_>>().join("/")
}
