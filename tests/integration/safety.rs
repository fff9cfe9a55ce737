//! Safety rails: a scratch server that is the source's own server, the cluster user's access
//! to the work dir, and specs of many checks.

use std::path::Path;

/// A spec of many checks still names every reused check name, once per reuse.
#[test]
fn reused_check_names_are_reported_in_a_spec_of_many_checks() {
    let mut text = String::from(
        "name = \"many\"\n[source]\nurl = \"postgres://u@h/db\"\n[backup]\n\
         recipients = [\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\"]\n\
         [[destination]]\nname = \"dr\"\nurl = \"file:///x\"\n",
    );
    for i in 0..20_000 {
        // Checks 5, 6000 and 19999 reuse the names of checks 4, 0 and 7.
        let n = match i {
            5 => 4,
            6000 => 0,
            19_999 => 7,
            n => n,
        };
        text.push_str(&format!(
            "[[check]]\nname = \"rows in t{n:06}\"\nsql = \"select 1\"\nexpect = \"== 1\"\n"
        ));
    }
    let err = firedrill::spec::parse(&text, Path::new("many.toml"), &[], &|_| None).unwrap_err();
    assert!(err.message.contains("has 3 problems"), "{}", err.message);
    for n in [0, 4, 7] {
        assert!(
            err.message
                .contains(&format!("check name `rows in t{n:06}` is used twice")),
            "{}",
            err.message
        );
    }
}
