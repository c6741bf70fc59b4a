//! Feed-ecosystem formats: JSON Feed 1.1, the OPML list, RFC 5005 archive pages, and
//! `herald check --json`.

use crate::support::*;

#[test]
fn check_json_through_the_binary() {
    let content = copy_fixture("mixed");
    let run = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_herald"));
        for (key, _) in std::env::vars() {
            if key.starts_with("HERALD_") {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(content.path())
            .args(["check", "--json", "--content", "."])
            .output()
            .unwrap()
    };
    let clean = run();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    let v: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["articles"], 9);
    for key in ["files", "drafts", "index_pages", "skipped", "warnings"] {
        assert!(v[key].is_u64(), "{key}");
    }
    let dates = v["date_sources"].as_array().unwrap();
    assert_eq!(dates.len() as u64, v["articles"].as_u64().unwrap() + v["drafts"].as_u64().unwrap());
    assert!(
        dates
            .iter()
            .any(|d| d["path"] == "talks/2019/06/20190614-70000001.md"
                && d["published"] == "file name"),
        "{dates:?}"
    );
    assert_eq!(v["problems"].as_array().unwrap().len() as u64, v["warnings"].as_u64().unwrap());

    std::fs::write(content.path().join("posts/empty.md"), "").unwrap();
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["skipped"], 1);
    let problem = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "posts/empty.md")
        .expect("the skipped file is a problem");
    assert!(problem["message"].as_str().unwrap().starts_with("skipped"));
}
