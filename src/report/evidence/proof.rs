//! What proves that a report is as it was written: a valid signature, or (weaker) copies in
//! the destinations with the same bytes. A report with neither is unproven: nothing shows
//! that it was not edited, however intact its chain looks (editing the newest report breaks
//! no chain, since no report names it yet).

use serde::Serialize;

use super::chain::Signature;
pub use crate::report::store::mirror::Mirrors;

/// How one report is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proof {
    /// Its signature is valid.
    Signed,
    /// Not signed; every copy mirrored in the destinations has the same SHA-256, and at
    /// least one destination holds one. Weaker than a signature: whoever can write both the
    /// folder and the destinations can edit both, unless the destinations use Object Lock.
    Mirrored,
    /// Neither: nothing shows the report was not edited.
    Unproven,
}

impl Proof {
    /// The proof of a report from its signature and its mirrors. A broken signature is
    /// never outweighed by matching mirrors: the report is unproven (and a finding).
    pub fn of(signature: Signature, mirrors: Mirrors) -> Proof {
        match (signature, mirrors) {
            (Signature::Valid, _) => Proof::Signed,
            (Signature::Absent, Mirrors::Match) => Proof::Mirrored,
            _ => Proof::Unproven,
        }
    }

    /// Why a report is unproven, for people; `None` when it is proven.
    pub fn why_unproven(signature: Signature, mirrors: Mirrors) -> Option<String> {
        if Proof::of(signature, mirrors) != Proof::Unproven {
            return None;
        }
        Some(match (signature, mirrors) {
            (Signature::Broken, _) => {
                "its signature is missing or does not hold, so nothing proves its content".into()
            }
            (_, Mirrors::NotCompared) => "not signed, and not compared with mirrored copies: verify with the spec (`report verify SPEC`) to compare the copies in its destinations, or sign reports (`drill.signing-key-file`)".into(),
            (_, Mirrors::NoCopy) => "not signed, and no destination holds a copy to compare it with".into(),
            _ => "not signed, and a copy in a destination differs".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_proves_matching_mirrors_prove_less_and_nothing_else_proves() {
        use Mirrors::*;
        use Signature::*;
        for m in [NotCompared, NoCopy, Differ, Match] {
            assert_eq!(Proof::of(Valid, m), Proof::Signed);
            assert_eq!(Proof::of(Broken, m), Proof::Unproven);
            assert_eq!(Proof::why_unproven(Valid, m), None);
        }
        assert_eq!(Proof::of(Absent, Match), Proof::Mirrored);
        for m in [NotCompared, NoCopy, Differ] {
            assert_eq!(Proof::of(Absent, m), Proof::Unproven);
        }
        assert!(Proof::why_unproven(Absent, NotCompared)
            .unwrap()
            .contains("report verify SPEC"));
        assert!(Proof::why_unproven(Absent, Differ)
            .unwrap()
            .contains("differs"));
        assert_eq!(
            serde_json::to_value([Proof::Signed, Proof::Mirrored, Proof::Unproven]).unwrap(),
            serde_json::json!(["signed", "mirrored", "unproven"])
        );
    }
}
