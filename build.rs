//! Names the commit the binary is built from, for `mve-audit --version`: read from the
//! checkout's `.git` files (no `git` program is started, so the build script works the same
//! when it runs as a Windows program under Wine), or taken from `MVE_AUDIT_COMMIT` when the
//! source has no `.git` (a source archive). Sets `MVE_AUDIT_COMMIT` for `env!`.

use std::fs;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=MVE_AUDIT_COMMIT");
    let given = std::env::var("MVE_AUDIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let commit = given.or_else(|| from_git(Path::new(".git")));
    let text = match commit {
        Some(commit) => format!("commit {}", commit.trim()),
        None => "commit unknown".to_string(),
    };
    println!("cargo:rustc-env=MVE_AUDIT_COMMIT={text}");
}

/// The commit `HEAD` names: a detached hash, or the branch's ref as a loose file or in
/// `packed-refs`. `None` when any of it is missing or not a hash.
fn from_git(git: &Path) -> Option<String> {
    let head_path = git.join("HEAD");
    println!("cargo:rerun-if-changed={}", head_path.display());
    let head = fs::read_to_string(head_path).ok()?;
    let head = head.trim();
    let hash = match head.strip_prefix("ref: ") {
        None => head.to_string(),
        Some(name) => {
            let loose = git.join(name);
            println!("cargo:rerun-if-changed={}", loose.display());
            println!(
                "cargo:rerun-if-changed={}",
                git.join("packed-refs").display()
            );
            match fs::read_to_string(&loose) {
                Ok(text) => text.trim().to_string(),
                Err(_) => fs::read_to_string(git.join("packed-refs"))
                    .ok()?
                    .lines()
                    .find_map(|line| {
                        let (hash, refname) = line.split_once(' ')?;
                        (refname == name).then(|| hash.to_string())
                    })?,
            }
        }
    };
    let is_hash = hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    is_hash.then(|| hash[..12].to_string())
}
