//! `cargo xtask codegen [--check]`: the only way `crates/proto/src/gen/` is written.

use std::path::{Path, PathBuf};
use std::process::Command;

use prost::Message as _;

/// Where the generated code lives, relative to the project root.
pub(crate) const GEN_DIR: &str = "crates/proto/src/gen";

/// The file descriptor set written next to the code (schema for the strict decoder and,
/// later, gRPC reflection).
const DESCRIPTOR_FILE: &str = "descriptor.bin";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            return Err(format!(
                "usage: cargo xtask codegen [--check], got {args:?}"
            ));
        }
    };
    let root = crate::project_root();
    if check {
        check_fresh(&root)
    } else {
        generate(&root, &root.join(GEN_DIR))?;
        println!("codegen: wrote {GEN_DIR}");
        Ok(())
    }
}

/// Regenerates into a temporary directory and compares it, file by file, with the committed code.
pub(crate) fn check_fresh(root: &Path) -> Result<(), String> {
    let scratch = std::env::temp_dir().join(format!("switchyard-codegen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let result =
        generate(root, &scratch).and_then(|()| compare_dirs(&scratch, &root.join(GEN_DIR)));
    let _ = std::fs::remove_dir_all(&scratch);
    result.map_err(|why| {
        format!(
            "{why}\nthe generated code is stale: run `cargo xtask codegen` and commit {GEN_DIR}"
        )
    })
}

fn generate(root: &Path, out_dir: &Path) -> Result<(), String> {
    let proto_dir = root.join("proto");
    let files = proto_files(&proto_dir)?;
    let mut compiler = protox::Compiler::new([&proto_dir]).map_err(|e| format!("protox: {e}"))?;
    compiler.include_imports(true).include_source_info(true);
    for file in &files {
        let relative = file.strip_prefix(&proto_dir).map_err(|e| e.to_string())?;
        compiler
            .open_file(relative)
            .map_err(|e| format!("protox: {e:?}"))?;
    }
    let descriptors = compiler.file_descriptor_set();

    std::fs::create_dir_all(out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    let mut config = prost_build::Config::new();
    config
        .out_dir(out_dir)
        .type_attribute(
            ".",
            "#[cfg_attr(feature = \"proptest\", derive(::proptest_derive::Arbitrary))]",
        )
        // A request's operations are boxed: the executor moves requests around (decoded,
        // routed, scheduled), and unboxed the enum is as large as its largest operation.
        .boxed(".switchyard.v1.MessageRequest")
        .compile_fds(descriptors.clone())
        .map_err(|e| format!("prost-build: {e}"))?;

    // The schema without source info: smaller, and all the strict decoder needs.
    let mut schema = descriptors;
    for file in &mut schema.file {
        file.source_code_info = None;
    }
    std::fs::write(out_dir.join(DESCRIPTOR_FILE), schema.encode_to_vec())
        .map_err(|e| format!("write descriptor: {e}"))?;

    // rustfmt the output so that `cargo fmt --check` and the freshness check agree.
    for entry in std::fs::read_dir(out_dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            let status = Command::new("rustfmt")
                .args(["--edition", "2024"])
                .arg(&path)
                .status()
                .map_err(|e| format!("rustfmt: {e}"))?;
            if !status.success() {
                return Err(format!("rustfmt failed on {}", path.display()));
            }
        }
    }
    Ok(())
}

fn proto_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in
            std::fs::read_dir(&next).map_err(|e| format!("read {}: {e}", next.display()))?
        {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn compare_dirs(fresh: &Path, committed: &Path) -> Result<(), String> {
    let names = |dir: &Path| -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| format!("read {}: {e}", dir.display()))? {
            names.push(
                entry
                    .map_err(|e| e.to_string())?
                    .file_name()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        names.sort();
        Ok(names)
    };
    let fresh_names = names(fresh)?;
    let committed_names = names(committed)?;
    if fresh_names != committed_names {
        return Err(format!(
            "generated files {fresh_names:?} differ from committed {committed_names:?}"
        ));
    }
    for name in fresh_names {
        let a = std::fs::read(fresh.join(&name)).map_err(|e| e.to_string())?;
        let b = std::fs::read(committed.join(&name)).map_err(|e| e.to_string())?;
        if a != b {
            return Err(format!(
                "{GEN_DIR}/{name} differs from freshly generated code"
            ));
        }
    }
    Ok(())
}
